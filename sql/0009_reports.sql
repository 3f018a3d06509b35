-- Reports: tallies kept in step with the rows they count (by statement-level
-- triggers, so a COPY of a million suppliers updates them once), the indexes
-- the reports read through, and action plans.

-- How many registered (not archived) suppliers are at each cooperation level,
-- per sector, country and stage. Stage '*' counts each supplier once; every
-- other stage counts the suppliers that serve it.
CREATE TABLE cooperation_tally (
    sector text NOT NULL,
    country char(2) NOT NULL,
    stage text NOT NULL,
    level text NOT NULL,
    -- No CHECK (suppliers >= 0): INSERT … ON CONFLICT checks the proposed row, a
    -- negative delta, before it finds the row to add it to. The tests compare the
    -- tally with the rows instead.
    suppliers bigint NOT NULL,
    PRIMARY KEY (sector, country, stage, level)
);

-- The month-by-month change of those counts, from the history: a supplier
-- enters as not_contacted in the month it is registered, and every change of
-- level moves it. Summed up to a month, it gives the levels at that month's end.
-- Archived suppliers stay in the history (they were there then).
CREATE TABLE cooperation_month_tally (
    month date NOT NULL CHECK (extract(day FROM month) = 1),
    sector text NOT NULL,
    country char(2) NOT NULL,
    stage text NOT NULL,
    level text NOT NULL,
    delta bigint NOT NULL,
    PRIMARY KEY (sector, country, stage, level, month)
);
CREATE INDEX cooperation_month_tally_month_idx ON cooperation_month_tally (month);

CREATE FUNCTION facilitators_tally_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cooperation_tally AS t (sector, country, stage, level, suppliers)
    SELECT n.sector, n.country, s.stage, coalesce(l.level, 'not_contacted'), count(*)
    FROM new_rows n LEFT JOIN cooperation_levels l ON l.facilitator_id = n.id
    CROSS JOIN LATERAL unnest(n.stages || '{*}'::text[]) s (stage)
    WHERE n.status <> 'archived'
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (sector, country, stage, level) DO UPDATE SET suppliers = t.suppliers + EXCLUDED.suppliers;
    INSERT INTO cooperation_month_tally AS t (month, sector, country, stage, level, delta)
    SELECT date_trunc('month', n.created_at)::date, n.sector, n.country, s.stage, 'not_contacted', count(*)
    FROM new_rows n CROSS JOIN LATERAL unnest(n.stages || '{*}'::text[]) s (stage)
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (sector, country, stage, level, month) DO UPDATE SET delta = t.delta + EXCLUDED.delta;
    RETURN NULL;
END $$;

-- A change of sector, country, stages or status moves the supplier's counts,
-- and its whole history in the monthly tally.
CREATE FUNCTION facilitators_tally_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cooperation_tally AS t (sector, country, stage, level, suppliers)
    SELECT sector, country, stage, level, sum(n) FROM (
        SELECT o.sector, o.country, s.stage, coalesce(l.level, 'not_contacted') AS level, -1 AS n
        FROM old_rows o JOIN new_rows w ON w.id = o.id LEFT JOIN cooperation_levels l ON l.facilitator_id = o.id
        CROSS JOIN LATERAL unnest(o.stages || '{*}'::text[]) s (stage)
        WHERE o.status <> 'archived' AND (o.sector, o.country, o.stages, o.status) IS DISTINCT FROM (w.sector, w.country, w.stages, w.status)
        UNION ALL
        SELECT w.sector, w.country, s.stage, coalesce(l.level, 'not_contacted'), 1
        FROM new_rows w JOIN old_rows o ON o.id = w.id LEFT JOIN cooperation_levels l ON l.facilitator_id = w.id
        CROSS JOIN LATERAL unnest(w.stages || '{*}'::text[]) s (stage)
        WHERE w.status <> 'archived' AND (o.sector, o.country, o.stages, o.status) IS DISTINCT FROM (w.sector, w.country, w.stages, w.status)
    ) d GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0
    ON CONFLICT (sector, country, stage, level) DO UPDATE SET suppliers = t.suppliers + EXCLUDED.suppliers;

    INSERT INTO cooperation_month_tally AS t (month, sector, country, stage, level, delta)
    SELECT month, sector, country, stage, level, sum(n) FROM (
        -- each moved supplier's history: its registration, then its changes
        SELECT v.side, v.sector, v.country, v.stages, h.month, h.level, h.n * v.side AS n
        FROM (SELECT o.id, -1 AS side, o.sector, o.country, o.stages FROM old_rows o JOIN new_rows w ON w.id = o.id
              WHERE (o.sector, o.country, o.stages) IS DISTINCT FROM (w.sector, w.country, w.stages)
              UNION ALL
              SELECT w.id, 1, w.sector, w.country, w.stages FROM new_rows w JOIN old_rows o ON o.id = w.id
              WHERE (o.sector, o.country, o.stages) IS DISTINCT FROM (w.sector, w.country, w.stages)) v
        CROSS JOIN LATERAL (
            SELECT date_trunc('month', f.created_at)::date AS month, 'not_contacted'::text AS level, 1 AS n
            FROM facilitators f WHERE f.id = v.id
            UNION ALL
            SELECT date_trunc('month', c.changed_at)::date, c.from_level, -1 FROM cooperation_changes c WHERE c.facilitator_id = v.id
            UNION ALL
            SELECT date_trunc('month', c.changed_at)::date, c.to_level, 1 FROM cooperation_changes c WHERE c.facilitator_id = v.id
        ) h
    ) d CROSS JOIN LATERAL unnest(d.stages || '{*}'::text[]) s (stage)
    GROUP BY month, sector, country, s.stage, level HAVING sum(n) <> 0
    ON CONFLICT (sector, country, stage, level, month) DO UPDATE SET delta = t.delta + EXCLUDED.delta;
    RETURN NULL;
END $$;

CREATE FUNCTION facilitators_tally_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cooperation_tally AS t (sector, country, stage, level, suppliers)
    SELECT o.sector, o.country, s.stage, coalesce(l.level, 'not_contacted'), -count(*)
    FROM old_rows o LEFT JOIN cooperation_levels l ON l.facilitator_id = o.id
    CROSS JOIN LATERAL unnest(o.stages || '{*}'::text[]) s (stage)
    WHERE o.status <> 'archived'
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (sector, country, stage, level) DO UPDATE SET suppliers = t.suppliers + EXCLUDED.suppliers;
    RETURN NULL;
END $$;

CREATE TRIGGER facilitators_tally_insert AFTER INSERT ON facilitators
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION facilitators_tally_insert();
CREATE TRIGGER facilitators_tally_update AFTER UPDATE ON facilitators
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION facilitators_tally_update();
CREATE TRIGGER facilitators_tally_delete AFTER DELETE ON facilitators
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION facilitators_tally_delete();

-- A change of level moves the supplier from one level's count to the other; a
-- first row replaces the implicit not_contacted, a deleted one restores it.
CREATE FUNCTION cooperation_levels_tally_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cooperation_tally AS t (sector, country, stage, level, suppliers)
    SELECT f.sector, f.country, s.stage, d.level, sum(d.n)
    FROM (SELECT facilitator_id, level, 1 AS n FROM new_level
          UNION ALL SELECT facilitator_id, 'not_contacted', -1 FROM new_level) d
    JOIN facilitators f ON f.id = d.facilitator_id CROSS JOIN LATERAL unnest(f.stages || '{*}'::text[]) s (stage)
    WHERE f.status <> 'archived'
    GROUP BY 1, 2, 3, 4 HAVING sum(d.n) <> 0
    ON CONFLICT (sector, country, stage, level) DO UPDATE SET suppliers = t.suppliers + EXCLUDED.suppliers;
    RETURN NULL;
END $$;
CREATE FUNCTION cooperation_levels_tally_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cooperation_tally AS t (sector, country, stage, level, suppliers)
    SELECT f.sector, f.country, s.stage, d.level, sum(d.n)
    FROM (SELECT facilitator_id, level, -1 AS n FROM old_level
          UNION ALL SELECT facilitator_id, level, 1 FROM new_level) d
    JOIN facilitators f ON f.id = d.facilitator_id CROSS JOIN LATERAL unnest(f.stages || '{*}'::text[]) s (stage)
    WHERE f.status <> 'archived'
    GROUP BY 1, 2, 3, 4 HAVING sum(d.n) <> 0
    ON CONFLICT (sector, country, stage, level) DO UPDATE SET suppliers = t.suppliers + EXCLUDED.suppliers;
    RETURN NULL;
END $$;
CREATE FUNCTION cooperation_levels_tally_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cooperation_tally AS t (sector, country, stage, level, suppliers)
    SELECT f.sector, f.country, s.stage, d.level, sum(d.n)
    FROM (SELECT facilitator_id, level, -1 AS n FROM old_level
          UNION ALL SELECT facilitator_id, 'not_contacted', 1 FROM old_level) d
    JOIN facilitators f ON f.id = d.facilitator_id CROSS JOIN LATERAL unnest(f.stages || '{*}'::text[]) s (stage)
    WHERE f.status <> 'archived'
    GROUP BY 1, 2, 3, 4 HAVING sum(d.n) <> 0
    ON CONFLICT (sector, country, stage, level) DO UPDATE SET suppliers = t.suppliers + EXCLUDED.suppliers;
    RETURN NULL;
END $$;
CREATE TRIGGER cooperation_levels_tally_insert AFTER INSERT ON cooperation_levels
    REFERENCING NEW TABLE AS new_level FOR EACH STATEMENT EXECUTE FUNCTION cooperation_levels_tally_insert();
CREATE TRIGGER cooperation_levels_tally_update AFTER UPDATE ON cooperation_levels
    REFERENCING OLD TABLE AS old_level NEW TABLE AS new_level FOR EACH STATEMENT EXECUTE FUNCTION cooperation_levels_tally_update();
CREATE TRIGGER cooperation_levels_tally_delete AFTER DELETE ON cooperation_levels
    REFERENCING OLD TABLE AS old_level FOR EACH STATEMENT EXECUTE FUNCTION cooperation_levels_tally_delete();

-- Each recorded change of level moves the supplier in the month it was made.
CREATE FUNCTION cooperation_changes_month_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cooperation_month_tally AS t (month, sector, country, stage, level, delta)
    SELECT d.month, f.sector, f.country, s.stage, d.level, sum(d.n)
    FROM (SELECT facilitator_id, date_trunc('month', changed_at)::date AS month, from_level AS level, -1 AS n FROM new_changes
          UNION ALL SELECT facilitator_id, date_trunc('month', changed_at)::date, to_level, 1 FROM new_changes) d
    JOIN facilitators f ON f.id = d.facilitator_id CROSS JOIN LATERAL unnest(f.stages || '{*}'::text[]) s (stage)
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(d.n) <> 0
    ON CONFLICT (sector, country, stage, level, month) DO UPDATE SET delta = t.delta + EXCLUDED.delta;
    RETURN NULL;
END $$;
CREATE TRIGGER cooperation_changes_month_tally AFTER INSERT ON cooperation_changes
    REFERENCING NEW TABLE AS new_changes FOR EACH STATEMENT EXECUTE FUNCTION cooperation_changes_month_tally();

-- The tallies of what is already there.
INSERT INTO cooperation_tally (sector, country, stage, level, suppliers)
SELECT f.sector, f.country, s.stage, coalesce(l.level, 'not_contacted'), count(*)
FROM facilitators f LEFT JOIN cooperation_levels l ON l.facilitator_id = f.id
CROSS JOIN LATERAL unnest(f.stages || '{*}'::text[]) s (stage)
WHERE f.status <> 'archived' GROUP BY 1, 2, 3, 4;

INSERT INTO cooperation_month_tally (month, sector, country, stage, level, delta)
SELECT h.month, f.sector, f.country, s.stage, h.level, sum(h.n)
FROM (SELECT id AS facilitator_id, date_trunc('month', created_at)::date AS month, 'not_contacted'::text AS level, 1 AS n FROM facilitators
      UNION ALL SELECT facilitator_id, date_trunc('month', changed_at)::date, from_level, -1 FROM cooperation_changes
      UNION ALL SELECT facilitator_id, date_trunc('month', changed_at)::date, to_level, 1 FROM cooperation_changes) h
JOIN facilitators f ON f.id = h.facilitator_id CROSS JOIN LATERAL unnest(f.stages || '{*}'::text[]) s (stage)
GROUP BY 1, 2, 3, 4, 5 HAVING sum(h.n) <> 0;

-- Signals per month, type and stage, by the sector and country of the
-- suppliers they concern. Each signal counts once per row key: '*' stands for
-- any sector or any country, so every combination of filters reads exact
-- counts. A signal counts by its current version (the highest).
CREATE TABLE signal_tally (
    month date NOT NULL,
    type text NOT NULL,
    stage text NOT NULL,
    sector text NOT NULL,
    country text NOT NULL,
    signals bigint NOT NULL,
    PRIMARY KEY (sector, country, stage, month, type)
);

CREATE FUNCTION signal_versions_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Versions only grow: the current one before this statement is the highest below the new ones.
    WITH touched AS (SELECT signal_id, min(version) AS first_new FROM new_versions GROUP BY signal_id),
    current AS (
        SELECT t.signal_id,
               (SELECT max(v.version) FROM signal_versions v WHERE v.signal_id = t.signal_id AND v.version < t.first_new) AS before,
               (SELECT max(v.version) FROM signal_versions v WHERE v.signal_id = t.signal_id) AS after
        FROM touched t),
    moves AS (SELECT signal_id, before AS version, -1 AS n FROM current WHERE before IS NOT NULL AND before <> after
              UNION ALL SELECT signal_id, after, 1 FROM current WHERE before IS DISTINCT FROM after),
    keyed AS (
        SELECT DISTINCT m.n, m.signal_id, date_trunc('month', v.observed_on)::date AS month, v.type, v.stage, k.sector, k.country
        FROM moves m JOIN signal_versions v ON v.signal_id = m.signal_id AND v.version = m.version
        CROSS JOIN LATERAL unnest(v.facilitator_ids) u (facilitator_id) JOIN facilitators f ON f.id = u.facilitator_id
        CROSS JOIN LATERAL (VALUES ('*', '*'), (f.sector, '*'), ('*', f.country::text), (f.sector, f.country::text)) k (sector, country))
    INSERT INTO signal_tally AS t (month, type, stage, sector, country, signals)
    SELECT month, type, stage, sector, country, sum(n) FROM keyed GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0
    ON CONFLICT (sector, country, stage, month, type) DO UPDATE SET signals = t.signals + EXCLUDED.signals;
    RETURN NULL;
END $$;
CREATE TRIGGER signal_versions_tally AFTER INSERT ON signal_versions
    REFERENCING NEW TABLE AS new_versions FOR EACH STATEMENT EXECUTE FUNCTION signal_versions_tally();

-- Verified measures per stage, sector and country of the supplier (each stage it serves).
CREATE TABLE measure_tally (
    stage text NOT NULL,
    sector text NOT NULL,
    country char(2) NOT NULL,
    verified bigint NOT NULL,
    PRIMARY KEY (stage, sector, country)
);

CREATE FUNCTION measure_commitments_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO measure_tally AS t (stage, sector, country, verified)
    SELECT s.stage, f.sector, f.country, sum(d.n)
    FROM (SELECT facilitator_id, -1 AS n FROM old_commitments WHERE status = 'verified'
          UNION ALL SELECT facilitator_id, 1 FROM new_commitments WHERE status = 'verified') d
    JOIN facilitators f ON f.id = d.facilitator_id CROSS JOIN LATERAL unnest(f.stages) s (stage)
    GROUP BY 1, 2, 3 HAVING sum(d.n) <> 0
    ON CONFLICT (stage, sector, country) DO UPDATE SET verified = t.verified + EXCLUDED.verified;
    RETURN NULL;
END $$;
-- Each event has its own transition tables; the missing side is an empty table of the same shape.
CREATE FUNCTION measure_commitments_tally_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO measure_tally AS t (stage, sector, country, verified)
    SELECT s.stage, f.sector, f.country, count(*)
    FROM new_commitments c JOIN facilitators f ON f.id = c.facilitator_id CROSS JOIN LATERAL unnest(f.stages) s (stage)
    WHERE c.status = 'verified' GROUP BY 1, 2, 3
    ON CONFLICT (stage, sector, country) DO UPDATE SET verified = t.verified + EXCLUDED.verified;
    RETURN NULL;
END $$;
CREATE TRIGGER measure_commitments_tally_insert AFTER INSERT ON measure_commitments
    REFERENCING NEW TABLE AS new_commitments FOR EACH STATEMENT EXECUTE FUNCTION measure_commitments_tally_insert();
CREATE TRIGGER measure_commitments_tally_update AFTER UPDATE ON measure_commitments
    REFERENCING OLD TABLE AS old_commitments NEW TABLE AS new_commitments FOR EACH STATEMENT EXECUTE FUNCTION measure_commitments_tally();

-- A supplier that changes sector, country or stages takes its signals and verified measures along.
CREATE FUNCTION facilitators_signal_measure_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
                   WHERE (o.sector, o.country, o.stages) IS DISTINCT FROM (n.sector, n.country, n.stages)) THEN
        RETURN NULL;
    END IF;

    WITH moved_suppliers AS (
        SELECT o.id, o.sector AS old_sector, o.country AS old_country, o.stages AS old_stages FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.sector, o.country, o.stages) IS DISTINCT FROM (n.sector, n.country, n.stages)),
    affected AS (SELECT DISTINCT sf.signal_id FROM signal_facilitators sf JOIN moved_suppliers m ON m.id = sf.facilitator_id),
    current AS (SELECT DISTINCT ON (v.signal_id) v.* FROM signal_versions v JOIN affected a ON a.signal_id = v.signal_id
                ORDER BY v.signal_id, v.version DESC),
    keyed AS (
        SELECT DISTINCT side.n, c.signal_id, date_trunc('month', c.observed_on)::date AS month, c.type, c.stage, k.sector, k.country
        FROM current c CROSS JOIN LATERAL unnest(c.facilitator_ids) u (facilitator_id)
        JOIN facilitators f ON f.id = u.facilitator_id LEFT JOIN moved_suppliers m ON m.id = f.id
        CROSS JOIN LATERAL (VALUES (-1, coalesce(m.old_sector, f.sector), coalesce(m.old_country, f.country)::text),
                                   (1, f.sector, f.country::text)) side (n, sector, country)
        CROSS JOIN LATERAL (VALUES ('*', '*'), (side.sector, '*'), ('*', side.country), (side.sector, side.country)) k (sector, country))
    INSERT INTO signal_tally AS t (month, type, stage, sector, country, signals)
    SELECT month, type, stage, sector, country, sum(n) FROM keyed GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0
    ON CONFLICT (sector, country, stage, month, type) DO UPDATE SET signals = t.signals + EXCLUDED.signals;

    WITH moved_suppliers AS (
        SELECT o.id, o.sector AS old_sector, o.country AS old_country, o.stages AS old_stages FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.sector, o.country, o.stages) IS DISTINCT FROM (n.sector, n.country, n.stages))
    INSERT INTO measure_tally AS t (stage, sector, country, verified)
    SELECT stage, sector, country, sum(n) FROM (
        SELECT s.stage, m.old_sector AS sector, m.old_country AS country, -1 AS n
        FROM moved_suppliers m JOIN measure_commitments c ON c.facilitator_id = m.id CROSS JOIN LATERAL unnest(m.old_stages) s (stage)
        WHERE c.status = 'verified'
        UNION ALL
        SELECT s.stage, f.sector, f.country, 1
        FROM moved_suppliers m JOIN facilitators f ON f.id = m.id JOIN measure_commitments c ON c.facilitator_id = m.id
        CROSS JOIN LATERAL unnest(f.stages) s (stage) WHERE c.status = 'verified') d
    GROUP BY 1, 2, 3 HAVING sum(n) <> 0
    ON CONFLICT (stage, sector, country) DO UPDATE SET verified = t.verified + EXCLUDED.verified;
    RETURN NULL;
END $$;
CREATE TRIGGER facilitators_signal_measure_tally AFTER UPDATE ON facilitators
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION facilitators_signal_measure_tally();

INSERT INTO signal_tally (month, type, stage, sector, country, signals)
SELECT month, type, stage, sector, country, count(*) FROM (
    SELECT DISTINCT v.signal_id, date_trunc('month', v.observed_on)::date AS month, v.type, v.stage, k.sector, k.country
    FROM signal_versions v CROSS JOIN LATERAL unnest(v.facilitator_ids) u (facilitator_id) JOIN facilitators f ON f.id = u.facilitator_id
    CROSS JOIN LATERAL (VALUES ('*', '*'), (f.sector, '*'), ('*', f.country::text), (f.sector, f.country::text)) k (sector, country)
    WHERE NOT EXISTS (SELECT 1 FROM signal_versions w WHERE w.signal_id = v.signal_id AND w.version > v.version)) d
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO measure_tally (stage, sector, country, verified)
SELECT s.stage, f.sector, f.country, count(*)
FROM measure_commitments c JOIN facilitators f ON f.id = c.facilitator_id CROSS JOIN LATERAL unnest(f.stages) s (stage)
WHERE c.status = 'verified' GROUP BY 1, 2, 3;

-- The outreach funnel per month of sending, agency, campaign ('' for none),
-- sector and country: first letters sent, reached (delivered or answered),
-- answered, and followed by a commitment to a measure (committed on or after
-- the letter's date) and a verified one; and how many days each answer took.
CREATE TABLE funnel_tally (
    month date NOT NULL,
    agency_id uuid NOT NULL,
    campaign text NOT NULL,
    sector text NOT NULL,
    country char(2) NOT NULL,
    sent bigint NOT NULL,
    reached bigint NOT NULL,
    responded bigint NOT NULL,
    committed bigint NOT NULL,
    verified bigint NOT NULL,
    PRIMARY KEY (sector, country, month, agency_id, campaign)
);
CREATE TABLE funnel_response_days (
    month date NOT NULL,
    agency_id uuid NOT NULL,
    campaign text NOT NULL,
    sector text NOT NULL,
    country char(2) NOT NULL,
    days integer NOT NULL,
    letters bigint NOT NULL,
    PRIMARY KEY (sector, country, month, agency_id, campaign, days)
);

-- The letters a trigger moves in the funnel, with the sector and country they
-- count under (one table per session, emptied at each commit).
CREATE FUNCTION funnel_letters_ready() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF to_regclass('pg_temp.funnel_letters') IS NULL THEN
        CREATE TEMP TABLE funnel_letters (
        facilitator_id uuid, agency_id uuid, campaign text, sector text, country char(2), sent_on date, letter_date date,
        reached boolean, responded_on date) ON COMMIT DELETE ROWS;
    END IF;
    TRUNCATE funnel_letters;
END $$;

-- Adds `sign` times the contribution of the letters in funnel_letters, with their suppliers' commitments as they stand.
CREATE FUNCTION funnel_tally_apply(sign integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO funnel_tally AS t (month, agency_id, campaign, sector, country, sent, reached, responded, committed, verified)
    SELECT date_trunc('month', l.sent_on)::date, l.agency_id, l.campaign, l.sector, l.country,
           sign * count(*), sign * count(*) FILTER (WHERE l.reached), sign * count(l.responded_on),
           sign * count(*) FILTER (WHERE c.committed_on >= l.letter_date), sign * count(*) FILTER (WHERE c.verified_on >= l.letter_date)
    FROM funnel_letters l
    LEFT JOIN LATERAL (SELECT max(m.committed_on) AS committed_on, max(m.committed_on) FILTER (WHERE m.status = 'verified') AS verified_on
                       FROM measure_commitments m WHERE m.facilitator_id = l.facilitator_id) c ON true
    GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (sector, country, month, agency_id, campaign) DO UPDATE
        SET sent = t.sent + EXCLUDED.sent, reached = t.reached + EXCLUDED.reached, responded = t.responded + EXCLUDED.responded,
            committed = t.committed + EXCLUDED.committed, verified = t.verified + EXCLUDED.verified;
    INSERT INTO funnel_response_days AS t (month, agency_id, campaign, sector, country, days, letters)
    SELECT date_trunc('month', l.sent_on)::date, l.agency_id, l.campaign, l.sector, l.country, l.responded_on - l.sent_on, sign * count(*)
    FROM funnel_letters l WHERE l.responded_on IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (sector, country, month, agency_id, campaign, days) DO UPDATE SET letters = t.letters + EXCLUDED.letters;
END $$;

CREATE FUNCTION letters_funnel_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM new_letters WHERE kind = 'inform_call_to_action' AND sent_on IS NOT NULL) THEN RETURN NULL; END IF;
    PERFORM funnel_letters_ready();
    INSERT INTO funnel_letters
    SELECT n.facilitator_id, n.agency_id, coalesce(n.campaign_id::text, ''), f.sector, f.country, n.sent_on, n.letter_date,
           coalesce(n.delivered_on, n.responded_on) IS NOT NULL, n.responded_on
    FROM new_letters n JOIN facilitators f ON f.id = n.facilitator_id
    WHERE n.kind = 'inform_call_to_action' AND n.sent_on IS NOT NULL;
    PERFORM funnel_tally_apply(1);
    RETURN NULL;
END $$;

CREATE FUNCTION letters_funnel_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- only the letters whose place in the funnel moved (not, say, a PDF stored)
    IF NOT EXISTS (
        SELECT 1 FROM new_letters n JOIN old_letters o ON o.id = n.id
        WHERE (n.kind = 'inform_call_to_action' OR o.kind = 'inform_call_to_action')
          AND (o.sent_on, o.delivered_on, o.responded_on, o.letter_date, o.campaign_id, o.agency_id, o.facilitator_id, o.kind)
              IS DISTINCT FROM (n.sent_on, n.delivered_on, n.responded_on, n.letter_date, n.campaign_id, n.agency_id, n.facilitator_id, n.kind))
    THEN RETURN NULL; END IF;
    PERFORM funnel_letters_ready();
    INSERT INTO funnel_letters
    SELECT o.facilitator_id, o.agency_id, coalesce(o.campaign_id::text, ''), f.sector, f.country, o.sent_on, o.letter_date,
           coalesce(o.delivered_on, o.responded_on) IS NOT NULL, o.responded_on
    FROM old_letters o JOIN facilitators f ON f.id = o.facilitator_id
    WHERE o.kind = 'inform_call_to_action' AND o.sent_on IS NOT NULL;
    PERFORM funnel_tally_apply(-1);
    TRUNCATE funnel_letters;
    INSERT INTO funnel_letters
    SELECT n.facilitator_id, n.agency_id, coalesce(n.campaign_id::text, ''), f.sector, f.country, n.sent_on, n.letter_date,
           coalesce(n.delivered_on, n.responded_on) IS NOT NULL, n.responded_on
    FROM new_letters n JOIN facilitators f ON f.id = n.facilitator_id
    WHERE n.kind = 'inform_call_to_action' AND n.sent_on IS NOT NULL;
    PERFORM funnel_tally_apply(1);
    RETURN NULL;
END $$;
CREATE TRIGGER letters_funnel_insert AFTER INSERT ON letters
    REFERENCING NEW TABLE AS new_letters FOR EACH STATEMENT EXECUTE FUNCTION letters_funnel_insert();
CREATE TRIGGER letters_funnel_update AFTER UPDATE ON letters
    REFERENCING OLD TABLE AS old_letters NEW TABLE AS new_letters FOR EACH STATEMENT EXECUTE FUNCTION letters_funnel_update();

-- A commitment made or verified moves the supplier's first letters dated on or
-- before it. `funnel_commitment_moves` adds, per letter of the suppliers in
-- funnel_maxima, the change of its committed and verified flags.
CREATE FUNCTION funnel_commitment_moves() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO funnel_tally AS t (month, agency_id, campaign, sector, country, sent, reached, responded, committed, verified)
    SELECT date_trunc('month', l.sent_on)::date, l.agency_id, coalesce(l.campaign_id::text, ''), f.sector, f.country, 0, 0, 0,
           sum(coalesce((x.after_committed >= l.letter_date)::int, 0) - coalesce((x.before_committed >= l.letter_date)::int, 0)),
           sum(coalesce((x.after_verified >= l.letter_date)::int, 0) - coalesce((x.before_verified >= l.letter_date)::int, 0))
    FROM funnel_maxima x
    JOIN letters l ON l.facilitator_id = x.facilitator_id AND l.kind = 'inform_call_to_action' AND l.sent_on IS NOT NULL
    JOIN facilitators f ON f.id = l.facilitator_id
    GROUP BY 1, 2, 3, 4, 5
    HAVING sum(coalesce((x.after_committed >= l.letter_date)::int, 0) - coalesce((x.before_committed >= l.letter_date)::int, 0)) <> 0
        OR sum(coalesce((x.after_verified >= l.letter_date)::int, 0) - coalesce((x.before_verified >= l.letter_date)::int, 0)) <> 0
    ON CONFLICT (sector, country, month, agency_id, campaign) DO UPDATE
        SET committed = t.committed + EXCLUDED.committed, verified = t.verified + EXCLUDED.verified;
    DROP TABLE funnel_maxima;
END $$;

-- The latest commitment of each touched supplier before and after the statement
-- (rows of new_commitments exist only after; rows of old_commitments only before).
CREATE FUNCTION measure_commitments_funnel_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMP TABLE funnel_maxima ON COMMIT DROP AS
    SELECT a.facilitator_id,
           max(a.committed_on) FILTER (WHERE n.id IS NULL) AS before_committed,
           max(a.committed_on) FILTER (WHERE n.id IS NULL AND a.status = 'verified') AS before_verified,
           max(a.committed_on) AS after_committed,
           max(a.committed_on) FILTER (WHERE a.status = 'verified') AS after_verified
    FROM measure_commitments a JOIN (SELECT DISTINCT facilitator_id FROM new_commitments) t ON t.facilitator_id = a.facilitator_id
    LEFT JOIN new_commitments n ON n.id = a.id
    GROUP BY a.facilitator_id;
    PERFORM funnel_commitment_moves();
    RETURN NULL;
END $$;
CREATE FUNCTION measure_commitments_funnel() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMP TABLE funnel_maxima ON COMMIT DROP AS
    SELECT facilitator_id,
           max(committed_on) FILTER (WHERE side <= 0) AS before_committed,
           max(committed_on) FILTER (WHERE side <= 0 AND status = 'verified') AS before_verified,
           max(committed_on) FILTER (WHERE side >= 0) AS after_committed,
           max(committed_on) FILTER (WHERE side >= 0 AND status = 'verified') AS after_verified
    FROM (SELECT a.facilitator_id, a.committed_on, a.status, CASE WHEN n.id IS NULL THEN 0 ELSE 1 END AS side
          FROM measure_commitments a JOIN (SELECT DISTINCT facilitator_id FROM new_commitments) t ON t.facilitator_id = a.facilitator_id
          LEFT JOIN new_commitments n ON n.id = a.id
          UNION ALL SELECT o.facilitator_id, o.committed_on, o.status, -1 FROM old_commitments o) x
    GROUP BY facilitator_id;
    PERFORM funnel_commitment_moves();
    RETURN NULL;
END $$;
CREATE TRIGGER measure_commitments_funnel_insert AFTER INSERT ON measure_commitments
    REFERENCING NEW TABLE AS new_commitments FOR EACH STATEMENT EXECUTE FUNCTION measure_commitments_funnel_insert();
CREATE TRIGGER measure_commitments_funnel_update AFTER UPDATE ON measure_commitments
    REFERENCING OLD TABLE AS old_commitments NEW TABLE AS new_commitments FOR EACH STATEMENT EXECUTE FUNCTION measure_commitments_funnel();

-- A supplier that changes sector or country takes its letters' places in the funnel along.
CREATE FUNCTION facilitators_funnel() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE (o.sector, o.country) IS DISTINCT FROM (n.sector, n.country)) THEN
        RETURN NULL;
    END IF;
    PERFORM funnel_letters_ready();
    INSERT INTO funnel_letters
    SELECT l.facilitator_id, l.agency_id, coalesce(l.campaign_id::text, ''), o.sector, o.country, l.sent_on, l.letter_date,
           coalesce(l.delivered_on, l.responded_on) IS NOT NULL, l.responded_on
    FROM old_rows o JOIN new_rows n ON n.id = o.id AND (o.sector, o.country) IS DISTINCT FROM (n.sector, n.country)
    JOIN letters l ON l.facilitator_id = o.id AND l.kind = 'inform_call_to_action' AND l.sent_on IS NOT NULL;
    PERFORM funnel_tally_apply(-1);
    UPDATE funnel_letters l SET sector = n.sector, country = n.country FROM new_rows n WHERE n.id = l.facilitator_id;
    PERFORM funnel_tally_apply(1);
    RETURN NULL;
END $$;
CREATE TRIGGER facilitators_funnel AFTER UPDATE ON facilitators
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION facilitators_funnel();

-- The funnel of the letters already there.
SELECT funnel_letters_ready();
INSERT INTO funnel_letters
SELECT l.facilitator_id, l.agency_id, coalesce(l.campaign_id::text, ''), f.sector, f.country, l.sent_on, l.letter_date,
       coalesce(l.delivered_on, l.responded_on) IS NOT NULL, l.responded_on
FROM letters l JOIN facilitators f ON f.id = l.facilitator_id WHERE l.kind = 'inform_call_to_action' AND l.sent_on IS NOT NULL;
SELECT funnel_tally_apply(1);
DROP TABLE funnel_letters;

-- What the reports read by.
CREATE INDEX letters_sent_idx ON letters (sent_on) WHERE sent_on IS NOT NULL;
CREATE INDEX signal_versions_observed_idx ON signal_versions (observed_on);
CREATE INDEX measure_commitments_facilitator_idx ON measure_commitments (facilitator_id, status);
CREATE INDEX licensing_actions_decided_idx ON licensing_actions (decided_on) WHERE decided_on IS NOT NULL;

-- Action plans: objectives, measures, the coordinating partner, indicators with
-- a target (measured from the registry where an indicator is a report figure,
-- or recorded by hand) and the evaluation dates.
CREATE TABLE action_plans (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agency_id uuid NOT NULL REFERENCES agencies (id),
    title text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 20000),
    coordinating_agency_id uuid NOT NULL REFERENCES agencies (id),
    starts_on date NOT NULL,
    ends_on date NOT NULL CHECK (ends_on > starts_on),
    evaluation_dates date[] NOT NULL DEFAULT '{}' CHECK (cardinality(evaluation_dates) <= 50),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid REFERENCES users (id),
    version integer NOT NULL DEFAULT 1 CHECK (version > 0)
);

CREATE TABLE action_plan_objectives (
    plan_id uuid NOT NULL REFERENCES action_plans (id),
    position integer NOT NULL CHECK (position >= 0),
    text text NOT NULL CHECK (length(btrim(text)) BETWEEN 1 AND 2000),
    PRIMARY KEY (plan_id, position)
);

CREATE TABLE action_plan_measures (
    plan_id uuid NOT NULL REFERENCES action_plans (id),
    position integer NOT NULL CHECK (position >= 0),
    objective integer,
    description text NOT NULL CHECK (length(btrim(description)) BETWEEN 1 AND 2000),
    responsible text CHECK (length(responsible) <= 200),
    due_on date,
    status text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'in_progress', 'done', 'dropped')),
    PRIMARY KEY (plan_id, position),
    FOREIGN KEY (plan_id, objective) REFERENCES action_plan_objectives (plan_id, position)
);

CREATE TABLE action_plan_indicators (
    plan_id uuid NOT NULL REFERENCES action_plans (id),
    position integer NOT NULL CHECK (position >= 0),
    objective integer,
    name text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    -- A report figure the registry measures, or 'manual' for a value recorded by hand.
    metric text NOT NULL CHECK (metric IN ('manual', 'share_contacted', 'share_cooperating', 'response_rate', 'verified_measures',
                                           'signals_observed', 'final_restrictive_actions')),
    sector text REFERENCES sectors (code),
    country char(2) REFERENCES countries (code),
    target numeric NOT NULL CHECK (target >= 0),
    baseline numeric CHECK (baseline >= 0),
    measured numeric CHECK (measured >= 0),
    measured_on date,
    PRIMARY KEY (plan_id, position),
    FOREIGN KEY (plan_id, objective) REFERENCES action_plan_objectives (plan_id, position),
    CHECK (metric = 'manual' OR (measured IS NULL AND measured_on IS NULL)),
    CHECK ((measured IS NULL) = (measured_on IS NULL))
);

-- What each indicator measures today: a value recorded by hand, or a report
-- figure over the plan's period and the indicator's sector and country.
CREATE VIEW action_plan_indicator_values AS
SELECT i.plan_id, i.position,
    CASE i.metric
    WHEN 'manual' THEN i.measured
    WHEN 'share_contacted' THEN (
        SELECT round(100.0 * sum(t.suppliers) FILTER (WHERE t.level <> 'not_contacted') / nullif(sum(t.suppliers), 0), 2)
        FROM cooperation_tally t WHERE t.stage = '*' AND t.sector = coalesce(i.sector, t.sector) AND t.country = coalesce(i.country, t.country))
    WHEN 'share_cooperating' THEN (
        SELECT round(100.0 * sum(t.suppliers) FILTER (WHERE t.level IN ('cooperating', 'partially_cooperating')) / nullif(sum(t.suppliers), 0), 2)
        FROM cooperation_tally t WHERE t.stage = '*' AND t.sector = coalesce(i.sector, t.sector) AND t.country = coalesce(i.country, t.country))
    WHEN 'response_rate' THEN (
        SELECT round(100.0 * sum(t.responded) / nullif(sum(t.sent), 0), 2) FROM funnel_tally t
        WHERE t.month BETWEEN date_trunc('month', p.starts_on)::date AND p.ends_on
          AND t.sector = coalesce(i.sector, t.sector) AND t.country = coalesce(i.country, t.country))
    WHEN 'verified_measures' THEN (
        SELECT count(*) FROM measure_commitments m JOIN facilitators f ON f.id = m.facilitator_id
        WHERE m.status = 'verified' AND m.verified_on BETWEEN p.starts_on AND p.ends_on
          AND f.sector = coalesce(i.sector, f.sector) AND f.country = coalesce(i.country, f.country))
    WHEN 'signals_observed' THEN (
        SELECT coalesce(sum(t.signals), 0) FROM signal_tally t
        WHERE t.sector = coalesce(i.sector, '*') AND t.country = coalesce(i.country::text, '*')
          AND t.month BETWEEN date_trunc('month', p.starts_on)::date AND p.ends_on)
    WHEN 'final_restrictive_actions' THEN (
        SELECT count(*) FROM licensing_actions a JOIN facilitators f ON f.id = a.facilitator_id
        WHERE a.type <> 'warning' AND a.status IN ('decided', 'upheld') AND a.decided_on BETWEEN p.starts_on AND p.ends_on
          AND f.sector = coalesce(i.sector, f.sector) AND f.country = coalesce(i.country, f.country))
    END AS measured
FROM action_plan_indicators i JOIN action_plans p ON p.id = i.plan_id;

-- The API's document of a plan, with each indicator's measured value and progress towards its target.
CREATE VIEW action_plan_documents AS
SELECT p.id, p.version, p.agency_id, json_build_object(
        'id', p.id, 'agency_id', p.agency_id, 'title', p.title, 'description', p.description,
        'coordinating_agency', json_build_object('id', c.id, 'name', c.name, 'country', c.country),
        'starts_on', p.starts_on, 'ends_on', p.ends_on,
        'evaluations', coalesce((SELECT json_agg(json_build_object('on', d, 'done', d <= current_date) ORDER BY d)
                                 FROM unnest(p.evaluation_dates) d), '[]'::json),
        'next_evaluation', (SELECT min(d) FROM unnest(p.evaluation_dates) d WHERE d > current_date),
        'objectives', coalesce((SELECT json_agg(json_build_object('position', o.position, 'text', o.text) ORDER BY o.position)
                                FROM action_plan_objectives o WHERE o.plan_id = p.id), '[]'::json),
        'measures', coalesce((SELECT json_agg(json_build_object('position', m.position, 'objective', m.objective, 'description', m.description,
                                                               'responsible', m.responsible, 'due_on', m.due_on, 'status', m.status,
                                                               'overdue', m.status IN ('planned', 'in_progress') AND m.due_on < current_date)
                                              ORDER BY m.position)
                              FROM action_plan_measures m WHERE m.plan_id = p.id), '[]'::json),
        'indicators', coalesce((SELECT json_agg(json_build_object('position', i.position, 'objective', i.objective, 'name', i.name,
                                                                 'metric', i.metric, 'sector', i.sector, 'country', i.country,
                                                                 'target', i.target, 'baseline', i.baseline, 'measured', v.measured,
                                                                 'measured_on', CASE WHEN i.metric = 'manual' THEN i.measured_on ELSE current_date END,
                                                                 'progress', CASE WHEN v.measured IS NULL THEN NULL
                                                                     WHEN i.target = coalesce(i.baseline, 0) THEN CASE WHEN v.measured >= i.target THEN 1 ELSE 0 END
                                                                     ELSE round(greatest(0, least(1, (v.measured - coalesce(i.baseline, 0))
                                                                                                   / (i.target - coalesce(i.baseline, 0)))), 4) END)
                                                ORDER BY i.position)
                                FROM action_plan_indicators i JOIN action_plan_indicator_values v ON v.plan_id = i.plan_id AND v.position = i.position
                                WHERE i.plan_id = p.id), '[]'::json),
        'measures_done', (SELECT count(*) FROM action_plan_measures m WHERE m.plan_id = p.id AND m.status = 'done'),
        'measures_total', (SELECT count(*) FROM action_plan_measures m WHERE m.plan_id = p.id AND m.status <> 'dropped'),
        'created_at', p.created_at, 'version', p.version) AS document
FROM action_plans p JOIN agencies c ON c.id = p.coordinating_agency_id;

-- Signed-in browser sessions for the HTML pages: the cookie holds a random
-- token, the table its SHA-256, with the token that guards the session's forms.
CREATE TABLE web_sessions (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id uuid NOT NULL REFERENCES users (id),
    csrf_token text NOT NULL CHECK (length(csrf_token) >= 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX web_sessions_expiry_idx ON web_sessions (expires_at);
