-- The append-only, hash-chained audit log: the chain of custody for every change.
CREATE SEQUENCE audit_events_seq;

CREATE TABLE audit_events (
    seq bigint PRIMARY KEY,
    occurred_at timestamptz NOT NULL,
    actor_id uuid REFERENCES users (id),
    actor_label text NOT NULL,
    agency_id uuid REFERENCES agencies (id),
    action text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    entity_type text NOT NULL,
    entity_id text,
    before jsonb,
    after jsonb,
    request_id text,
    prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash bytea NOT NULL UNIQUE CHECK (length(hash) = 32)
);
CREATE INDEX audit_events_entity_idx ON audit_events (entity_type, entity_id, seq);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, seq);
CREATE INDEX audit_events_time_idx ON audit_events (occurred_at);

-- The exact text that an event's hash covers. `barrier audit verify` rebuilds the
-- same text from the stored columns, so the two must agree field for field.
CREATE FUNCTION audit_canonical(
    p_seq bigint, p_occurred_at timestamptz, p_actor_id uuid, p_actor_label text, p_agency_id uuid,
    p_action text, p_entity_type text, p_entity_id text, p_before jsonb, p_after jsonb,
    p_request_id text, p_prev_hash bytea
) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws(E'\n',
        p_seq::text,
        (extract(epoch FROM p_occurred_at) * 1000000)::bigint::text,
        coalesce(p_actor_id::text, ''),
        p_actor_label,
        coalesce(p_agency_id::text, ''),
        p_action,
        p_entity_type,
        coalesce(p_entity_id, ''),
        coalesce(p_before::text, ''),
        coalesce(p_after::text, ''),
        coalesce(p_request_id, ''),
        encode(p_prev_hash, 'hex'))
$$;

-- Appends one event. The advisory lock serialises appenders until their
-- transaction ends, so two writers can never link to the same previous event.
CREATE FUNCTION audit_append(
    p_actor_id uuid, p_actor_label text, p_agency_id uuid, p_action text,
    p_entity_type text, p_entity_id text, p_before jsonb, p_after jsonb, p_request_id text
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_prev bytea;
    v_seq bigint;
    v_at timestamptz := date_trunc('microseconds', clock_timestamp());
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('barrier.audit_chain'));
    SELECT hash INTO v_prev FROM audit_events ORDER BY seq DESC LIMIT 1;
    v_prev := coalesce(v_prev, decode(repeat('00', 32), 'hex'));
    v_seq := nextval('audit_events_seq');
    INSERT INTO audit_events (seq, occurred_at, actor_id, actor_label, agency_id, action, entity_type,
                              entity_id, before, after, request_id, prev_hash, hash)
    VALUES (v_seq, v_at, p_actor_id, p_actor_label, p_agency_id, p_action, p_entity_type, p_entity_id,
            p_before, p_after, p_request_id, v_prev,
            sha256(convert_to(audit_canonical(v_seq, v_at, p_actor_id, p_actor_label, p_agency_id, p_action,
                p_entity_type, p_entity_id, p_before, p_after, p_request_id, v_prev), 'UTF8')));
    RETURN v_seq;
END
$$;

CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();
