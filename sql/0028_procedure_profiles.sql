-- Procedure profiles: the administrative law an agency acts under (its
-- powers per action type, the remedies against its decisions with their
-- bodies, periods and starts, suspensive effect, publication, fine payment,
-- the data-protection notice, how deadlines are counted). Letters state law
-- only from here; BarrierCore.ProcedureProfile reads and checks the JSON.
--
-- The shipped starting profiles (templates/procedure-profiles/<cc>.json) are
-- stored by the owner at every migration, like the shipped letter templates.
-- An agency that has stored no profile of its own acts under the shipped one
-- of its country (or `default`), as version 0; an admin's edit stores version
-- 1, 2, … . A stored version never changes: letters keep the version they
-- were written under.
CREATE TABLE shipped_procedure_profiles (
    jurisdiction text PRIMARY KEY CHECK (jurisdiction = 'default' OR jurisdiction ~ '^[A-Z]{2}$'),
    body jsonb NOT NULL,
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    stored_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT ON shipped_procedure_profiles TO barrier_app;

CREATE TABLE procedure_profiles (
    agency_id uuid NOT NULL REFERENCES agencies (id),
    version integer NOT NULL CHECK (version >= 1),
    body jsonb NOT NULL,
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid REFERENCES users (id),
    created_by_label text NOT NULL,
    PRIMARY KEY (agency_id, version)
);

CREATE FUNCTION procedure_profiles_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a stored procedure profile version never changes; store a new version';
END $$;
CREATE TRIGGER procedure_profiles_no_update BEFORE UPDATE OR DELETE ON procedure_profiles
    FOR EACH ROW EXECUTE FUNCTION procedure_profiles_refuse_change();

ALTER TABLE procedure_profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON procedure_profiles USING (agency_id = current_agency()) WITH CHECK (agency_id = current_agency());
GRANT SELECT, INSERT ON procedure_profiles TO barrier_app;


-- What the deciding officer wrote to show the record was weighed: how the
-- supplier's response to the notice of intent was considered, and why its
-- cooperation or verified measures do not suffice. The guard requires each
-- where it applies; the decision notice states them.
ALTER TABLE licensing_actions
    ADD COLUMN consideration text CHECK (length(btrim(consideration)) BETWEEN 1 AND 20000),
    ADD COLUMN cooperation_reason text CHECK (length(btrim(cooperation_reason)) BETWEEN 1 AND 20000);

-- The version of each linked signal the action relies on: the version current
-- when it was linked, and each version confirmed since by linking it again. A
-- signal corrected after that is evidence the decider has not read: the guard
-- says so (`evidence_changed`) until it is confirmed.
CREATE TABLE licensing_evidence_versions (
    action_id uuid NOT NULL,
    signal_id uuid NOT NULL,
    version integer NOT NULL CHECK (version > 0),
    confirmed_at timestamptz NOT NULL DEFAULT now(),
    confirmed_by_label text NOT NULL,
    PRIMARY KEY (action_id, signal_id, version),
    FOREIGN KEY (action_id, signal_id) REFERENCES licensing_action_signals (action_id, signal_id)
);
CREATE TRIGGER licensing_evidence_versions_frozen BEFORE UPDATE OR DELETE ON licensing_evidence_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
INSERT INTO licensing_evidence_versions (action_id, signal_id, version, confirmed_at, confirmed_by_label)
SELECT s.action_id, s.signal_id, (SELECT max(v.version) FROM signal_versions v WHERE v.signal_id = s.signal_id), s.linked_at, s.linked_by_label
FROM licensing_action_signals s;
ALTER TABLE licensing_evidence_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON licensing_evidence_versions USING (EXISTS (SELECT 1 FROM licensing_actions p WHERE p.id = action_id));
GRANT SELECT, INSERT ON licensing_evidence_versions TO barrier_app;

-- Finality. A decision is final (and may be published) once the period of the
-- remedy against it has run out without an appeal, or the appeal was decided
-- and upheld. The last day of that period is counted by BarrierCore from the
-- agency's procedure profile (from the decision letter's delivery or date,
-- moved off rest days and holidays) when the letter is approved or delivered,
-- and kept here; NULL while it has not started. `appeal_suspends` is the
-- profile's suspensive effect for the action's type at the decision.
ALTER TABLE licensing_actions
    ADD COLUMN appeal_ends_on date,
    ADD COLUMN appeal_suspends boolean NOT NULL DEFAULT true;
