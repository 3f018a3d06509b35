-- Sharing one signal with another agency, on purpose: with the legal basis and
-- a handling note, audited, revocable. The receiving agency reads the signal
-- (and its versions, suppliers and attachments) and may rely on it as evidence;
-- it never changes it. Nothing else crosses the boundary.

CREATE TABLE signal_shares (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    signal_id uuid NOT NULL,
    -- The sharing agency, which owns the signal (the key below makes that so).
    agency_id uuid NOT NULL DEFAULT current_agency() REFERENCES agencies (id),
    shared_with uuid NOT NULL REFERENCES agencies (id) CHECK (shared_with <> agency_id),
    legal_basis text NOT NULL CHECK (length(btrim(legal_basis)) BETWEEN 1 AND 500),
    handling_note text NOT NULL DEFAULT '' CHECK (length(handling_note) <= 5000),
    shared_at timestamptz NOT NULL DEFAULT now(),
    shared_by uuid REFERENCES users (id),
    shared_by_label text NOT NULL,
    revoked_at timestamptz,
    revoked_by_label text,
    revocation_reason text CHECK (length(btrim(revocation_reason)) BETWEEN 1 AND 5000),
    version integer NOT NULL DEFAULT 1 CHECK (version > 0),
    FOREIGN KEY (signal_id, agency_id) REFERENCES signals (id, agency_id),
    CHECK ((revoked_at IS NULL) = (revocation_reason IS NULL) AND (revoked_at IS NULL) = (revoked_by_label IS NULL))
);
-- One open share per signal and receiving agency.
CREATE UNIQUE INDEX signal_shares_open_idx ON signal_shares (signal_id, shared_with) WHERE revoked_at IS NULL;
CREATE INDEX signal_shares_receiver_idx ON signal_shares (shared_with, signal_id) WHERE revoked_at IS NULL;

ALTER TABLE signal_shares ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON signal_shares USING (agency_id = current_agency()) WITH CHECK (agency_id = current_agency());
CREATE POLICY received ON signal_shares FOR SELECT USING (shared_with = current_agency());

-- The receiver reads a shared signal; only the owner changes it (the owner's
-- policy of 0012 stays the only one for UPDATE, DELETE and locking).
CREATE POLICY shared_with_me ON signals FOR SELECT USING (EXISTS (
    SELECT 1 FROM signal_shares s WHERE s.signal_id = signals.id AND s.shared_with = current_agency() AND s.revoked_at IS NULL));

-- A signal's parts: readable wherever the signal is, written only by its owner.
DROP POLICY own_agency ON signal_versions;
CREATE POLICY readable ON signal_versions FOR SELECT USING (EXISTS (SELECT 1 FROM signals p WHERE p.id = signal_id));
CREATE POLICY own_agency ON signal_versions
    USING (EXISTS (SELECT 1 FROM signals p WHERE p.id = signal_id AND p.agency_id = current_agency()))
    WITH CHECK (EXISTS (SELECT 1 FROM signals p WHERE p.id = signal_id AND p.agency_id = current_agency()));
DROP POLICY own_agency ON signal_facilitators;
CREATE POLICY readable ON signal_facilitators FOR SELECT USING (EXISTS (SELECT 1 FROM signals p WHERE p.id = signal_id));
CREATE POLICY own_agency ON signal_facilitators
    USING (EXISTS (SELECT 1 FROM signals p WHERE p.id = signal_id AND p.agency_id = current_agency()))
    WITH CHECK (EXISTS (SELECT 1 FROM signals p WHERE p.id = signal_id AND p.agency_id = current_agency()));
DROP POLICY own_agency ON signal_attachments;
CREATE POLICY readable ON signal_attachments FOR SELECT USING (EXISTS (SELECT 1 FROM signals p WHERE p.id = signal_id));
CREATE POLICY own_agency ON signal_attachments
    USING (EXISTS (SELECT 1 FROM signals p WHERE p.id = signal_id AND p.agency_id = current_agency()))
    WITH CHECK (EXISTS (SELECT 1 FROM signals p WHERE p.id = signal_id AND p.agency_id = current_agency()));
