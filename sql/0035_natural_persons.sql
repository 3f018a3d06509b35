-- Suppliers that are natural persons: a sole trader trades under their own
-- name, which the public register withholds unless the deciding agency's
-- procedure profile publishes names of natural persons (GDPR Art. 5(1)(c),
-- and the publication rules the shipped profiles cite).
ALTER TABLE facilitators ADD COLUMN natural_person boolean NOT NULL DEFAULT false;

-- The API's document of a supplier (0004) with the new key.
CREATE OR REPLACE VIEW facilitator_documents AS
SELECT f.id, f.version, json_build_object(
        'id', f.id,
        'legal_name', f.legal_name,
        'aliases', f.aliases,
        'sector', f.sector,
        'stages', f.stages,
        'markets', f.markets,
        'country', f.country,
        'registration_number', f.registration_number,
        'vat_number', f.vat_number,
        'street', f.street,
        'postal_code', f.postal_code,
        'city', f.city,
        'website', f.website,
        'email', f.email,
        'phone', f.phone,
        'status', f.status,
        'notes', f.notes,
        'contacts', coalesce(c.contacts, '[]'::json),
        'natural_person', f.natural_person,
        'merged_into', f.merged_into,
        'created_at', f.created_at,
        'created_by', f.created_by,
        'updated_at', f.updated_at,
        'updated_by', f.updated_by,
        'version', f.version) AS document
FROM facilitators f
LEFT JOIN LATERAL (
    SELECT json_agg(json_build_object('name', c.name, 'role', c.role, 'email', c.email, 'phone', c.phone)
                    ORDER BY c.position) AS contacts
    FROM contact_points c WHERE c.facilitator_id = f.id) c ON true;
ALTER VIEW facilitator_documents SET (security_invoker = true);
