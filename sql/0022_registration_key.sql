-- The same-number rule compares registration numbers without spaces and
-- punctuation: "HRB 12345", "HRB-12345" and "HRB12345" are one company's
-- number. registration_key() is the one definition (the application's
-- FacilitatorDraft.registrationKey does the same for the lines of a file);
-- the index serves the look-ups under the registration lock. The unique index
-- on the number as written stays: the key is checked by the application,
-- under the advisory lock every registration takes, so rows already stored
-- with two spellings are not refused by this migration.
CREATE FUNCTION registration_key(p_number text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT regexp_replace(p_number, '[^A-Z0-9]', '', 'g') $$;

CREATE INDEX facilitators_registration_key_idx ON facilitators (registration_key(registration_number))
    WHERE registration_number IS NOT NULL;
