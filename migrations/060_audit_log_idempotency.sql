-- An order or control action is audited by an activity, and activities retry: the caller passes an
-- idempotency key (e.g. the client order id + event) so a retried write finds the row its first attempt made.
-- Adding a column is DDL, not an UPDATE, so the append-only trigger does not fire.
ALTER TABLE audit_log ADD COLUMN idempotency_key text;
CREATE UNIQUE INDEX audit_log_idempotency_key ON audit_log (idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX audit_log_actor ON audit_log (actor);
CREATE INDEX audit_log_workflow_id ON audit_log (workflow_id) WHERE workflow_id IS NOT NULL;
