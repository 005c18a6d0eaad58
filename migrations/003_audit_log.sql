-- Append-only record of every order and control action: who, what, when, why.
CREATE TABLE audit_log (
  id         bigserial   PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  actor      text        NOT NULL,
  action     text        NOT NULL,
  subject    text,
  reason     text,
  details    jsonb       NOT NULL DEFAULT '{}'::jsonb,
  workflow_id text,
  run_id     text
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_action ON audit_log (action);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- The walking skeleton's heartbeat table: proves a workflow's activity reached Postgres.
CREATE TABLE skeleton_pings (
  id          bigserial   PRIMARY KEY,
  workflow_id text        NOT NULL,
  message     text        NOT NULL,
  at          timestamptz NOT NULL DEFAULT now(),
  UNIQUE (workflow_id)
);
