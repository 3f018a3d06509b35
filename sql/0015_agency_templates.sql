-- Letter templates per agency. The shipped templates (no agency) are every
-- agency's defaults; an agency's administrator adds versions that only that
-- agency's letters use, so one agency's edit never changes another's letters.
-- An agency's own latest version of a key wins over the shipped one.

ALTER TABLE letter_templates ADD COLUMN agency_id uuid REFERENCES agencies (id);

-- Versions added through the API before templates had an owner belong to the
-- agency of the administrator who added them (or the oldest agency).
ALTER TABLE letter_templates DISABLE TRIGGER letter_templates_frozen;
UPDATE letter_templates t SET agency_id = coalesce((SELECT u.agency_id FROM users u WHERE u.id = t.created_by),
                                                   (SELECT id FROM agencies ORDER BY created_at, id LIMIT 1))
WHERE source = 'api';
ALTER TABLE letter_templates ENABLE TRIGGER letter_templates_frozen;
ALTER TABLE letter_templates ADD CONSTRAINT letter_templates_owner_check CHECK ((source = 'file') = (agency_id IS NULL));

-- Numbers and bodies are unique per owner (the shipped set counting as one owner).
ALTER TABLE letter_templates DROP CONSTRAINT letter_templates_kind_sector_group_language_version_key;
ALTER TABLE letter_templates DROP CONSTRAINT letter_templates_kind_sector_group_language_sha256_key;
ALTER TABLE letter_templates ADD CONSTRAINT letter_templates_version_key
    UNIQUE NULLS NOT DISTINCT (agency_id, kind, sector_group, language, version);
ALTER TABLE letter_templates ADD CONSTRAINT letter_templates_body_key
    UNIQUE NULLS NOT DISTINCT (agency_id, kind, sector_group, language, sha256);

-- An agency reads the shipped templates and its own, and writes only its own.
ALTER TABLE letter_templates ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON letter_templates FOR SELECT USING (agency_id IS NULL OR agency_id = current_agency());
CREATE POLICY own_agency ON letter_templates USING (agency_id = current_agency()) WITH CHECK (agency_id = current_agency());
