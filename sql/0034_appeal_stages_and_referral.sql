-- Appeals in stages, outcomes that vary a decision, interim relief, and referral.
--
-- An appeal goes through the remedies the agency's procedure profile chains
-- (objection, then court): one row per stage, numbered from 1, each naming the
-- profile's remedy. An outcome is upheld, varied (the action's new terms, with
-- the terms they replace, so the action's earlier version stays readable) or
-- overturned. A court or the body hearing the appeal can order interim relief
-- that suspends the decision until the stage is decided.
--
-- A referral is an action of its own type: the agency sends the file to the
-- authority its profile names as competent (a `referral` letter addressed to
-- it), and records that authority's outcome when it is known (`concluded`).

ALTER TABLE licensing_actions DROP CONSTRAINT licensing_actions_type_check;
ALTER TABLE licensing_actions ADD CONSTRAINT licensing_actions_type_check
    CHECK (type IN ('warning', 'conditions', 'fine', 'suspension', 'revocation', 'referral'));
ALTER TABLE licensing_actions DROP CONSTRAINT licensing_actions_suggested_type_check;
ALTER TABLE licensing_actions ADD CONSTRAINT licensing_actions_suggested_type_check
    CHECK (suggested_type IN ('warning', 'conditions', 'fine', 'suspension', 'revocation'));
ALTER TABLE licensing_actions DROP CONSTRAINT licensing_actions_status_check;
ALTER TABLE licensing_actions ADD CONSTRAINT licensing_actions_status_check
    CHECK (status IN ('proposed', 'notice_of_intent', 'decided', 'appealed', 'upheld', 'varied', 'overturned', 'lifted', 'expired',
                      'withdrawn', 'concluded'));
ALTER TABLE licensing_action_events DROP CONSTRAINT licensing_action_events_status_check;
ALTER TABLE licensing_action_events ADD CONSTRAINT licensing_action_events_status_check
    CHECK (status IN ('proposed', 'notice_of_intent', 'decided', 'appealed', 'upheld', 'varied', 'overturned', 'lifted', 'expired',
                      'withdrawn', 'concluded'));
-- A restrictive decision says from when it acts; a warning and a referral restrict nothing.
DO $$
DECLARE c text;
BEGIN
    SELECT conname INTO STRICT c FROM pg_constraint
    WHERE conrelid = 'licensing_actions'::regclass AND contype = 'c'
      AND pg_get_constraintdef(oid) = 'CHECK (((decided_on IS NULL) OR (type = ''warning''::text) OR (effective_from IS NOT NULL)))';
    EXECUTE format('ALTER TABLE licensing_actions DROP CONSTRAINT %I', c);
END $$;
ALTER TABLE licensing_actions ADD CONSTRAINT licensing_actions_decided_from
    CHECK (decided_on IS NULL OR type IN ('warning', 'referral') OR effective_from IS NOT NULL);
-- A referral restricts nothing, so it has no dates.
ALTER TABLE licensing_actions ADD CONSTRAINT licensing_actions_referral_no_dates
    CHECK (type <> 'referral' OR (effective_from IS NULL AND effective_to IS NULL));

-- The competent authority's outcome of a referral.
ALTER TABLE licensing_actions
    ADD COLUMN referral_outcome text CHECK (referral_outcome IN ('action_taken', 'no_action', 'declined')),
    ADD COLUMN referral_outcome_on date,
    ADD COLUMN referral_outcome_note text CHECK (length(btrim(referral_outcome_note)) BETWEEN 1 AND 20000),
    ADD CONSTRAINT licensing_actions_referral_outcome
        CHECK ((referral_outcome IS NULL) = (referral_outcome_on IS NULL) AND (referral_outcome IS NULL) = (referral_outcome_note IS NULL)
               AND (referral_outcome IS NULL OR type = 'referral')),
    ADD CONSTRAINT licensing_actions_concluded CHECK (status <> 'concluded' OR referral_outcome IS NOT NULL);

-- Appeals by stage.
ALTER TABLE licensing_appeals DROP CONSTRAINT licensing_appeals_pkey;
ALTER TABLE licensing_appeals ADD COLUMN stage integer NOT NULL DEFAULT 1 CHECK (stage BETWEEN 1 AND 9);
ALTER TABLE licensing_appeals ALTER COLUMN stage DROP DEFAULT;
ALTER TABLE licensing_appeals ADD PRIMARY KEY (action_id, stage);
ALTER TABLE licensing_appeals
    -- The profile's key of the remedy (`bezwaar`, `beroep`) and its name when lodged; null: the profile named none.
    ADD COLUMN remedy text CHECK (length(remedy) BETWEEN 1 AND 100),
    ADD COLUMN remedy_name text CHECK (length(remedy_name) BETWEEN 1 AND 300),
    -- Whether the agency judged the time limit (the remedy lodged with it) or a court does.
    ADD COLUMN period_judged_by_agency boolean NOT NULL DEFAULT true,
    ADD COLUMN outcome_notified_on date,
    ADD COLUMN previous_terms jsonb,
    ADD COLUMN varied_terms jsonb,
    ADD COLUMN relief_ordered_on date,
    ADD COLUMN relief_ordered_by text CHECK (length(btrim(relief_ordered_by)) BETWEEN 1 AND 300),
    ADD COLUMN relief_reason text CHECK (length(btrim(relief_reason)) BETWEEN 1 AND 20000),
    ADD COLUMN relief_recorded_by_label text;
ALTER TABLE licensing_appeals ALTER COLUMN period_ended_on DROP NOT NULL;
ALTER TABLE licensing_appeals DROP CONSTRAINT licensing_appeals_outcome_check;
ALTER TABLE licensing_appeals ADD CONSTRAINT licensing_appeals_outcome_check CHECK (outcome IN ('upheld', 'varied', 'overturned'));
ALTER TABLE licensing_appeals
    ADD CONSTRAINT licensing_appeals_varied CHECK ((outcome = 'varied') = (varied_terms IS NOT NULL) AND (varied_terms IS NULL) = (previous_terms IS NULL)),
    ADD CONSTRAINT licensing_appeals_relief
        CHECK ((relief_ordered_on IS NULL) = (relief_ordered_by IS NULL) AND (relief_ordered_on IS NULL) = (relief_reason IS NULL)
               AND (relief_ordered_on IS NULL OR relief_ordered_on >= lodged_on)),
    ADD CONSTRAINT licensing_appeals_notified CHECK (outcome_notified_on IS NULL OR (outcome_on IS NOT NULL AND outcome_notified_on >= outcome_on));
-- A stage is lodged only after the one before it was decided.
CREATE FUNCTION licensing_appeals_in_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.stage > 1 AND NOT EXISTS (SELECT 1 FROM licensing_appeals p WHERE p.action_id = NEW.action_id AND p.stage = NEW.stage - 1
                                                                         AND p.outcome IS NOT NULL AND p.outcome_on <= NEW.lodged_on) THEN
        RAISE EXCEPTION 'appeal stage % of action % is lodged before stage % was decided', NEW.stage, NEW.action_id, NEW.stage - 1
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER licensing_appeals_in_order BEFORE INSERT ON licensing_appeals FOR EACH ROW EXECUTE FUNCTION licensing_appeals_in_order();

-- The referral letter goes to the authority, and belongs to its action like the other licensing letters.
ALTER TABLE letters DROP CONSTRAINT letters_kind_check;
ALTER TABLE letters ADD CONSTRAINT letters_kind_check
    CHECK (kind IN ('inform_call_to_action', 'reminder', 'warning', 'notice_of_intent', 'decision_notice', 'referral'));
ALTER TABLE letters DROP CONSTRAINT letters_action_kind;
ALTER TABLE letters ADD CONSTRAINT letters_action_kind
    CHECK ((licensing_action_id IS NOT NULL) = (kind IN ('warning', 'notice_of_intent', 'decision_notice', 'referral')));
ALTER TABLE letter_templates DROP CONSTRAINT letter_templates_kind_check;
ALTER TABLE letter_templates ADD CONSTRAINT letter_templates_kind_check
    CHECK (kind IN ('inform_call_to_action', 'reminder', 'warning', 'notice_of_intent', 'decision_notice', 'referral'));
