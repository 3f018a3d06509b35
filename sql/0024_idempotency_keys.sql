-- Idempotency keys of the API's POST requests (header `Idempotency-Key`): a
-- client that retries a POST after a lost answer gets the first answer again
-- instead of a second change. A key belongs to the user who sent it, so the
-- same key from another user is another key; row-level security keeps each
-- agency's keys (and the answers stored with them) to that agency.
--
-- A row is claimed before the request runs (`completed_at` NULL, `attempt`
-- naming the run that holds it) and holds the first answer once there is one.
-- A claim older than a few minutes without an answer (a crashed server) may be
-- taken over by a retry of the same request. Keys last 24 hours from their
-- first use: older rows are ignored and deleted by the server's hourly sweep.
CREATE TABLE idempotency_keys (
    agency_id uuid NOT NULL DEFAULT current_agency() REFERENCES agencies (id),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- What the key stands for: the method, the path with its query, the SHA-256 of the raw body.
    method text NOT NULL,
    path text NOT NULL,
    request_sha256 bytea NOT NULL CHECK (length(request_sha256) = 32),
    attempt uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    -- The first answer: status, the headers worth repeating, the body.
    response_status smallint CHECK (response_status BETWEEN 100 AND 599),
    response_headers jsonb,
    response_body bytea,
    PRIMARY KEY (user_id, key),
    CHECK ((completed_at IS NULL) = (response_status IS NULL))
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON idempotency_keys USING (agency_id = current_agency()) WITH CHECK (agency_id = current_agency());
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO barrier_app;
