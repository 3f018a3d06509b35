-- Outreach letters: versioned templates, letters frozen on approval with a
-- gapless reference number, their sending and tracking, campaigns, and the
-- background jobs that render and send them.

-- What a letterhead needs, and how long suppliers get to answer.
ALTER TABLE agencies
    ADD COLUMN street text CHECK (length(street) <= 200),
    ADD COLUMN postal_code text CHECK (length(postal_code) <= 20),
    ADD COLUMN city text CHECK (length(city) <= 100),
    ADD COLUMN email text CHECK (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
    ADD COLUMN phone text CHECK (length(phone) <= 40),
    ADD COLUMN website text CHECK (website ~ '^https?://'),
    ADD COLUMN signatory_name text CHECK (length(btrim(signatory_name)) BETWEEN 1 AND 200),
    ADD COLUMN signatory_title text CHECK (length(btrim(signatory_title)) BETWEEN 1 AND 200),
    ADD COLUMN response_days integer NOT NULL DEFAULT 30 CHECK (response_days BETWEEN 1 AND 365),
    ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version > 0);

-- Refuses UPDATE and DELETE on tables whose rows are a record that must not move.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows never change once stored (%)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;

-- Every stored template body is a version, identified by its SHA-256; the
-- highest number per (kind, group, language) is the current one.
CREATE TABLE letter_templates (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind text NOT NULL CHECK (kind IN ('inform_call_to_action', 'reminder', 'warning', 'notice_of_intent', 'decision_notice')),
    sector_group text NOT NULL CHECK (sector_group IN ('', 'delivery', 'packaging', 'internet', 'messaging', 'finance', 'general')),
    language text NOT NULL CHECK (language IN ('en', 'fr', 'nl', 'de')),
    version integer NOT NULL CHECK (version > 0),
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 100000),
    sha256 bytea NOT NULL CHECK (length(sha256) = 32),
    source text NOT NULL CHECK (source IN ('file', 'api')),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid REFERENCES users (id),
    CHECK ((kind = 'inform_call_to_action') = (sector_group <> '')),
    UNIQUE (kind, sector_group, language, version),
    UNIQUE (kind, sector_group, language, sha256)
);
CREATE TRIGGER letter_templates_frozen BEFORE UPDATE OR DELETE ON letter_templates
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER letter_templates_no_truncate BEFORE TRUNCATE ON letter_templates
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

CREATE TABLE campaigns (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agency_id uuid NOT NULL REFERENCES agencies (id),
    name text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    kind text NOT NULL CHECK (kind IN ('inform_call_to_action')),
    -- The saved supplier filter, as the facilitator list's query parameters.
    filter jsonb NOT NULL CHECK (jsonb_typeof(filter) = 'object'),
    -- Language by country code, then per supplier id; anything else uses the built-in rule.
    language_by_country jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(language_by_country) = 'object'),
    language_overrides jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(language_overrides) = 'object'),
    response_days integer NOT NULL CHECK (response_days BETWEEN 1 AND 365),
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'generating', 'generated', 'failed')),
    -- Fixed on approval: the template version per key, and the letters' date.
    template_ids jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(template_ids) = 'object'),
    letter_date date,
    letters_total integer CHECK (letters_total >= 0),
    letters_skipped integer CHECK (letters_skipped >= 0),
    letters_done integer NOT NULL DEFAULT 0 CHECK (letters_done >= 0),
    pdfs_done integer NOT NULL DEFAULT 0 CHECK (pdfs_done >= 0),
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid REFERENCES users (id),
    approved_at timestamptz,
    approved_by uuid REFERENCES users (id),
    version integer NOT NULL DEFAULT 1 CHECK (version > 0),
    CHECK ((status = 'draft') = (approved_at IS NULL))
);

-- The last reference number given per year. Incrementing the row inside the
-- approving transaction makes the numbers gapless: a rolled-back approval
-- gives its number back.
CREATE TABLE letter_reference_counters (
    year integer PRIMARY KEY CHECK (year BETWEEN 2000 AND 9999),
    last_number integer NOT NULL CHECK (last_number BETWEEN 0 AND 999999)
);

CREATE TABLE letters (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    facilitator_id uuid NOT NULL REFERENCES facilitators (id),
    agency_id uuid NOT NULL REFERENCES agencies (id),
    kind text NOT NULL CHECK (kind IN ('inform_call_to_action', 'reminder', 'warning', 'notice_of_intent', 'decision_notice')),
    language text NOT NULL CHECK (language IN ('en', 'fr', 'nl', 'de')),
    template_id uuid NOT NULL REFERENCES letter_templates (id),
    status text NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'approved', 'sent', 'delivered', 'responded', 'returned', 'no_response')),
    campaign_id uuid REFERENCES campaigns (id),
    reminder_of uuid REFERENCES letters (id),
    response_days integer NOT NULL CHECK (response_days BETWEEN 1 AND 365),
    requested_deadline date,
    -- Frozen on approval.
    reference text UNIQUE CHECK (reference ~ '^OUT-[0-9]{4}-[0-9]{6}$'),
    letter_date date,
    response_deadline date,
    snapshot jsonb,
    subject text,
    html text,
    text_body text,
    html_sha256 bytea CHECK (length(html_sha256) = 32),
    text_sha256 bytea CHECK (length(text_sha256) = 32),
    layout_sha256 bytea CHECK (length(layout_sha256) = 32),
    approved_at timestamptz,
    approved_by uuid REFERENCES users (id),
    -- Written once, after approval (at once for one letter, by a job for a campaign).
    pdf bytea,
    pdf_sha256 bytea CHECK (length(pdf_sha256) = 32),
    -- Sending and tracking.
    sent_on date,
    send_method text CHECK (send_method IN ('registered_post', 'post', 'email', 'hand', 'courier')),
    tracking_number text CHECK (length(tracking_number) <= 100),
    delivered_on date,
    delivery_proof text CHECK (length(delivery_proof) <= 2000),
    returned_on date,
    returned_reason text CHECK (length(returned_reason) <= 2000),
    responded_on date,
    response_channel text CHECK (response_channel IN ('letter', 'email', 'phone', 'meeting', 'portal')),
    response_summary text CHECK (length(response_summary) <= 10000),
    response_document bytea,
    response_document_sha256 bytea CHECK (length(response_document_sha256) = 32),
    response_document_type text,
    response_document_name text,
    no_response_on date,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid REFERENCES users (id),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by uuid REFERENCES users (id),
    version integer NOT NULL DEFAULT 1 CHECK (version > 0),
    CHECK (reminder_of IS NULL OR kind = 'reminder'),
    CHECK ((status = 'draft') = (approved_at IS NULL)),
    CHECK (status = 'draft' OR (reference IS NOT NULL AND letter_date IS NOT NULL AND response_deadline IS NOT NULL
        AND snapshot IS NOT NULL AND subject IS NOT NULL AND html IS NOT NULL AND text_body IS NOT NULL AND html_sha256 IS NOT NULL
        AND text_sha256 IS NOT NULL AND layout_sha256 IS NOT NULL)),
    CHECK (response_deadline IS NULL OR response_deadline > letter_date),
    CHECK ((pdf IS NULL) = (pdf_sha256 IS NULL)),
    CHECK (status NOT IN ('sent', 'delivered', 'responded', 'returned', 'no_response') OR (sent_on IS NOT NULL AND send_method IS NOT NULL)),
    CHECK (status <> 'delivered' OR delivered_on IS NOT NULL),
    CHECK (status <> 'no_response' OR no_response_on IS NOT NULL),
    CHECK (status <> 'returned' OR (returned_on IS NOT NULL AND returned_reason IS NOT NULL)),
    CHECK (status <> 'responded' OR (responded_on IS NOT NULL AND response_channel IS NOT NULL)),
    CHECK ((response_document IS NULL) = (response_document_sha256 IS NULL))
);
CREATE INDEX letters_facilitator_idx ON letters (facilitator_id, created_at);
-- A campaign writes to each supplier once, even when its job is resumed.
CREATE UNIQUE INDEX letters_campaign_supplier_key ON letters (campaign_id, facilitator_id) WHERE campaign_id IS NOT NULL;
CREATE INDEX letters_reminder_idx ON letters (reminder_of) WHERE reminder_of IS NOT NULL;
CREATE INDEX letters_status_idx ON letters (status, response_deadline);
CREATE INDEX letters_pdf_pending_idx ON letters (campaign_id) WHERE status <> 'draft' AND pdf IS NULL;

-- An approved letter's text, data and reference never change; its PDF is
-- written once; only its tracking moves on.
CREATE FUNCTION letters_keep_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
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
        NEW.layout_sha256, NEW.approved_at, NEW.approved_by, NEW.campaign_id, NEW.reminder_of
    ) IS DISTINCT FROM (
        OLD.facilitator_id, OLD.agency_id, OLD.kind, OLD.language, OLD.template_id, OLD.reference, OLD.letter_date,
        OLD.response_deadline, OLD.snapshot, OLD.subject, OLD.html, OLD.text_body, OLD.html_sha256, OLD.text_sha256,
        OLD.layout_sha256, OLD.approved_at, OLD.approved_by, OLD.campaign_id, OLD.reminder_of
    ) THEN
        RAISE EXCEPTION 'letter % is approved: its text and data are frozen', OLD.reference USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.pdf IS NOT NULL AND (NEW.pdf, NEW.pdf_sha256) IS DISTINCT FROM (OLD.pdf, OLD.pdf_sha256) THEN
        RAISE EXCEPTION 'letter % already has its PDF', OLD.reference USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER letters_frozen BEFORE UPDATE OR DELETE ON letters
    FOR EACH ROW EXECUTE FUNCTION letters_keep_frozen();

-- Each status change of a letter, for the supplier's timeline.
CREATE TABLE letter_events (
    letter_id uuid NOT NULL REFERENCES letters (id),
    seq integer NOT NULL CHECK (seq > 0),
    status text NOT NULL
        CHECK (status IN ('draft', 'approved', 'sent', 'delivered', 'responded', 'returned', 'no_response')),
    occurred_on date NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    recorded_by uuid REFERENCES users (id),
    note text,
    PRIMARY KEY (letter_id, seq)
);
CREATE TRIGGER letter_events_frozen BEFORE UPDATE OR DELETE ON letter_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- E-mail sending through the agency's relay. A row is claimed ('sending')
-- before the relay is called: a crash mid-send leaves it 'uncertain' for a
-- person to check, so a letter is never sent twice.
CREATE TABLE letter_emails (
    letter_id uuid PRIMARY KEY REFERENCES letters (id),
    recipient text NOT NULL CHECK (recipient ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
    message_id text NOT NULL UNIQUE,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'uncertain')),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claimed_at timestamptz,
    sent_at timestamptz,
    last_error text,
    requested_by uuid REFERENCES users (id),
    requested_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX letter_emails_due_idx ON letter_emails (next_attempt_at) WHERE state = 'pending';

-- Background work kept in PostgreSQL so it survives a restart; workers claim
-- with FOR UPDATE SKIP LOCKED so two instances never run the same job.
CREATE TABLE jobs (
    id bigserial PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('campaign_letters', 'campaign_pdfs', 'letter_pdf')),
    subject_id uuid NOT NULL,
    state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    run_after timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX jobs_ready_idx ON jobs (run_after) WHERE state IN ('queued', 'running');
CREATE UNIQUE INDEX jobs_one_open_per_subject ON jobs (kind, subject_id) WHERE state IN ('queued', 'running');

-- The API's JSON document of a letter (without its bodies, served as files).
CREATE VIEW letter_documents AS
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
