-- ensure_time_partitions, safe under concurrent callers: two transactions that both find a month's partition
-- missing serialise on the advisory lock, but the second may still see the catalog as it was before the first
-- committed (an advisory lock does not refresh it) and then fail with "relation ... already exists". The month's
-- work now runs in a subtransaction: a duplicate_table there is undone (the rows it moved out of the default
-- partition go back) and the partition the other caller created is used.
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
        BEGIN
          EXECUTE format('CREATE TEMP TABLE _moving ON COMMIT DROP AS SELECT * FROM %I WHERE false', tbl || '_default');
          EXECUTE format('WITH d AS (DELETE FROM %I WHERE ts >= %L AND ts < %L RETURNING *) INSERT INTO _moving SELECT * FROM d',
            tbl || '_default', m, m + interval '1 month');
          GET DIAGNOSTICS moved = ROW_COUNT;
          EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', part, tbl, m, m + interval '1 month');
          IF moved > 0 THEN EXECUTE format('INSERT INTO %I SELECT * FROM _moving', tbl); END IF;
          DROP TABLE _moving;
          created := created + 1;
        EXCEPTION WHEN duplicate_table THEN
          -- another transaction created it after this one's catalog snapshot: nothing here took effect
          NULL;
        END;
      END IF;
    END IF;
    m := m + interval '1 month';
  END LOOP;
  RETURN created;
END $$;
