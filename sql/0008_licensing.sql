-- Licensing actions against suppliers who knowingly keep contributing: the
-- action with its legal basis and evidence, its notice of intent and decision
-- letters, its appeal, and every step of its life.

-- Days a supplier has to appeal a decision, counted in calendar days from the decision letter.
ALTER TABLE agencies ADD COLUMN appeal_days integer NOT NULL DEFAULT 30 CHECK (appeal_days BETWEEN 1 AND 365);

CREATE TABLE licensing_actions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    facilitator_id uuid NOT NULL REFERENCES facilitators (id),
    agency_id uuid NOT NULL REFERENCES agencies (id),
    type text NOT NULL CHECK (type IN ('warning', 'conditions', 'fine', 'suspension', 'revocation')),
    status text NOT NULL DEFAULT 'proposed'
        CHECK (status IN ('proposed', 'notice_of_intent', 'decided', 'appealed', 'upheld', 'overturned', 'lifted', 'expired', 'withdrawn')),
    legal_basis text NOT NULL CHECK (length(btrim(legal_basis)) BETWEEN 1 AND 500),
    rationale text NOT NULL CHECK (length(btrim(rationale)) BETWEEN 1 AND 20000),
    conditions text CHECK (length(btrim(conditions)) BETWEEN 1 AND 10000),
    amount_minor bigint CHECK (amount_minor BETWEEN 1 AND 1000000000000000),
    currency text CHECK (currency ~ '^[A-Z]{3}$'),
    effective_from date,
    effective_to date,
    -- The ladder's suggestion when the action was decided, and why a harsher step was taken.
    suggested_type text CHECK (suggested_type IN ('warning', 'conditions', 'fine', 'suspension', 'revocation')),
    ladder_justification text CHECK (length(btrim(ladder_justification)) BETWEEN 1 AND 5000),
    proposed_at timestamptz NOT NULL DEFAULT now(),
    proposed_by uuid REFERENCES users (id),
    proposed_by_label text NOT NULL,
    decided_on date,
    decided_at timestamptz,
    decided_by uuid REFERENCES users (id),
    decided_by_label text,
    ended_on date,
    end_reason text CHECK (length(btrim(end_reason)) BETWEEN 1 AND 5000),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1 CHECK (version > 0),
    CHECK ((type = 'conditions') = (conditions IS NOT NULL)),
    CHECK ((type = 'fine') = (amount_minor IS NOT NULL AND currency IS NOT NULL)),
    CHECK (type = 'fine' OR (amount_minor IS NULL AND currency IS NULL)),
    CHECK (type <> 'suspension' OR (effective_from IS NOT NULL AND effective_to IS NOT NULL)),
    CHECK (type <> 'warning' OR (effective_from IS NULL AND effective_to IS NULL)),
    CHECK (type <> 'revocation' OR effective_to IS NULL),
    CHECK (effective_to IS NULL OR effective_from IS NULL OR effective_to >= effective_from),
    -- Four eyes: whoever proposed an action does not decide it.
    CHECK (decided_by_label IS NULL OR decided_by_label <> proposed_by_label),
    CHECK (decided_by IS NULL OR proposed_by IS NULL OR decided_by <> proposed_by),
    -- (One-way, so a step can write its dates before it moves the status.)
    CHECK (status IN ('proposed', 'notice_of_intent', 'withdrawn') OR decided_on IS NOT NULL),
    CHECK (decided_on IS NULL OR (decided_at IS NOT NULL AND decided_by_label IS NOT NULL AND suggested_type IS NOT NULL)),
    -- A restrictive decision says from when it acts.
    CHECK (decided_on IS NULL OR type = 'warning' OR effective_from IS NOT NULL),
    CHECK (status NOT IN ('lifted', 'expired', 'withdrawn') OR ended_on IS NOT NULL)
);
CREATE INDEX licensing_actions_facilitator_idx ON licensing_actions (facilitator_id, proposed_at);
CREATE INDEX licensing_actions_status_idx ON licensing_actions (status, effective_to);

-- The evidence an action relies on.
CREATE TABLE licensing_action_signals (
    action_id uuid NOT NULL REFERENCES licensing_actions (id),
    signal_id uuid NOT NULL REFERENCES signals (id),
    linked_at timestamptz NOT NULL DEFAULT now(),
    linked_by_label text NOT NULL,
    PRIMARY KEY (action_id, signal_id)
);
CREATE INDEX licensing_action_signals_signal_idx ON licensing_action_signals (signal_id);
-- Evidence relied on is never unlinked.
CREATE TRIGGER licensing_action_signals_frozen BEFORE UPDATE OR DELETE ON licensing_action_signals
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- One appeal per action; lodging it suspends the action's effect until its outcome.
CREATE TABLE licensing_appeals (
    action_id uuid PRIMARY KEY REFERENCES licensing_actions (id),
    lodged_on date NOT NULL,
    -- The last day it could be lodged, as counted when it was recorded.
    period_ended_on date NOT NULL CHECK (lodged_on <= period_ended_on),
    grounds text NOT NULL CHECK (length(btrim(grounds)) BETWEEN 1 AND 20000),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    recorded_by uuid REFERENCES users (id),
    recorded_by_label text NOT NULL,
    outcome text CHECK (outcome IN ('upheld', 'overturned')),
    outcome_on date CHECK (outcome_on >= lodged_on),
    outcome_reason text CHECK (length(btrim(outcome_reason)) BETWEEN 1 AND 20000),
    outcome_recorded_by_label text,
    CHECK ((outcome IS NULL) = (outcome_on IS NULL) AND (outcome IS NULL) = (outcome_reason IS NULL))
);

-- Every step of an action's life, for its history and the reports.
CREATE TABLE licensing_action_events (
    action_id uuid NOT NULL REFERENCES licensing_actions (id),
    seq integer NOT NULL CHECK (seq > 0),
    status text NOT NULL
        CHECK (status IN ('proposed', 'notice_of_intent', 'decided', 'appealed', 'upheld', 'overturned', 'lifted', 'expired', 'withdrawn')),
    occurred_on date NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    recorded_by uuid REFERENCES users (id),
    recorded_by_label text NOT NULL,
    note text,
    PRIMARY KEY (action_id, seq)
);
CREATE INDEX licensing_action_events_time_idx ON licensing_action_events (occurred_on);
CREATE TRIGGER licensing_action_events_frozen BEFORE UPDATE OR DELETE ON licensing_action_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- The notice of intent and the decision (or warning) letter of an action.
ALTER TABLE letters ADD COLUMN licensing_action_id uuid REFERENCES licensing_actions (id);
ALTER TABLE letters ADD CONSTRAINT letters_action_kind
    CHECK ((licensing_action_id IS NOT NULL) = (kind IN ('warning', 'notice_of_intent', 'decision_notice')));
CREATE INDEX letters_licensing_action_idx ON letters (licensing_action_id) WHERE licensing_action_id IS NOT NULL;

-- The action a letter belongs to is frozen with the rest of an approved letter.
CREATE OR REPLACE FUNCTION letters_keep_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'letter % is approved and cannot be deleted', OLD.reference USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' AND (
        NEW.facilitator_id, NEW.agency_id, NEW.kind, NEW.language, NEW.template_id, NEW.reference, NEW.letter_date,
        NEW.response_deadline, NEW.snapshot, NEW.subject, NEW.html, NEW.text_body, NEW.html_sha256, NEW.text_sha256,
        NEW.layout_sha256, NEW.approved_at, NEW.approved_by, NEW.campaign_id, NEW.reminder_of, NEW.licensing_action_id
    ) IS DISTINCT FROM (
        OLD.facilitator_id, OLD.agency_id, OLD.kind, OLD.language, OLD.template_id, OLD.reference, OLD.letter_date,
        OLD.response_deadline, OLD.snapshot, OLD.subject, OLD.html, OLD.text_body, OLD.html_sha256, OLD.text_sha256,
        OLD.layout_sha256, OLD.approved_at, OLD.approved_by, OLD.campaign_id, OLD.reminder_of, OLD.licensing_action_id
    ) THEN
        RAISE EXCEPTION 'letter % is approved: its text and data are frozen', OLD.reference USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.pdf IS NOT NULL AND (NEW.pdf, NEW.pdf_sha256) IS DISTINCT FROM (OLD.pdf, OLD.pdf_sha256) THEN
        RAISE EXCEPTION 'letter % already has its PDF', OLD.reference USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;

-- A letter's document names the licensing action it belongs to.
CREATE OR REPLACE VIEW letter_documents AS
SELECT l.id, l.version, l.facilitator_id, json_build_object(
        'id', l.id,
        'facilitator_id', l.facilitator_id,
        'supplier_name', f.legal_name,
        'agency_id', l.agency_id,
        'kind', l.kind,
        'language', l.language,
        'status', l.status,
        'template', json_build_object('id', t.id, 'sector_group', nullif(t.sector_group, ''), 'version', t.version,
                                      'sha256', encode(t.sha256, 'hex')),
        'campaign_id', l.campaign_id,
        'reminder_of', l.reminder_of,
        'licensing_action_id', l.licensing_action_id,
        'response_days', l.response_days,
        'requested_deadline', l.requested_deadline,
        'reference', l.reference,
        'subject', l.subject,
        'letter_date', l.letter_date,
        'response_deadline', l.response_deadline,
        'overdue', l.status IN ('sent', 'delivered') AND l.response_deadline < current_date,
        'html_sha256', encode(l.html_sha256, 'hex'),
        'text_sha256', encode(l.text_sha256, 'hex'),
        'pdf_sha256', encode(l.pdf_sha256, 'hex'),
        'layout_sha256', encode(l.layout_sha256, 'hex'),
        'approved_at', l.approved_at,
        'approved_by', l.approved_by,
        'sent_on', l.sent_on,
        'send_method', l.send_method,
        'tracking_number', l.tracking_number,
        'delivered_on', l.delivered_on,
        'delivery_proof', l.delivery_proof,
        'returned_on', l.returned_on,
        'returned_reason', l.returned_reason,
        'responded_on', l.responded_on,
        'response_channel', l.response_channel,
        'response_summary', l.response_summary,
        'response_document', CASE WHEN l.response_document_sha256 IS NULL THEN NULL ELSE json_build_object(
            'sha256', encode(l.response_document_sha256, 'hex'), 'content_type', l.response_document_type,
            'name', l.response_document_name, 'bytes', length(l.response_document)) END,
        'no_response_on', l.no_response_on,
        'email', CASE WHEN e.letter_id IS NULL THEN NULL ELSE json_build_object(
            'recipient', e.recipient, 'state', e.state, 'attempts', e.attempts, 'next_attempt_at', e.next_attempt_at,
            'sent_at', e.sent_at, 'last_error', e.last_error, 'message_id', e.message_id) END,
        'reminders', coalesce((SELECT json_agg(r.id ORDER BY r.created_at) FROM letters r WHERE r.reminder_of = l.id), '[]'::json),
        'events', coalesce((SELECT json_agg(json_build_object('status', v.status, 'on', v.occurred_on, 'recorded_at', v.recorded_at,
                                                              'recorded_by', v.recorded_by, 'note', v.note) ORDER BY v.seq)
                            FROM letter_events v WHERE v.letter_id = l.id), '[]'::json),
        'created_at', l.created_at,
        'created_by', l.created_by,
        'updated_at', l.updated_at,
        'version', l.version) AS document
FROM letters l
JOIN facilitators f ON f.id = l.facilitator_id
JOIN letter_templates t ON t.id = l.template_id
LEFT JOIN letter_emails e ON e.letter_id = l.id;

-- The API's JSON document of an action: the action, its evidence, letters, appeal and history.
CREATE VIEW licensing_action_documents AS
SELECT a.id, a.version, a.facilitator_id, json_build_object(
        'id', a.id,
        'facilitator_id', a.facilitator_id,
        'supplier_name', f.legal_name,
        'agency_id', a.agency_id,
        'type', a.type,
        'status', a.status,
        'legal_basis', a.legal_basis,
        'rationale', a.rationale,
        'conditions', a.conditions,
        'amount_minor', a.amount_minor,
        'currency', a.currency,
        'effective_from', a.effective_from,
        'effective_to', a.effective_to,
        -- In effect: final, restrictive, and within its dates; an appeal suspends it.
        'in_effect', a.type <> 'warning' AND a.status IN ('decided', 'upheld') AND a.effective_from <= current_date
                     AND (a.effective_to IS NULL OR a.effective_to >= current_date),
        'effect_suspended', a.status = 'appealed',
        'suggested_type', a.suggested_type,
        'ladder_justification', a.ladder_justification,
        'proposed_at', a.proposed_at,
        'proposed_by', a.proposed_by_label,
        'decided_on', a.decided_on,
        'decided_at', a.decided_at,
        'decided_by', a.decided_by_label,
        'ended_on', a.ended_on,
        'end_reason', a.end_reason,
        'signals', coalesce((SELECT json_agg(json_build_object('id', s.id, 'observed_on', s.document->'observed_on',
                                    'type', s.document->'type', 'stage', s.document->'stage', 'indicator_label', s.document->'indicator_label',
                                    'linked_at', l.linked_at) ORDER BY s.document->>'observed_on', s.id)
                             FROM licensing_action_signals l JOIN signal_documents s ON s.id = l.signal_id
                             WHERE l.action_id = a.id), '[]'::json),
        'letters', coalesce((SELECT json_agg(json_build_object('id', t.id, 'kind', t.kind, 'status', t.status, 'reference', t.reference,
                                    'letter_date', t.letter_date, 'response_deadline', t.response_deadline, 'delivered_on', t.delivered_on,
                                    'responded_on', t.responded_on) ORDER BY t.created_at, t.id)
                             FROM letters t WHERE t.licensing_action_id = a.id), '[]'::json),
        'appeal', (SELECT json_build_object('lodged_on', p.lodged_on, 'period_ended_on', p.period_ended_on, 'grounds', p.grounds,
                                            'recorded_at', p.recorded_at, 'recorded_by', p.recorded_by_label, 'outcome', p.outcome,
                                            'outcome_on', p.outcome_on, 'outcome_reason', p.outcome_reason,
                                            'outcome_recorded_by', p.outcome_recorded_by_label)
                   FROM licensing_appeals p WHERE p.action_id = a.id),
        'events', coalesce((SELECT json_agg(json_build_object('status', e.status, 'on', e.occurred_on, 'recorded_at', e.recorded_at,
                                   'recorded_by', e.recorded_by_label, 'note', e.note) ORDER BY e.seq)
                            FROM licensing_action_events e WHERE e.action_id = a.id), '[]'::json),
        'updated_at', a.updated_at,
        'version', a.version) AS document
FROM licensing_actions a
JOIN facilitators f ON f.id = a.facilitator_id;

-- The public register: restrictive actions that are final (decided and not
-- under appeal, or upheld), with no personal data of staff.
CREATE VIEW public_register AS
SELECT a.id, a.decided_on, f.legal_name AS supplier_name, f.country::text AS supplier_country,
       f.registration_number AS supplier_registration_number, a.type, a.status, a.legal_basis, a.conditions,
       a.amount_minor, a.currency, a.effective_from, a.effective_to, g.name AS authority,
       p.outcome AS appeal_outcome, p.outcome_on AS appeal_decided_on
FROM licensing_actions a
JOIN facilitators f ON f.id = a.facilitator_id
JOIN agencies g ON g.id = a.agency_id
LEFT JOIN licensing_appeals p ON p.action_id = a.id
WHERE a.type <> 'warning' AND a.status IN ('decided', 'upheld');
