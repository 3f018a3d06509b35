-- The catalogues of the barrier model kept up to date by administrators: the
-- sectors of suppliers, the signal indicators, the measures and the
-- opportunities of each stage. Every entry carries a version; each change
-- stores the entry as it became, with who changed it and why, in
-- taxonomy_versions (never changed), and an audit event. Entries are never
-- deleted: suppliers, signals, commitments and reports refer to them.

-- A sector's name in each letter language (the shipped sectors are named in
-- templates/letters/labels.*.json; a sector an administrator adds is named here).
ALTER TABLE sectors ADD COLUMN names jsonb CHECK (names IS NULL OR jsonb_typeof(names) = 'object');

ALTER TABLE sectors
    ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version > 0),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN updated_by_label text NOT NULL DEFAULT 'shipped';
ALTER TABLE signal_indicators
    ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version > 0),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN updated_by_label text NOT NULL DEFAULT 'shipped';
ALTER TABLE measures
    ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version > 0),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN updated_by_label text NOT NULL DEFAULT 'shipped',
    ADD CONSTRAINT measures_description_length CHECK (length(description) <= 2000);
ALTER TABLE barrier_opportunities
    ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version > 0),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN updated_by_label text NOT NULL DEFAULT 'shipped';

-- Every version of every entry, the shipped ones as version 1.
CREATE TABLE taxonomy_versions (
    catalogue text NOT NULL CHECK (catalogue IN ('sectors', 'indicators', 'measures', 'opportunities')),
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 100),
    version integer NOT NULL CHECK (version > 0),
    entry jsonb NOT NULL,
    reason text NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 2000),
    changed_at timestamptz NOT NULL DEFAULT now(),
    changed_by uuid REFERENCES users (id),
    changed_by_label text NOT NULL,
    PRIMARY KEY (catalogue, key, version)
);
CREATE TRIGGER taxonomy_versions_frozen BEFORE UPDATE OR DELETE ON taxonomy_versions FOR EACH ROW EXECUTE FUNCTION refuse_change();

INSERT INTO taxonomy_versions (catalogue, key, version, entry, reason, changed_by_label)
SELECT 'sectors', code, 1, jsonb_build_object('code', code, 'label', label), 'shipped with the registry', 'shipped' FROM sectors;
INSERT INTO taxonomy_versions (catalogue, key, version, entry, reason, changed_by_label)
SELECT 'indicators', code, 1, jsonb_build_object('code', code, 'label', label, 'type', type, 'stages', stages, 'source', source,
                                                 'source_note', source_note), 'shipped with the registry', 'shipped' FROM signal_indicators;
INSERT INTO taxonomy_versions (catalogue, key, version, entry, reason, changed_by_label)
SELECT 'measures', code, 1, jsonb_build_object('code', code, 'label', label, 'description', description, 'sectors', sectors),
       'shipped with the registry', 'shipped' FROM measures;
INSERT INTO taxonomy_versions (catalogue, key, version, entry, reason, changed_by_label)
SELECT 'opportunities', stage || ':' || position, 1, jsonb_build_object('stage', stage, 'position', position, 'label', label, 'source', source),
       'shipped with the registry', 'shipped' FROM barrier_opportunities;

-- The application adds and changes entries (never deletes them); versions are only added.
GRANT INSERT, UPDATE ON sectors, signal_indicators, measures, barrier_opportunities TO barrier_app;
REVOKE UPDATE, DELETE, TRUNCATE ON taxonomy_versions FROM barrier_app;
GRANT SELECT, INSERT ON taxonomy_versions TO barrier_app;
