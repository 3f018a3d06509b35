-- A measure for every ask of the first-contact letters, so that what a letter
-- asks can be recorded as a commitment and verified: each ask in the letters
-- names its measure (`{{! measure: code }}`, tested against this catalogue).
INSERT INTO measures (code, label, description, sectors) VALUES
    ('report_suspicious_orders', 'Reporting suspicious orders',
        'Suspicious orders and customers of packaging are reported to the authority.', '{stealth_packaging}'),
    ('stop_stealth_marketing', 'No "stealth" marketing',
        'No marketing presents the products as suited to "stealth" or "discreet" shipping or is aimed at sellers of illicit goods.',
        '{stealth_packaging}'),
    ('hosting_customer_checks', 'Know-your-customer for servers',
        'Customers and resellers who rent servers are identified, in particular where payment is anonymous.',
        '{internet_service_provider,hosting_provider}'),
    ('reregistration_checks', 'Re-registration checks',
        'New accounts are checked for the re-registration of accounts banned for darknet trade, and it is prevented.',
        '{encrypted_messaging,social_media}'),
    ('fiu_reporting', 'Reporting to the Financial Intelligence Unit',
        'Suspicious transactions linked to darknet markets are reported to the FIU.', '{cryptocurrency_exchange,payment_service}'),
    ('enhanced_customer_due_diligence', 'Enhanced customer due diligence',
        'New accounts and customers with high or fast-growing volumes get enhanced know-your-customer checks.',
        '{cryptocurrency_exchange,payment_service}'),
    ('report_suspicious_activity', 'Reporting suspicious activity',
        'Suspicious orders, customers and accounts are reported to the authority.', '{}'),
    ('customer_checks', 'Checks on bulk buyers and new business accounts',
        'Bulk buyers and new business accounts are checked, including their identity and declared activity.', '{}');
