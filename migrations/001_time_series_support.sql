-- Time-series tables are TimescaleDB hypertables when the extension is available, else native monthly
-- range partitions with a default partition. The same queries work on both.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
    BEGIN
      CREATE EXTENSION IF NOT EXISTS timescaledb;
    EXCEPTION WHEN OTHERS THEN
      RAISE NOTICE 'timescaledb is available but could not be created (%): using native partitions', SQLERRM;
    END;
  END IF;
END $$;

CREATE OR REPLACE FUNCTION ts_has_timescale() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')
$$;

-- create_time_series_table('bars', 'symbol text not null, ...', 'symbol, timeframe, ts', 'ts')
CREATE OR REPLACE FUNCTION create_time_series_table(tbl text, columns text, pk text, time_col text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF ts_has_timescale() THEN
    EXECUTE format('CREATE TABLE %I (%s, PRIMARY KEY (%s))', tbl, columns, pk);
    EXECUTE format('SELECT create_hypertable(%L, %L, chunk_time_interval => interval ''30 days'')', tbl, time_col);
  ELSE
    EXECUTE format('CREATE TABLE %I (%s, PRIMARY KEY (%s)) PARTITION BY RANGE (%I)', tbl, columns, pk, time_col);
    EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', tbl || '_default', tbl);
  END IF;
END $$;

-- Creates the monthly partitions covering [from_ts, to_ts) when native partitioning is in use; a no-op on
-- TimescaleDB. Rows already in the default partition for a new month are moved into it.
CREATE OR REPLACE FUNCTION ensure_time_partitions(tbl text, from_ts timestamptz, to_ts timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  m timestamptz := date_trunc('month', from_ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  part text;
  created integer := 0;
  moved integer;
BEGIN
  IF ts_has_timescale() THEN RETURN 0; END IF;
  WHILE m < to_ts LOOP
    part := format('%s_p%s', tbl, to_char(m AT TIME ZONE 'UTC', 'YYYYMM'));
    IF to_regclass(part) IS NULL THEN
      PERFORM pg_advisory_xact_lock(hashtext(part));
      IF to_regclass(part) IS NULL THEN
        EXECUTE format('CREATE TEMP TABLE _moving ON COMMIT DROP AS SELECT * FROM %I WHERE false', tbl || '_default');
        EXECUTE format('WITH d AS (DELETE FROM %I WHERE ts >= %L AND ts < %L RETURNING *) INSERT INTO _moving SELECT * FROM d',
          tbl || '_default', m, m + interval '1 month');
        GET DIAGNOSTICS moved = ROW_COUNT;
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', part, tbl, m, m + interval '1 month');
        IF moved > 0 THEN EXECUTE format('INSERT INTO %I SELECT * FROM _moving', tbl); END IF;
        DROP TABLE _moving;
        created := created + 1;
      END IF;
    END IF;
    m := m + interval '1 month';
  END LOOP;
  RETURN created;
END $$;
