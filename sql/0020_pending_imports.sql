-- A CSV file uploaded in the browser waits here between its preview and the
-- user's confirmation, so that what was checked and shown is exactly what is
-- written, whichever server instance takes the confirmation. Confirming deletes
-- the row in the import's own transaction (a second click finds nothing); an
-- unconfirmed upload is dropped after an hour. Each agency sees only its own.
CREATE TABLE pending_imports (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agency_id uuid NOT NULL DEFAULT current_agency() REFERENCES agencies (id),
    user_id uuid REFERENCES users (id),
    file_name text NOT NULL CHECK (length(file_name) <= 255),
    file_sha256 text NOT NULL CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
    content bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pending_imports_created_idx ON pending_imports (created_at);

ALTER TABLE pending_imports ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON pending_imports USING (agency_id = current_agency()) WITH CHECK (agency_id = current_agency());
