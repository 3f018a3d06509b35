-- Signals: observed indicators tied to one or more suppliers, with their
-- evidence. Nothing here is edited away: a correction is a new version, and
-- attachments are stored once with their SHA-256.

-- The indicators of the source paper and practice, by type and stage.
CREATE TABLE signal_indicators (
    code text PRIMARY KEY CHECK (code ~ '^[a-z][a-z_]{1,60}$'),
    label text NOT NULL CHECK (length(btrim(label)) BETWEEN 1 AND 200),
    type text NOT NULL CHECK (type IN ('financial', 'social', 'logistical', 'physical', 'administrative')),
    stage text NOT NULL CHECK (stage IN ('setting_up_marketplace', 'running_marketplace', 'selling', 'shipping'))
);

INSERT INTO signal_indicators (code, label, type, stage) VALUES
    ('frequent_consignments', 'Frequent ordering of consignments', 'logistical', 'shipping'),
    ('track_and_trace_off', 'Track-and-trace turned off during transport', 'logistical', 'shipping'),
    ('changing_delivery_addresses', 'Consignments to changing addresses, parcel lockers or drop addresses', 'logistical', 'shipping'),
    ('modified_delivery_vans', 'Hiding places in modified delivery vans', 'physical', 'shipping'),
    ('bulk_stealth_packaging', 'Bulk orders of vacuum or smell-proof packaging by private persons', 'logistical', 'shipping'),
    ('bitcoin_atm_use', 'Increased use of bitcoin-ATMs in public spaces', 'financial', 'selling'),
    ('crypto_cash_outs', 'Many small crypto deposits followed by cash-outs', 'financial', 'running_marketplace'),
    ('lifestyle_mismatching_income', 'Lifestyle that does not match the income', 'social', 'running_marketplace'),
    ('market_advertising_accounts', 'Accounts advertising market links or vendor shops', 'social', 'selling'),
    ('market_front_end_hosting', 'Hosting of a market front-end or mirror', 'administrative', 'setting_up_marketplace'),
    ('businesses_without_employees', 'Ownership of several businesses without employees', 'administrative', 'running_marketplace'),
    ('large_cash_payments', 'Large cash payments', 'financial', 'selling');

CREATE TABLE signals (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid REFERENCES users (id)
);

-- Every version of a signal; the highest is current. A correction says why.
CREATE TABLE signal_versions (
    signal_id uuid NOT NULL REFERENCES signals (id),
    version integer NOT NULL CHECK (version > 0),
    type text NOT NULL CHECK (type IN ('financial', 'social', 'logistical', 'physical', 'administrative')),
    stage text NOT NULL CHECK (stage IN ('setting_up_marketplace', 'running_marketplace', 'selling', 'shipping')),
    indicator_code text REFERENCES signal_indicators (code),
    indicator_text text CHECK (length(btrim(indicator_text)) BETWEEN 1 AND 300),
    observed_on date NOT NULL,
    source text NOT NULL CHECK (length(btrim(source)) BETWEEN 1 AND 300),
    reporter text NOT NULL CHECK (length(btrim(reporter)) BETWEEN 1 AND 200),
    description text NOT NULL CHECK (length(description) <= 20000),
    facilitator_ids uuid[] NOT NULL CHECK (cardinality(facilitator_ids) BETWEEN 1 AND 100),
    correction_reason text CHECK (length(btrim(correction_reason)) BETWEEN 1 AND 5000),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    recorded_by uuid REFERENCES users (id),
    recorded_by_label text NOT NULL,
    PRIMARY KEY (signal_id, version),
    CHECK ((indicator_code IS NULL) <> (indicator_text IS NULL)),
    CHECK ((version = 1) = (correction_reason IS NULL))
);
CREATE TRIGGER signal_versions_frozen BEFORE UPDATE OR DELETE ON signal_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Which suppliers the current version of each signal concerns (kept by the
-- store with each version, so reports and the due-process guard find them fast).
CREATE TABLE signal_facilitators (
    signal_id uuid NOT NULL REFERENCES signals (id),
    facilitator_id uuid NOT NULL REFERENCES facilitators (id),
    PRIMARY KEY (signal_id, facilitator_id)
);
CREATE INDEX signal_facilitators_facilitator_idx ON signal_facilitators (facilitator_id);

CREATE TABLE signal_attachments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    signal_id uuid NOT NULL REFERENCES signals (id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200 AND name !~ '[/\\"[:cntrl:]]'),
    content_type text NOT NULL,
    bytes bytea NOT NULL CHECK (length(bytes) BETWEEN 1 AND 20971520),
    sha256 bytea NOT NULL CHECK (length(sha256) = 32),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    recorded_by uuid REFERENCES users (id)
);
CREATE INDEX signal_attachments_signal_idx ON signal_attachments (signal_id);
CREATE TRIGGER signal_attachments_frozen BEFORE UPDATE OR DELETE ON signal_attachments
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE VIEW signal_documents AS
SELECT s.id, v.version, json_build_object(
        'id', s.id, 'version', v.version, 'type', v.type, 'stage', v.stage, 'indicator', v.indicator_code,
        'indicator_text', v.indicator_text, 'indicator_label', coalesce(i.label, v.indicator_text), 'observed_on', v.observed_on, 'source', v.source,
        'reporter', v.reporter, 'description', v.description, 'facilitator_ids', v.facilitator_ids,
        'correction_reason', v.correction_reason, 'recorded_at', v.recorded_at, 'recorded_by', v.recorded_by_label,
        'created_at', s.created_at,
        'attachments', coalesce((SELECT json_agg(json_build_object('id', a.id, 'name', a.name, 'content_type', a.content_type,
                'bytes', length(a.bytes), 'sha256', encode(a.sha256, 'hex'), 'recorded_at', a.recorded_at) ORDER BY a.recorded_at)
            FROM signal_attachments a WHERE a.signal_id = s.id), '[]'::json),
        'versions', (SELECT count(*) FROM signal_versions w WHERE w.signal_id = s.id)) AS document
FROM signals s
JOIN LATERAL (SELECT * FROM signal_versions w WHERE w.signal_id = s.id ORDER BY w.version DESC LIMIT 1) v ON true
LEFT JOIN signal_indicators i ON i.code = v.indicator_code;
