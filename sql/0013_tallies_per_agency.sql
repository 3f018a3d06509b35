-- The report tallies of 0009, per agency. Every agency sees every supplier of
-- the shared registry, and a supplier it has no level for is not_contacted for
-- it. So the cooperation tallies hold SHARED BASE rows under the nil agency
-- '00000000-0000-0000-0000-000000000000' (every supplier as not_contacted, as
-- registered, whatever any agency does) and each agency's DELTAS from that base
-- (+1 at its level and -1 at not_contacted for each supplier it has a level
-- for). An agency's counts are the base rows plus its own: registering a
-- million suppliers writes base rows only, and one agency's work never touches
-- another's rows. Signals and verified measures count under their own agency.
-- The trigger functions keep their names (the triggers stay attached) and run
-- as the owner, as 0012 made them: a supplier's change moves every agency's rows.

-- Rebuilt at the end from the rows.
TRUNCATE cooperation_tally, cooperation_month_tally, signal_tally, measure_tally;

-- No reference to agencies: the nil agency is none. An agency's rows at
-- not_contacted are negative (suppliers it took out of the base).
ALTER TABLE cooperation_tally ADD COLUMN agency_id uuid NOT NULL;
ALTER TABLE cooperation_tally DROP CONSTRAINT cooperation_tally_pkey;
ALTER TABLE cooperation_tally ADD PRIMARY KEY (agency_id, sector, country, stage, level);

ALTER TABLE cooperation_month_tally ADD COLUMN agency_id uuid NOT NULL;
ALTER TABLE cooperation_month_tally DROP CONSTRAINT cooperation_month_tally_pkey;
ALTER TABLE cooperation_month_tally ADD PRIMARY KEY (agency_id, sector, country, stage, level, month);

ALTER TABLE signal_tally ADD COLUMN agency_id uuid NOT NULL;
ALTER TABLE signal_tally DROP CONSTRAINT signal_tally_pkey;
ALTER TABLE signal_tally ADD PRIMARY KEY (agency_id, sector, country, stage, month, type);

ALTER TABLE measure_tally ADD COLUMN agency_id uuid NOT NULL;
ALTER TABLE measure_tally DROP CONSTRAINT measure_tally_pkey;
ALTER TABLE measure_tally ADD PRIMARY KEY (agency_id, stage, sector, country);

-- A supplier's history across agencies, for the trigger that moves it when the
-- supplier changes sector (0011 replaced the index by supplier with one by agency first).
CREATE INDEX cooperation_changes_supplier_idx ON cooperation_changes (facilitator_id);

-- New suppliers have no levels and no history yet (both reference the supplier):
-- only the base rows move, in one pass over the COPY.
CREATE OR REPLACE FUNCTION facilitators_tally_insert() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO cooperation_tally AS t (agency_id, sector, country, stage, level, suppliers)
    SELECT '00000000-0000-0000-0000-000000000000'::uuid, n.sector, n.country, s.stage, 'not_contacted', count(*)
    FROM new_rows n CROSS JOIN LATERAL unnest(n.stages || '{*}'::text[]) s (stage)
    WHERE n.status <> 'archived'
    GROUP BY 2, 3, 4
    ON CONFLICT (agency_id, sector, country, stage, level) DO UPDATE SET suppliers = t.suppliers + EXCLUDED.suppliers;
    INSERT INTO cooperation_month_tally AS t (agency_id, month, sector, country, stage, level, delta)
    SELECT '00000000-0000-0000-0000-000000000000'::uuid, date_trunc('month', n.created_at)::date, n.sector, n.country, s.stage,
           'not_contacted', count(*)
    FROM new_rows n CROSS JOIN LATERAL unnest(n.stages || '{*}'::text[]) s (stage)
    GROUP BY 2, 3, 4, 5
    ON CONFLICT (agency_id, sector, country, stage, level, month) DO UPDATE SET delta = t.delta + EXCLUDED.delta;
    RETURN NULL;
END $$;

-- A change of sector, country, stages or status moves the supplier's base row
-- and every agency's delta for it; a change of sector, country or stages (or
-- registration date) moves its registration and every agency's history in the
-- monthly tally. Each moved supplier counts -1 at its old place, +1 at its new.
CREATE OR REPLACE FUNCTION facilitators_tally_update() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    WITH sides AS (
        SELECT o.id, -1 AS side, o.sector, o.country, o.stages FROM old_rows o JOIN new_rows w ON w.id = o.id
        WHERE o.status <> 'archived' AND (o.sector, o.country, o.stages, o.status) IS DISTINCT FROM (w.sector, w.country, w.stages, w.status)
        UNION ALL
        SELECT w.id, 1, w.sector, w.country, w.stages FROM new_rows w JOIN old_rows o ON o.id = w.id
        WHERE w.status <> 'archived' AND (o.sector, o.country, o.stages, o.status) IS DISTINCT FROM (w.sector, w.country, w.stages, w.status))
    INSERT INTO cooperation_tally AS t (agency_id, sector, country, stage, level, suppliers)
    SELECT d.agency_id, d.sector, d.country, s.stage, d.level, sum(d.n) FROM (
        -- the shared base: not_contacted
        SELECT v.sector, v.country, v.stages, '00000000-0000-0000-0000-000000000000'::uuid AS agency_id, 'not_contacted'::text AS level,
               v.side AS n
        FROM sides v
        UNION ALL
        -- each agency's delta: at its level instead of not_contacted
        SELECT v.sector, v.country, v.stages, l.agency_id, x.level, v.side * x.n
        FROM sides v JOIN cooperation_levels l ON l.facilitator_id = v.id
        CROSS JOIN LATERAL (VALUES (l.level, 1), ('not_contacted', -1)) x (level, n)
    ) d CROSS JOIN LATERAL unnest(d.stages || '{*}'::text[]) s (stage)
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(d.n) <> 0
    ON CONFLICT (agency_id, sector, country, stage, level) DO UPDATE SET suppliers = t.suppliers + EXCLUDED.suppliers;

    -- Archived suppliers stay in the history, so status does not move it.
    WITH sides AS (
        SELECT o.id, -1 AS side, o.sector, o.country, o.stages, o.created_at FROM old_rows o JOIN new_rows w ON w.id = o.id
        WHERE (o.sector, o.country, o.stages, o.created_at) IS DISTINCT FROM (w.sector, w.country, w.stages, w.created_at)
        UNION ALL
        SELECT w.id, 1, w.sector, w.country, w.stages, w.created_at FROM new_rows w JOIN old_rows o ON o.id = w.id
        WHERE (o.sector, o.country, o.stages, o.created_at) IS DISTINCT FROM (w.sector, w.country, w.stages, w.created_at))
    INSERT INTO cooperation_month_tally AS t (agency_id, month, sector, country, stage, level, delta)
    SELECT d.agency_id, d.month, d.sector, d.country, s.stage, d.level, sum(d.n) FROM (
        -- the shared base: its registration
        SELECT v.sector, v.country, v.stages, '00000000-0000-0000-0000-000000000000'::uuid AS agency_id,
               date_trunc('month', v.created_at)::date AS month, 'not_contacted'::text AS level, v.side AS n
        FROM sides v
        UNION ALL
        -- each agency's changes of level
        SELECT v.sector, v.country, v.stages, c.agency_id, date_trunc('month', c.changed_at)::date, x.level, v.side * x.n
        FROM sides v JOIN cooperation_changes c ON c.facilitator_id = v.id
        CROSS JOIN LATERAL (VALUES (c.from_level, -1), (c.to_level, 1)) x (level, n)
    ) d CROSS JOIN LATERAL unnest(d.stages || '{*}'::text[]) s (stage)
    GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(d.n) <> 0
    ON CONFLICT (agency_id, sector, country, stage, level, month) DO UPDATE SET delta = t.delta + EXCLUDED.delta;
    RETURN NULL;
END $$;

-- A deleted supplier has no levels and no history left (they reference it), so
-- only its base rows go: its count, and its registration in the monthly tally
-- (which the rebuild from the rows would not find either).
CREATE OR REPLACE FUNCTION facilitators_tally_delete() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO cooperation_tally AS t (agency_id, sector, country, stage, level, suppliers)
    SELECT '00000000-0000-0000-0000-000000000000'::uuid, o.sector, o.country, s.stage, 'not_contacted', -count(*)
    FROM old_rows o CROSS JOIN LATERAL unnest(o.stages || '{*}'::text[]) s (stage)
    WHERE o.status <> 'archived'
    GROUP BY 2, 3, 4
    ON CONFLICT (agency_id, sector, country, stage, level) DO UPDATE SET suppliers = t.suppliers + EXCLUDED.suppliers;
    INSERT INTO cooperation_month_tally AS t (agency_id, month, sector, country, stage, level, delta)
    SELECT '00000000-0000-0000-0000-000000000000'::uuid, date_trunc('month', o.created_at)::date, o.sector, o.country, s.stage,
           'not_contacted', -count(*)
    FROM old_rows o CROSS JOIN LATERAL unnest(o.stages || '{*}'::text[]) s (stage)
    GROUP BY 2, 3, 4, 5
    ON CONFLICT (agency_id, sector, country, stage, level, month) DO UPDATE SET delta = t.delta + EXCLUDED.delta;
    RETURN NULL;
END $$;

-- An agency's level row is its delta from the base: +1 at the level, -1 at
-- not_contacted. Inserted rows add it, deleted rows take it away, and updated
-- rows take the old one away and add the new one (under each row's own agency).
CREATE OR REPLACE FUNCTION cooperation_levels_tally_insert() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO cooperation_tally AS t (agency_id, sector, country, stage, level, suppliers)
    SELECT n.agency_id, f.sector, f.country, s.stage, x.level, sum(x.n)
    FROM new_level n CROSS JOIN LATERAL (VALUES (n.level, 1), ('not_contacted', -1)) x (level, n)
    JOIN facilitators f ON f.id = n.facilitator_id CROSS JOIN LATERAL unnest(f.stages || '{*}'::text[]) s (stage)
    WHERE f.status <> 'archived'
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(x.n) <> 0
    ON CONFLICT (agency_id, sector, country, stage, level) DO UPDATE SET suppliers = t.suppliers + EXCLUDED.suppliers;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION cooperation_levels_tally_update() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO cooperation_tally AS t (agency_id, sector, country, stage, level, suppliers)
    SELECT d.agency_id, f.sector, f.country, s.stage, x.level, sum(x.n)
    FROM (SELECT agency_id, facilitator_id, level, -1 AS side FROM old_level
          UNION ALL SELECT agency_id, facilitator_id, level, 1 FROM new_level) d
    CROSS JOIN LATERAL (VALUES (d.level, d.side), ('not_contacted', -d.side)) x (level, n)
    JOIN facilitators f ON f.id = d.facilitator_id CROSS JOIN LATERAL unnest(f.stages || '{*}'::text[]) s (stage)
    WHERE f.status <> 'archived'
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(x.n) <> 0
    ON CONFLICT (agency_id, sector, country, stage, level) DO UPDATE SET suppliers = t.suppliers + EXCLUDED.suppliers;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION cooperation_levels_tally_delete() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO cooperation_tally AS t (agency_id, sector, country, stage, level, suppliers)
    SELECT o.agency_id, f.sector, f.country, s.stage, x.level, sum(x.n)
    FROM old_level o CROSS JOIN LATERAL (VALUES (o.level, -1), ('not_contacted', 1)) x (level, n)
    JOIN facilitators f ON f.id = o.facilitator_id CROSS JOIN LATERAL unnest(f.stages || '{*}'::text[]) s (stage)
    WHERE f.status <> 'archived'
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(x.n) <> 0
    ON CONFLICT (agency_id, sector, country, stage, level) DO UPDATE SET suppliers = t.suppliers + EXCLUDED.suppliers;
    RETURN NULL;
END $$;

-- Each recorded change of level moves the supplier in the month it was made, in
-- the history of the agency that made it.
CREATE OR REPLACE FUNCTION cooperation_changes_month_tally() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO cooperation_month_tally AS t (agency_id, month, sector, country, stage, level, delta)
    SELECT n.agency_id, date_trunc('month', n.changed_at)::date, f.sector, f.country, s.stage, x.level, sum(x.n)
    FROM new_changes n CROSS JOIN LATERAL (VALUES (n.from_level, -1), (n.to_level, 1)) x (level, n)
    JOIN facilitators f ON f.id = n.facilitator_id CROSS JOIN LATERAL unnest(f.stages || '{*}'::text[]) s (stage)
    GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(x.n) <> 0
    ON CONFLICT (agency_id, sector, country, stage, level, month) DO UPDATE SET delta = t.delta + EXCLUDED.delta;
    RETURN NULL;
END $$;

-- A signal counts under the agency that owns it (signal_versions has none of its own).
CREATE OR REPLACE FUNCTION signal_versions_tally() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
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
        SELECT DISTINCT m.n, m.signal_id, g.agency_id, date_trunc('month', v.observed_on)::date AS month, v.type, v.stage, k.sector, k.country
        FROM moves m JOIN signals g ON g.id = m.signal_id JOIN signal_versions v ON v.signal_id = m.signal_id AND v.version = m.version
        CROSS JOIN LATERAL unnest(v.facilitator_ids) u (facilitator_id) JOIN facilitators f ON f.id = u.facilitator_id
        CROSS JOIN LATERAL (VALUES ('*', '*'), (f.sector, '*'), ('*', f.country::text), (f.sector, f.country::text)) k (sector, country))
    INSERT INTO signal_tally AS t (agency_id, month, type, stage, sector, country, signals)
    SELECT agency_id, month, type, stage, sector, country, sum(n) FROM keyed GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(n) <> 0
    ON CONFLICT (agency_id, sector, country, stage, month, type) DO UPDATE SET signals = t.signals + EXCLUDED.signals;
    RETURN NULL;
END $$;

-- A verified commitment counts under the agency that recorded it.
CREATE OR REPLACE FUNCTION measure_commitments_tally() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO measure_tally AS t (agency_id, stage, sector, country, verified)
    SELECT d.agency_id, s.stage, f.sector, f.country, sum(d.n)
    FROM (SELECT agency_id, facilitator_id, -1 AS n FROM old_commitments WHERE status = 'verified'
          UNION ALL SELECT agency_id, facilitator_id, 1 FROM new_commitments WHERE status = 'verified') d
    JOIN facilitators f ON f.id = d.facilitator_id CROSS JOIN LATERAL unnest(f.stages) s (stage)
    GROUP BY 1, 2, 3, 4 HAVING sum(d.n) <> 0
    ON CONFLICT (agency_id, stage, sector, country) DO UPDATE SET verified = t.verified + EXCLUDED.verified;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION measure_commitments_tally_insert() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO measure_tally AS t (agency_id, stage, sector, country, verified)
    SELECT c.agency_id, s.stage, f.sector, f.country, count(*)
    FROM new_commitments c JOIN facilitators f ON f.id = c.facilitator_id CROSS JOIN LATERAL unnest(f.stages) s (stage)
    WHERE c.status = 'verified' GROUP BY 1, 2, 3, 4
    ON CONFLICT (agency_id, stage, sector, country) DO UPDATE SET verified = t.verified + EXCLUDED.verified;
    RETURN NULL;
END $$;

-- A supplier that changes sector, country or stages takes every agency's
-- signals and verified measures about it along, each under its own agency.
CREATE OR REPLACE FUNCTION facilitators_signal_measure_tally() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
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
        SELECT DISTINCT side.n, c.signal_id, g.agency_id, date_trunc('month', c.observed_on)::date AS month, c.type, c.stage, k.sector, k.country
        FROM current c JOIN signals g ON g.id = c.signal_id CROSS JOIN LATERAL unnest(c.facilitator_ids) u (facilitator_id)
        JOIN facilitators f ON f.id = u.facilitator_id LEFT JOIN moved_suppliers m ON m.id = f.id
        CROSS JOIN LATERAL (VALUES (-1, coalesce(m.old_sector, f.sector), coalesce(m.old_country, f.country)::text),
                                   (1, f.sector, f.country::text)) side (n, sector, country)
        CROSS JOIN LATERAL (VALUES ('*', '*'), (side.sector, '*'), ('*', side.country), (side.sector, side.country)) k (sector, country))
    INSERT INTO signal_tally AS t (agency_id, month, type, stage, sector, country, signals)
    SELECT agency_id, month, type, stage, sector, country, sum(n) FROM keyed GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(n) <> 0
    ON CONFLICT (agency_id, sector, country, stage, month, type) DO UPDATE SET signals = t.signals + EXCLUDED.signals;

    WITH moved_suppliers AS (
        SELECT o.id, o.sector AS old_sector, o.country AS old_country, o.stages AS old_stages FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.sector, o.country, o.stages) IS DISTINCT FROM (n.sector, n.country, n.stages))
    INSERT INTO measure_tally AS t (agency_id, stage, sector, country, verified)
    SELECT agency_id, stage, sector, country, sum(n) FROM (
        SELECT c.agency_id, s.stage, m.old_sector AS sector, m.old_country AS country, -1 AS n
        FROM moved_suppliers m JOIN measure_commitments c ON c.facilitator_id = m.id CROSS JOIN LATERAL unnest(m.old_stages) s (stage)
        WHERE c.status = 'verified'
        UNION ALL
        SELECT c.agency_id, s.stage, f.sector, f.country, 1
        FROM moved_suppliers m JOIN facilitators f ON f.id = m.id JOIN measure_commitments c ON c.facilitator_id = m.id
        CROSS JOIN LATERAL unnest(f.stages) s (stage) WHERE c.status = 'verified') d
    GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0
    ON CONFLICT (agency_id, stage, sector, country) DO UPDATE SET verified = t.verified + EXCLUDED.verified;
    RETURN NULL;
END $$;

-- The tallies of what is already there, per agency.
INSERT INTO cooperation_tally (agency_id, sector, country, stage, level, suppliers)
SELECT d.agency_id, f.sector, f.country, s.stage, d.level, sum(d.n)
FROM (SELECT id AS facilitator_id, '00000000-0000-0000-0000-000000000000'::uuid AS agency_id, 'not_contacted'::text AS level, 1 AS n
      FROM facilitators
      UNION ALL
      SELECT l.facilitator_id, l.agency_id, x.level, x.n
      FROM cooperation_levels l CROSS JOIN LATERAL (VALUES (l.level, 1), ('not_contacted', -1)) x (level, n)) d
JOIN facilitators f ON f.id = d.facilitator_id CROSS JOIN LATERAL unnest(f.stages || '{*}'::text[]) s (stage)
WHERE f.status <> 'archived'
GROUP BY 1, 2, 3, 4, 5 HAVING sum(d.n) <> 0;

INSERT INTO cooperation_month_tally (agency_id, month, sector, country, stage, level, delta)
SELECT h.agency_id, h.month, f.sector, f.country, s.stage, h.level, sum(h.n)
FROM (SELECT id AS facilitator_id, '00000000-0000-0000-0000-000000000000'::uuid AS agency_id,
             date_trunc('month', created_at)::date AS month, 'not_contacted'::text AS level, 1 AS n
      FROM facilitators
      UNION ALL
      SELECT c.facilitator_id, c.agency_id, date_trunc('month', c.changed_at)::date, x.level, x.n
      FROM cooperation_changes c CROSS JOIN LATERAL (VALUES (c.from_level, -1), (c.to_level, 1)) x (level, n)) h
JOIN facilitators f ON f.id = h.facilitator_id CROSS JOIN LATERAL unnest(f.stages || '{*}'::text[]) s (stage)
GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(h.n) <> 0;

INSERT INTO signal_tally (agency_id, month, type, stage, sector, country, signals)
SELECT agency_id, month, type, stage, sector, country, count(*) FROM (
    SELECT DISTINCT v.signal_id, g.agency_id, date_trunc('month', v.observed_on)::date AS month, v.type, v.stage, k.sector, k.country
    FROM signal_versions v JOIN signals g ON g.id = v.signal_id
    CROSS JOIN LATERAL unnest(v.facilitator_ids) u (facilitator_id) JOIN facilitators f ON f.id = u.facilitator_id
    CROSS JOIN LATERAL (VALUES ('*', '*'), (f.sector, '*'), ('*', f.country::text), (f.sector, f.country::text)) k (sector, country)
    WHERE NOT EXISTS (SELECT 1 FROM signal_versions w WHERE w.signal_id = v.signal_id AND w.version > v.version)) d
GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO measure_tally (agency_id, stage, sector, country, verified)
SELECT c.agency_id, s.stage, f.sector, f.country, count(*)
FROM measure_commitments c JOIN facilitators f ON f.id = c.facilitator_id CROSS JOIN LATERAL unnest(f.stages) s (stage)
WHERE c.status = 'verified' GROUP BY 1, 2, 3, 4;

-- An agency reads the shared base and its own deltas, or its own counts.
ALTER TABLE cooperation_tally ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON cooperation_tally USING (agency_id IN ('00000000-0000-0000-0000-000000000000', current_agency()));
ALTER TABLE cooperation_month_tally ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON cooperation_month_tally USING (agency_id IN ('00000000-0000-0000-0000-000000000000', current_agency()));
ALTER TABLE signal_tally ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON signal_tally USING (agency_id = current_agency());
ALTER TABLE measure_tally ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON measure_tally USING (agency_id = current_agency());

-- The plan indicators read the tallies per agency: see sql/repeatable/licensing_finality.sql.
