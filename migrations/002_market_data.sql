-- Bars: one row per (symbol, timeframe, ts); ts is the bar's start. `synthetic` marks generated data.
SELECT create_time_series_table('bars', $cols$
  symbol      text             NOT NULL,
  timeframe   text             NOT NULL CHECK (timeframe IN ('1m','5m','15m','1h','1d')),
  ts          timestamptz      NOT NULL,
  open        double precision NOT NULL,
  high        double precision NOT NULL,
  low         double precision NOT NULL,
  close       double precision NOT NULL,
  volume      double precision NOT NULL,
  vwap        double precision,
  trade_count integer,
  source      text             NOT NULL,
  synthetic   boolean          NOT NULL DEFAULT false,
  ingested_at timestamptz      NOT NULL DEFAULT now()
$cols$, 'symbol, timeframe, ts', 'ts');

SELECT create_time_series_table('quotes', $cols$
  symbol      text             NOT NULL,
  ts          timestamptz      NOT NULL,
  bid         double precision,
  ask         double precision,
  bid_size    double precision,
  ask_size    double precision,
  source      text             NOT NULL,
  synthetic   boolean          NOT NULL DEFAULT false,
  ingested_at timestamptz      NOT NULL DEFAULT now()
$cols$, 'symbol, ts', 'ts');

CREATE TABLE options_flow (
  id           text        PRIMARY KEY,
  symbol       text        NOT NULL,
  ts           timestamptz NOT NULL,
  option_symbol text,
  side         text,
  put_call     text,
  strike       double precision,
  expiry       date,
  premium      double precision,
  size         double precision,
  underlying_price double precision,
  payload      jsonb       NOT NULL,
  source       text        NOT NULL,
  ingested_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX options_flow_symbol_ts ON options_flow (symbol, ts);

-- Every validation finding, with where it came from. Rejected rows are never silently repaired.
CREATE TABLE data_quality (
  id         bigserial   PRIMARY KEY,
  symbol     text        NOT NULL,
  timeframe  text,
  ts         timestamptz,
  rule       text        NOT NULL,
  severity   text        NOT NULL CHECK (severity IN ('reject', 'quarantine', 'warn')),
  value      text,
  detail     text,
  location   text,
  source     text        NOT NULL,
  dataset    text,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX data_quality_symbol_ts ON data_quality (symbol, ts);
CREATE INDEX data_quality_rule ON data_quality (rule);
