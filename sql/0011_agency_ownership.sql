-- Every piece of casework names the agency that owns it. The supplier registry
-- and the catalogues stay shared. Rows written before agencies were kept apart
-- go to the agency of whoever wrote them, or of the letter or parent they
-- belong to, and otherwise to the oldest agency (before this migration one
-- deployment served one agency). New rows take the agency of the transaction
-- (`barrier.agency_id`, set by the application for each caller).

-- The agency the current transaction acts for; NULL when none is set.
CREATE FUNCTION current_agency() RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('barrier.agency_id', true), '')::uuid
$$;

CREATE FUNCTION pg_temp.oldest_agency() RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT id FROM agencies ORDER BY created_at, id LIMIT 1
$$;
CREATE FUNCTION pg_temp.agency_of_user(p_user uuid) RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT agency_id FROM users WHERE id = p_user
$$;

-- Signals: the agency of the officer who recorded the first version.
ALTER TABLE signals ADD COLUMN agency_id uuid REFERENCES agencies (id) DEFAULT current_agency();
UPDATE signals SET agency_id = coalesce(pg_temp.agency_of_user(created_by), pg_temp.oldest_agency());
ALTER TABLE signals ALTER COLUMN agency_id SET NOT NULL;
ALTER TABLE signals ADD UNIQUE (id, agency_id);
CREATE INDEX signals_agency_idx ON signals (agency_id, created_at);

-- Cooperation: each agency keeps its own level per supplier, with its own history.
ALTER TABLE supplier_contacts ADD COLUMN agency_id uuid REFERENCES agencies (id) DEFAULT current_agency();
UPDATE supplier_contacts SET agency_id = coalesce(pg_temp.agency_of_user(created_by), pg_temp.oldest_agency());
ALTER TABLE supplier_contacts ALTER COLUMN agency_id SET NOT NULL;
ALTER TABLE supplier_contacts ADD UNIQUE (id, agency_id);
DROP INDEX supplier_contacts_facilitator_idx;
CREATE INDEX supplier_contacts_facilitator_idx ON supplier_contacts (agency_id, facilitator_id, occurred_on);

ALTER TABLE cooperation_changes ADD COLUMN agency_id uuid REFERENCES agencies (id) DEFAULT current_agency();
ALTER TABLE cooperation_changes DISABLE TRIGGER cooperation_changes_frozen;
UPDATE cooperation_changes c SET agency_id = coalesce(
    (SELECT l.agency_id FROM letters l WHERE l.id = c.letter_id),
    (SELECT s.agency_id FROM supplier_contacts s WHERE s.id = c.contact_id),
    pg_temp.agency_of_user(c.changed_by), pg_temp.oldest_agency());
ALTER TABLE cooperation_changes ENABLE TRIGGER cooperation_changes_frozen;
ALTER TABLE cooperation_changes ALTER COLUMN agency_id SET NOT NULL;
DROP INDEX cooperation_changes_facilitator_idx;
CREATE INDEX cooperation_changes_facilitator_idx ON cooperation_changes (agency_id, facilitator_id, seq);

-- The current level takes the agency of the supplier's latest change.
ALTER TABLE cooperation_levels ADD COLUMN agency_id uuid REFERENCES agencies (id) DEFAULT current_agency();
UPDATE cooperation_levels l SET agency_id = coalesce(
    (SELECT c.agency_id FROM cooperation_changes c WHERE c.facilitator_id = l.facilitator_id ORDER BY c.seq DESC LIMIT 1),
    pg_temp.oldest_agency());
ALTER TABLE cooperation_levels ALTER COLUMN agency_id SET NOT NULL;
ALTER TABLE cooperation_levels DROP CONSTRAINT cooperation_levels_pkey;
ALTER TABLE cooperation_levels ADD PRIMARY KEY (agency_id, facilitator_id);
CREATE INDEX cooperation_levels_facilitator_idx ON cooperation_levels (facilitator_id);
DROP INDEX cooperation_levels_level_idx;
CREATE INDEX cooperation_levels_level_idx ON cooperation_levels (agency_id, level);

ALTER TABLE measure_commitments ADD COLUMN agency_id uuid REFERENCES agencies (id) DEFAULT current_agency();
UPDATE measure_commitments c SET agency_id = coalesce(
    (SELECT l.agency_id FROM letters l WHERE l.id = c.letter_id),
    pg_temp.agency_of_user(c.created_by), pg_temp.oldest_agency());
ALTER TABLE measure_commitments ALTER COLUMN agency_id SET NOT NULL;
ALTER TABLE measure_commitments DROP CONSTRAINT measure_commitments_facilitator_id_measure_code_key;
ALTER TABLE measure_commitments ADD UNIQUE (agency_id, facilitator_id, measure_code);

-- Letters' e-mails and the background jobs of a campaign or a letter.
ALTER TABLE letter_emails ADD COLUMN agency_id uuid REFERENCES agencies (id) DEFAULT current_agency();
UPDATE letter_emails e SET agency_id = (SELECT l.agency_id FROM letters l WHERE l.id = e.letter_id);
ALTER TABLE letter_emails ALTER COLUMN agency_id SET NOT NULL;

ALTER TABLE jobs ADD COLUMN agency_id uuid REFERENCES agencies (id) DEFAULT current_agency();
UPDATE jobs j SET agency_id = coalesce(
    (SELECT c.agency_id FROM campaigns c WHERE c.id = j.subject_id),
    (SELECT l.agency_id FROM letters l WHERE l.id = j.subject_id),
    pg_temp.oldest_agency());
ALTER TABLE jobs ALTER COLUMN agency_id SET NOT NULL;

-- Browser sessions belong to their user's agency.
ALTER TABLE web_sessions ADD COLUMN agency_id uuid REFERENCES agencies (id);
UPDATE web_sessions s SET agency_id = pg_temp.agency_of_user(s.user_id);
ALTER TABLE web_sessions ALTER COLUMN agency_id SET NOT NULL;

-- New casework rows take the transaction's agency unless the code names one.
ALTER TABLE letters ALTER COLUMN agency_id SET DEFAULT current_agency();
ALTER TABLE campaigns ALTER COLUMN agency_id SET DEFAULT current_agency();
ALTER TABLE licensing_actions ALTER COLUMN agency_id SET DEFAULT current_agency();
ALTER TABLE action_plans ALTER COLUMN agency_id SET DEFAULT current_agency();

-- Indexes for the agency's lists.
CREATE INDEX letters_agency_idx ON letters (agency_id, created_at);
CREATE INDEX campaigns_agency_idx ON campaigns (agency_id, created_at);
CREATE INDEX licensing_actions_agency_idx ON licensing_actions (agency_id, proposed_at);
CREATE INDEX audit_events_agency_idx ON audit_events (agency_id, seq);
