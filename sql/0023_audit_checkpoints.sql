-- Signed checkpoints of the audit chain. The chain alone cannot show that its
-- newest events were deleted or that the whole chain was recomputed after a
-- rewrite: both leave a chain that links. A checkpoint is the chain's head
-- (seq, hash) signed with an Ed25519 key kept outside the database, so whoever
-- can change the database cannot forge one; `barrier audit verify` checks each
-- checkpoint's signature against the trusted public key and that the event it
-- names still has the hash it signed.
CREATE TABLE audit_checkpoints (
    id bigserial PRIMARY KEY,
    seq bigint NOT NULL CHECK (seq >= 0),
    hash bytea NOT NULL CHECK (length(hash) = 32),
    signed_at timestamptz NOT NULL,
    -- The first 16 hex digits of the SHA-256 of the raw public key: which key signed.
    key_id text NOT NULL CHECK (key_id ~ '^[0-9a-f]{16}$'),
    signature bytea NOT NULL CHECK (length(signature) = 64)
);
CREATE INDEX audit_checkpoints_seq_idx ON audit_checkpoints (seq);

-- Append-only, like the chain it anchors.
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();

-- The server (barrier_app) reads and adds checkpoints; nothing else.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_checkpoints FROM barrier_app;
GRANT SELECT, INSERT ON audit_checkpoints TO barrier_app;
GRANT USAGE, SELECT ON SEQUENCE audit_checkpoints_id_seq TO barrier_app;

-- The head of the whole chain (every agency's events), for signing: row-level
-- security would show the app role only its own agency's newest event.
CREATE FUNCTION audit_head(OUT seq bigint, OUT hash bytea) LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp AS $$
    SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1
$$;
