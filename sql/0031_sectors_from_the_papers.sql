-- Sectors the source papers name that the registry lacked: parcel lockers and
-- pick-up points (drop points vendors and buyers use), surface-web marketplaces,
-- forums and classifieds (where darknet vendors advertise and recruit), and the
-- operators of cryptocurrency ATMs (the paper's shipping-stage signal). The
-- measures that fit them now apply to them too.
INSERT INTO sectors (code, label) VALUES
    ('parcel_locker_operator', 'Parcel lockers and pick-up points'),
    ('online_marketplace', 'Online marketplaces, forums and classifieds'),
    ('crypto_atm_operator', 'Cryptocurrency ATM operator');

UPDATE measures SET sectors = sectors || '{parcel_locker_operator}'::text[] WHERE code IN ('report_suspicious_parcels');
UPDATE measures SET sectors = sectors || '{online_marketplace}'::text[]
WHERE code IN ('report_suspicious_accounts', 'takedown_handling', 'reregistration_checks');
UPDATE measures SET sectors = sectors || '{crypto_atm_operator}'::text[]
WHERE code IN ('report_suspicious_accounts', 'crypto_cash_out_monitoring', 'fiu_reporting', 'enhanced_customer_due_diligence');
