-- Cooperation: each supplier's level with its full history, the contacts log,
-- and the measures suppliers commit to (from a catalogue per sector).

-- The current level; a supplier without a row has not been contacted.
CREATE TABLE cooperation_levels (
    facilitator_id uuid PRIMARY KEY REFERENCES facilitators (id),
    level text NOT NULL CHECK (level IN ('not_contacted', 'informed', 'engaged', 'cooperating', 'partially_cooperating',
                                         'unresponsive', 'refusing')),
    since timestamptz NOT NULL,
    version integer NOT NULL DEFAULT 1 CHECK (version > 0)
);
CREATE INDEX cooperation_levels_level_idx ON cooperation_levels (level);

-- The contacts log: meetings, calls, e-mails and visits with a supplier.
CREATE TABLE supplier_contacts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    facilitator_id uuid NOT NULL REFERENCES facilitators (id),
    kind text NOT NULL CHECK (kind IN ('meeting', 'call', 'email', 'letter', 'visit', 'other')),
    occurred_on date NOT NULL,
    participants text[] NOT NULL DEFAULT '{}' CHECK (cardinality(participants) <= 50),
    notes text NOT NULL DEFAULT '' CHECK (length(notes) <= 20000),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid REFERENCES users (id)
);
CREATE INDEX supplier_contacts_facilitator_idx ON supplier_contacts (facilitator_id, occurred_on);

-- Every change of level: who, when, why, and on the strength of which letter or contact.
CREATE TABLE cooperation_changes (
    seq bigserial PRIMARY KEY,
    facilitator_id uuid NOT NULL REFERENCES facilitators (id),
    from_level text NOT NULL,
    to_level text NOT NULL CHECK (to_level <> from_level),
    reason text NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 5000),
    letter_id uuid REFERENCES letters (id),
    contact_id uuid REFERENCES supplier_contacts (id),
    changed_at timestamptz NOT NULL DEFAULT now(),
    changed_by uuid REFERENCES users (id),
    automatic boolean NOT NULL DEFAULT false
);
CREATE INDEX cooperation_changes_facilitator_idx ON cooperation_changes (facilitator_id, seq);
CREATE INDEX cooperation_changes_time_idx ON cooperation_changes (changed_at);
CREATE TRIGGER cooperation_changes_frozen BEFORE UPDATE OR DELETE ON cooperation_changes
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- The measures the authority asks for, per sector (an empty list: every sector).
CREATE TABLE measures (
    code text PRIMARY KEY CHECK (code ~ '^[a-z][a-z_]{1,60}$'),
    label text NOT NULL CHECK (length(btrim(label)) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '',
    sectors text[] NOT NULL DEFAULT '{}'
);

INSERT INTO measures (code, label, description, sectors) VALUES
    ('named_contact_point', 'Named contact point', 'A named person the authority can reach about misuse of the service.', '{}'),
    ('staff_awareness_training', 'Staff awareness training', 'Staff who handle orders, parcels or accounts know the signals of darknet trade.', '{}'),
    ('report_suspicious_parcels', 'Reporting suspicious parcels', 'Suspicious consignments are reported to the authority.',
        '{courier,postal_service,parcel_delivery,food_delivery}'),
    ('report_suspicious_accounts', 'Reporting suspicious accounts', 'Accounts that advertise on or for darknet markets are reported.',
        '{encrypted_messaging,social_media,internet_service_provider,hosting_provider,cryptocurrency_exchange,payment_service}'),
    ('bulk_sender_checks', 'Checks on bulk senders', 'Customers who send many consignments to changing addresses are checked.',
        '{courier,postal_service,parcel_delivery}'),
    ('refuse_anonymous_bulk_stealth_orders', 'Refusing anonymous bulk orders of stealth packaging',
        'Bulk orders of vacuum or smell-proof packaging need an identified business customer.', '{stealth_packaging}'),
    ('enforce_track_and_trace', 'Enforcing track-and-trace', 'Track-and-trace cannot be switched off for consignments.',
        '{courier,postal_service,parcel_delivery}'),
    ('lawful_data_requests', 'Answering lawful data requests', 'Lawful requests for data are answered promptly through a known channel.', '{}'),
    ('takedown_handling', 'Takedown handling', 'Notices about market front-ends, vendor shops and advertisements lead to prompt takedown.',
        '{internet_service_provider,hosting_provider,encrypted_messaging,social_media}'),
    ('crypto_cash_out_monitoring', 'Monitoring of crypto cash-outs', 'Deposits and cash-outs linked to market wallets are monitored.',
        '{cryptocurrency_exchange,payment_service}');

-- What a supplier committed to. 'lapsed' is shown (see the view) for a commitment
-- past its due date without verification; the stored status stays as recorded.
CREATE TABLE measure_commitments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    facilitator_id uuid NOT NULL REFERENCES facilitators (id),
    measure_code text NOT NULL REFERENCES measures (code),
    status text NOT NULL DEFAULT 'committed' CHECK (status IN ('committed', 'implemented', 'verified')),
    committed_on date NOT NULL,
    due_on date NOT NULL CHECK (due_on >= committed_on),
    implemented_on date,
    verified_on date,
    verified_by uuid REFERENCES users (id),
    -- Who verified, readable (the user's e-mail, or the command-line user).
    verifier text CHECK (length(verifier) <= 300),
    verification_method text CHECK (length(verification_method) <= 2000),
    letter_id uuid REFERENCES letters (id),
    notes text NOT NULL DEFAULT '' CHECK (length(notes) <= 10000),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid REFERENCES users (id),
    version integer NOT NULL DEFAULT 1 CHECK (version > 0),
    UNIQUE (facilitator_id, measure_code),
    CHECK (status <> 'implemented' OR implemented_on IS NOT NULL),
    CHECK (status <> 'verified' OR (verified_on IS NOT NULL AND verifier IS NOT NULL AND verification_method IS NOT NULL))
);
CREATE INDEX measure_commitments_due_idx ON measure_commitments (due_on) WHERE status <> 'verified';

CREATE VIEW measure_commitment_documents AS
SELECT c.id, c.facilitator_id, c.version, json_build_object(
        'id', c.id, 'facilitator_id', c.facilitator_id, 'measure', c.measure_code, 'label', m.label,
        'status', CASE WHEN c.status <> 'verified' AND c.due_on < current_date THEN 'lapsed' ELSE c.status END,
        'recorded_status', c.status, 'committed_on', c.committed_on, 'due_on', c.due_on, 'implemented_on', c.implemented_on,
        'verified_on', c.verified_on, 'verified_by', c.verified_by, 'verifier', c.verifier, 'verification_method', c.verification_method,
        'letter_id', c.letter_id, 'notes', c.notes, 'created_at', c.created_at, 'created_by', c.created_by,
        'version', c.version) AS document
FROM measure_commitments c JOIN measures m ON m.code = c.measure_code;
