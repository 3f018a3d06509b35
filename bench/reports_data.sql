-- The reports benchmark's history, generated on top of the imported suppliers:
-- two years of cooperation changes, first letters and reminders, commitments
-- to measures, signals (with corrections) and licensing actions with appeals.
-- Deterministic for a given registry (setseed). Run with psql -v ON_ERROR_STOP=1.

SELECT setseed(0.42);
-- Everything below is the bench agency's casework (the default of every agency_id).
SELECT set_config('barrier.agency_id', :'agency', false);

-- A number in [0, 1) from a supplier and a salt, the same on every run.
CREATE TEMP TABLE pick AS
SELECT f.id, f.sector, f.country, row_number() OVER (ORDER BY f.id) AS n,
       (('x' || substr(md5(f.id::text || 'a'), 1, 8))::bit(32)::bigint / 4294967296.0) AS a,
       (('x' || substr(md5(f.id::text || 'b'), 1, 8))::bit(32)::bigint / 4294967296.0) AS b,
       (('x' || substr(md5(f.id::text || 'c'), 1, 8))::bit(32)::bigint / 4294967296.0) AS c
FROM facilitators f;
ANALYZE pick;

-- ---------------------------------------------------------------- cooperation
-- 60% of suppliers were contacted; up to three steps each over the last two years.
CREATE TEMP TABLE steps AS
SELECT p.id, s.step,
       now() - interval '730 days' + (p.b * 400 + (s.step - 1) * (30 + p.c * 90)) * interval '1 day' AS at,
       CASE s.step WHEN 1 THEN 'not_contacted' WHEN 2 THEN 'informed'
                   ELSE CASE WHEN p.c < 0.5 THEN 'engaged' ELSE 'informed' END END AS from_level,
       CASE s.step WHEN 1 THEN 'informed'
                   WHEN 2 THEN CASE WHEN p.c < 0.5 THEN 'engaged' ELSE 'unresponsive' END
                   ELSE CASE WHEN p.c < 0.5 THEN (ARRAY['cooperating', 'partially_cooperating', 'refusing'])[1 + floor(p.a * 3)::int]
                             ELSE 'refusing' END END AS to_level
FROM pick p CROSS JOIN LATERAL generate_series(1, 1 + floor(p.c * 3)::int) s (step)
WHERE p.a < 0.6;
-- the third step from 'informed' only happens on the engaged branch
DELETE FROM steps WHERE step = 3 AND from_level = 'informed';

INSERT INTO cooperation_changes (facilitator_id, from_level, to_level, reason, changed_at, automatic)
SELECT id, from_level, to_level, 'bench history', least(at, now()), step = 1 FROM steps ORDER BY at;

INSERT INTO cooperation_levels (facilitator_id, level, since)
SELECT DISTINCT ON (id) id, to_level, least(at, now()) FROM steps ORDER BY id, step DESC;

-- ---------------------------------------------------------------- letters
INSERT INTO campaigns (id, agency_id, name, kind, filter, response_days, status, letter_date, letters_total, letters_done, pdfs_done,
                       approved_at, created_at)
SELECT gen_random_uuid(), :'agency', 'Bench campaign ' || g, 'inform_call_to_action', '{}', 30, 'generated',
       (now() - interval '700 days' + g * interval '30 days')::date, 0, 0, 0, now(), now()
FROM generate_series(1, 20) g;
CREATE TEMP TABLE campaign_list AS SELECT id, row_number() OVER (ORDER BY letter_date) AS n, letter_date FROM campaigns;

-- 80% of suppliers got a first letter; half of those through one of twenty campaigns.
CREATE TEMP TABLE first_letters AS
SELECT gen_random_uuid() AS letter_id, p.id AS facilitator_id, p.a, p.b, p.c,
       (now() - interval '720 days' + p.b * interval '715 days')::date AS sent_on,
       CASE WHEN p.c < 0.5 THEN 1 + floor(p.b * 20)::int END AS campaign_n
FROM pick p WHERE p.a < 0.8;

INSERT INTO letters (id, facilitator_id, agency_id, kind, language, template_id, status, campaign_id, response_days, reference, letter_date,
                     response_deadline, snapshot, subject, html, text_body, html_sha256, text_sha256, layout_sha256, approved_at,
                     sent_on, send_method, delivered_on, returned_on, returned_reason, responded_on, response_channel, no_response_on, created_at)
SELECT l.letter_id, l.facilitator_id, :'agency', 'inform_call_to_action', 'en',
       (SELECT id FROM letter_templates WHERE kind = 'inform_call_to_action' ORDER BY version LIMIT 1),
       st.status, c.id, 30,
       'OUT-' || extract(year FROM l.sent_on) || '-' || lpad((row_number() OVER (PARTITION BY extract(year FROM l.sent_on) ORDER BY l.letter_id))::text, 6, '0'),
       l.sent_on, l.sent_on + 30, '{}', 'Bench letter', '<p>bench</p>', 'bench',
       sha256(l.letter_id::text::bytea), sha256(l.facilitator_id::text::bytea), sha256('layout'::bytea), l.sent_on,
       l.sent_on, 'post',
       CASE WHEN st.status IN ('delivered', 'responded') OR (st.status = 'no_response' AND l.a < 0.48) THEN l.sent_on + 1 + floor(l.c * 4)::int END,
       CASE WHEN st.status = 'returned' THEN l.sent_on + 5 END, CASE WHEN st.status = 'returned' THEN 'Moved' END,
       CASE WHEN st.status = 'responded' THEN l.sent_on + 3 + floor(l.b * 40)::int END,
       CASE WHEN st.status = 'responded' THEN 'letter' END,
       CASE WHEN st.status = 'no_response' THEN l.sent_on + 31 END,
       l.sent_on
FROM first_letters l
-- (a letter past its deadline unanswered is no_response already, so the server's sweep finds nothing to do)
CROSS JOIN LATERAL (SELECT CASE WHEN l.a < 0.24 THEN 'responded' WHEN l.a < 0.52 AND l.a >= 0.48 THEN 'returned'
                                WHEN l.sent_on < current_date - 30 THEN 'no_response'
                                WHEN l.a < 0.48 THEN 'delivered' ELSE 'sent' END AS status) st
LEFT JOIN campaign_list c ON c.n = l.campaign_n;

-- Half of the letters not answered had a reminder.
INSERT INTO letters (facilitator_id, agency_id, kind, language, template_id, status, reminder_of, response_days, reference, letter_date,
                     response_deadline, snapshot, subject, html, text_body, html_sha256, text_sha256, layout_sha256, approved_at,
                     sent_on, send_method, no_response_on, created_at)
SELECT l.facilitator_id, :'agency', 'reminder', 'en', (SELECT id FROM letter_templates WHERE kind = 'reminder' ORDER BY version LIMIT 1),
       CASE WHEN l.sent_on + 40 + 14 < current_date THEN 'no_response' ELSE 'sent' END, l.letter_id, 14,
       'OUT-' || (2100 + extract(year FROM l.sent_on)) || '-' || lpad((row_number() OVER (PARTITION BY extract(year FROM l.sent_on) ORDER BY l.letter_id))::text, 6, '0'),
       least(l.sent_on + 40, current_date - 1), least(l.sent_on + 40, current_date - 1) + 14, '{}', 'Bench reminder', '<p>bench</p>', 'bench',
       sha256((l.letter_id::text || 'r')::bytea), sha256(l.facilitator_id::text::bytea), sha256('layout'::bytea), l.sent_on + 40,
       least(l.sent_on + 40, current_date - 1), 'post', CASE WHEN l.sent_on + 40 + 14 < current_date THEN l.sent_on + 55 END, l.sent_on + 40
FROM first_letters l WHERE l.a >= 0.24 AND l.c < 0.5;


-- ---------------------------------------------------------------- commitments
-- Suppliers that answered committed to one or two measures; half verified.
INSERT INTO measure_commitments (facilitator_id, measure_code, status, committed_on, due_on, implemented_on, verified_on, verifier,
                                 verification_method, created_at)
SELECT l.facilitator_id, m.code,
       CASE WHEN l.b < 0.5 THEN 'verified' WHEN l.b < 0.7 THEN 'implemented' ELSE 'committed' END,
       l.sent_on + 20, l.sent_on + 110,
       CASE WHEN l.b < 0.7 THEN l.sent_on + 60 END, CASE WHEN l.b < 0.5 THEN l.sent_on + 90 END,
       CASE WHEN l.b < 0.5 THEN 'bench' END, CASE WHEN l.b < 0.5 THEN 'site visit' END, now()
FROM first_letters l
CROSS JOIN LATERAL (SELECT code FROM measures ORDER BY md5(code || l.facilitator_id::text) LIMIT 1 + floor(l.c * 2)::int) m
WHERE l.a < 0.24;

-- ---------------------------------------------------------------- signals
CREATE TEMP TABLE new_signals AS
SELECT gen_random_uuid() AS id, g AS n, random() AS r1, random() AS r2, random() AS r3
FROM generate_series(1, (SELECT count(*) FROM pick)) g;
INSERT INTO signals (id, created_at) SELECT id, now() FROM new_signals;
CREATE TEMP TABLE indicator_list AS SELECT code, type, stage, row_number() OVER (ORDER BY code) AS n FROM signal_indicators;
INSERT INTO signal_versions (signal_id, version, type, stage, indicator_code, observed_on, source, reporter, description, facilitator_ids,
                             recorded_by_label)
SELECT s.id, 1, i.type, i.stage, i.code, (current_date - floor(s.r2 * 730)::int), 'bench', 'bench', '',
       ARRAY[p.id], 'bench'
FROM new_signals s
JOIN indicator_list i ON i.n = 1 + floor(s.r1 * 12)::int
JOIN pick p ON p.n = 1 + floor(s.r3 * (SELECT count(*) FROM pick))::bigint;
-- one in twenty corrected: a second version, a few days earlier
INSERT INTO signal_versions (signal_id, version, type, stage, indicator_code, observed_on, source, reporter, description, facilitator_ids,
                             correction_reason, recorded_by_label)
SELECT v.signal_id, 2, v.type, v.stage, v.indicator_code, v.observed_on - 3, v.source, v.reporter, v.description, v.facilitator_ids,
       'date corrected', 'bench'
FROM signal_versions v JOIN new_signals s ON s.id = v.signal_id WHERE s.r1 * 20 - floor(s.r1 * 20) < 0.05;
INSERT INTO signal_facilitators (signal_id, facilitator_id)
SELECT v.signal_id, v.facilitator_ids[1] FROM signal_versions v WHERE v.version = 1;

-- ---------------------------------------------------------------- licensing
CREATE TEMP TABLE action_rows AS
SELECT gen_random_uuid() AS id, p.id AS facilitator_id, p.a, p.b, p.c,
       (ARRAY['warning', 'warning', 'conditions', 'fine', 'fine', 'suspension', 'revocation'])[1 + floor(p.b * 7)::int] AS type,
       (ARRAY['proposed', 'notice_of_intent', 'decided', 'decided', 'decided', 'appealed', 'upheld', 'overturned', 'lifted', 'expired', 'withdrawn'])
           [1 + floor(p.c * 11)::int] AS status,
       (current_date - floor(p.a * 1000)::int % 700) AS proposed_on
FROM pick p WHERE p.b > 0.97;

INSERT INTO licensing_actions (id, facilitator_id, agency_id, type, status, legal_basis, rationale, conditions, amount_minor, currency,
                               effective_from, effective_to, suggested_type, proposed_at, proposed_by_label, decided_on, decided_at,
                               decided_by_label, ended_on, end_reason)
SELECT r.id, r.facilitator_id, :'agency', r.type, r.status, 'Bench Act, art. 12', 'bench',
       CASE WHEN r.type = 'conditions' THEN 'Track-and-trace on every parcel.' END,
       CASE WHEN r.type = 'fine' THEN 100000 + floor(r.a * 5000000)::bigint END,
       CASE WHEN r.type = 'fine' THEN (ARRAY['EUR', 'EUR', 'EUR', 'PLN', 'SEK'])[1 + floor(r.c * 5)::int] END,
       CASE WHEN r.type <> 'warning' AND d.decided THEN r.proposed_on + 40
            WHEN r.type = 'suspension' THEN r.proposed_on + 40 END,
       CASE WHEN r.type = 'suspension' THEN r.proposed_on + 130 END,
       CASE WHEN d.decided THEN 'warning' END,
       r.proposed_on, 'bench-officer',
       CASE WHEN d.decided THEN r.proposed_on + 35 END, CASE WHEN d.decided THEN r.proposed_on + 35 END,
       CASE WHEN d.decided THEN 'bench-director' END,
       CASE WHEN r.status IN ('lifted', 'withdrawn') THEN r.proposed_on + 60 WHEN r.status = 'expired' THEN coalesce(r.proposed_on + 130, r.proposed_on + 90) END,
       CASE WHEN r.status IN ('lifted', 'expired', 'withdrawn') THEN 'bench' END
FROM action_rows r
CROSS JOIN LATERAL (SELECT r.status NOT IN ('proposed', 'notice_of_intent', 'withdrawn') AS decided) d
WHERE NOT (r.status = 'expired' AND r.type IN ('warning', 'revocation'));

INSERT INTO licensing_appeals (action_id, stage, lodged_on, period_ended_on, grounds, recorded_by_label, outcome, outcome_on, outcome_reason,
                               outcome_recorded_by_label)
SELECT a.id, 1, a.decided_on + 10, a.decided_on + 30, 'bench', 'bench',
       CASE a.status WHEN 'upheld' THEN 'upheld' WHEN 'overturned' THEN 'overturned' END,
       CASE WHEN a.status IN ('upheld', 'overturned') THEN a.decided_on + 50 END,
       CASE WHEN a.status IN ('upheld', 'overturned') THEN 'bench' END,
       CASE WHEN a.status IN ('upheld', 'overturned') THEN 'bench' END
FROM licensing_actions a WHERE a.status IN ('appealed', 'upheld', 'overturned');

ANALYZE;
SELECT 'suppliers' AS rows, count(*) FROM facilitators
UNION ALL SELECT 'cooperation_changes', count(*) FROM cooperation_changes
UNION ALL SELECT 'cooperation_levels', count(*) FROM cooperation_levels
UNION ALL SELECT 'letters', count(*) FROM letters
UNION ALL SELECT 'measure_commitments', count(*) FROM measure_commitments
UNION ALL SELECT 'signals', count(*) FROM signals
UNION ALL SELECT 'signal_versions', count(*) FROM signal_versions
UNION ALL SELECT 'signal_facilitators', count(*) FROM signal_facilitators
UNION ALL SELECT 'licensing_actions', count(*) FROM licensing_actions
UNION ALL SELECT 'licensing_appeals', count(*) FROM licensing_appeals;
