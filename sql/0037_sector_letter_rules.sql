-- How letters treat each sector, moved from the code to the sectors catalogue
-- (so an administrator sets it for a sector they add): which first-contact
-- letter its suppliers get (`letter_group`), and whether letters to it carry the
-- postal-secrecy caveat (`postal`). The shipped sectors keep what the code said;
-- each gets a new version saying so.
ALTER TABLE sectors
    ADD COLUMN letter_group text NOT NULL DEFAULT 'general'
        CHECK (letter_group IN ('delivery', 'packaging', 'internet', 'messaging', 'finance', 'general')),
    ADD COLUMN postal boolean NOT NULL DEFAULT false;

UPDATE sectors SET letter_group = CASE
        WHEN code IN ('courier', 'postal_service', 'parcel_delivery', 'food_delivery', 'parcel_locker_operator') THEN 'delivery'
        WHEN code = 'stealth_packaging' THEN 'packaging'
        WHEN code IN ('internet_service_provider', 'hosting_provider') THEN 'internet'
        WHEN code IN ('encrypted_messaging', 'social_media', 'online_marketplace') THEN 'messaging'
        WHEN code IN ('cryptocurrency_exchange', 'crypto_atm_operator', 'payment_service') THEN 'finance'
        ELSE 'general' END,
    postal = code IN ('courier', 'postal_service', 'parcel_delivery', 'parcel_locker_operator'),
    version = version + 1, updated_at = now(), updated_by_label = 'migration 0037';

INSERT INTO taxonomy_versions (catalogue, key, version, entry, reason, changed_by_label)
SELECT 'sectors', code, version,
       jsonb_build_object('code', code, 'label', label, 'names', names, 'letter_group', letter_group, 'postal', postal),
       'letter group and postal-secrecy caveat moved from the code to the catalogue', 'migration 0037'
FROM sectors;
