-- The suppliers an import created, one row each, keyed by the import's audit
-- event: the event records the file's SHA-256 and its counts, and a million ids
-- stay out of its JSON (a million-id document cost tens of megabytes in the
-- event, the chain's hash and every reader of the log). Append-only, like the
-- chain it belongs to.
CREATE TABLE import_rows (
    audit_seq bigint NOT NULL,
    facilitator_id uuid NOT NULL,
    PRIMARY KEY (audit_seq, facilitator_id)
);

CREATE TRIGGER import_rows_no_update BEFORE UPDATE OR DELETE ON import_rows
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER import_rows_no_truncate BEFORE TRUNCATE ON import_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();

REVOKE UPDATE, DELETE, TRUNCATE ON import_rows FROM barrier_app;
GRANT SELECT, INSERT ON import_rows TO barrier_app;
