-- Lookup tables every other table refers to: countries (ISO 3166-1 alpha-2) and sectors.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE countries (
    code char(2) PRIMARY KEY CHECK (code ~ '^[A-Z]{2}$')
);

INSERT INTO countries (code)
SELECT unnest(string_to_array(
    'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ '
    'CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR '
    'GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP '
    'KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT '
    'MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW '
    'SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG '
    'UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW', ' '));

-- Sectors are rows, not an enum, so an administrator can add one without a release.
CREATE TABLE sectors (
    code text PRIMARY KEY CHECK (code ~ '^[a-z][a-z_]{1,48}$'),
    label text NOT NULL CHECK (length(btrim(label)) > 0)
);

INSERT INTO sectors (code, label) VALUES
    ('courier', 'Courier'),
    ('postal_service', 'Public postal service'),
    ('parcel_delivery', 'Private parcel delivery'),
    ('food_delivery', 'Food delivery'),
    ('stealth_packaging', 'Stealth and vacuum packaging supplier'),
    ('internet_service_provider', 'Internet service provider'),
    ('hosting_provider', 'Hosting provider'),
    ('encrypted_messaging', 'Encrypted messaging'),
    ('social_media', 'Social media'),
    ('cryptocurrency_exchange', 'Cryptocurrency exchange'),
    ('payment_service', 'Payment service'),
    ('other', 'Other');
