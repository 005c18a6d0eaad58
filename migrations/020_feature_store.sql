-- Feature store, offline half. Every stored vector names the feature-set version (a hash of the feature
-- set's definition) it was computed with; the definition itself is kept in feature_sets.
CREATE TABLE feature_sets (
  version        text        PRIMARY KEY,
  name           text        NOT NULL,
  base_timeframe text        NOT NULL CHECK (base_timeframe IN ('1m','5m','15m','1h','1d')),
  names          text[]      NOT NULL,
  definition     jsonb       NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);

-- One row per (symbol, timeframe, version, ts); `vals` is the vector as little-endian float32 bytes
-- (4 × number of features), byte-identical to what the online (Redis) store holds.
SELECT create_time_series_table('feature_vectors', $cols$
  symbol      text        NOT NULL,
  timeframe   text        NOT NULL CHECK (timeframe IN ('1m','5m','15m','1h','1d')),
  version     text        NOT NULL,
  ts          timestamptz NOT NULL,
  vals        bytea       NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now()
$cols$, 'symbol, timeframe, version, ts', 'ts');
-- The primary key's btree also serves "latest vector" lookups (scanned backwards).
