-- Who an audited event was done for: the person behind it (`cli:alice`, or the Temporal identity of a Web UI or
-- `temporal` CLI action), next to the actor that did it (a workflow acting on that person's behalf). Adding a
-- column is DDL, not an UPDATE, so the append-only trigger does not fire; earlier rows keep NULL.
ALTER TABLE audit_log ADD COLUMN operator text;
CREATE INDEX audit_log_operator ON audit_log (operator) WHERE operator IS NOT NULL;
