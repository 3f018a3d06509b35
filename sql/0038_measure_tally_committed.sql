-- The barrier model (the matrix report's second table) counts, per stage, the
-- measures committed and not yet verified beside the verified ones. It counted
-- them from measure_commitments joined to every supplier and its stages: 1.2 s
-- of the matrix's 1.3 s on the national-size registry (scripts/bench reports,
-- 360k commitments). measure_tally, kept by the triggers that already count the
-- verified ones, now keeps the others too.

ALTER TABLE measure_tally ADD COLUMN committed bigint NOT NULL DEFAULT 0;

-- A commitment counts under the agency that recorded it: verified or not yet.
CREATE OR REPLACE FUNCTION measure_commitments_tally() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO measure_tally AS t (agency_id, stage, sector, country, verified, committed)
    SELECT d.agency_id, s.stage, f.sector, f.country,
           coalesce(sum(d.n) FILTER (WHERE d.status = 'verified'), 0), coalesce(sum(d.n) FILTER (WHERE d.status <> 'verified'), 0)
    FROM (SELECT agency_id, facilitator_id, status, -1 AS n FROM old_commitments
          UNION ALL SELECT agency_id, facilitator_id, status, 1 FROM new_commitments) d
    JOIN facilitators f ON f.id = d.facilitator_id CROSS JOIN LATERAL unnest(f.stages) s (stage)
    GROUP BY 1, 2, 3, 4
    HAVING coalesce(sum(d.n) FILTER (WHERE d.status = 'verified'), 0) <> 0 OR coalesce(sum(d.n) FILTER (WHERE d.status <> 'verified'), 0) <> 0
    ON CONFLICT (agency_id, stage, sector, country)
    DO UPDATE SET verified = t.verified + EXCLUDED.verified, committed = t.committed + EXCLUDED.committed;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION measure_commitments_tally_insert() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO measure_tally AS t (agency_id, stage, sector, country, verified, committed)
    SELECT c.agency_id, s.stage, f.sector, f.country, count(*) FILTER (WHERE c.status = 'verified'), count(*) FILTER (WHERE c.status <> 'verified')
    FROM new_commitments c JOIN facilitators f ON f.id = c.facilitator_id CROSS JOIN LATERAL unnest(f.stages) s (stage)
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (agency_id, stage, sector, country)
    DO UPDATE SET verified = t.verified + EXCLUDED.verified, committed = t.committed + EXCLUDED.committed;
    RETURN NULL;
END $$;

-- A supplier that changes sector, country or stages takes every agency's
-- signals and measures about it along, each under its own agency.
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
        WHERE (o.sector, o.country, o.stages) IS DISTINCT FROM (n.sector, n.country, n.stages)),
    moved AS (
        SELECT c.agency_id, s.stage, m.old_sector AS sector, m.old_country AS country, c.status, -1 AS n
        FROM moved_suppliers m JOIN measure_commitments c ON c.facilitator_id = m.id CROSS JOIN LATERAL unnest(m.old_stages) s (stage)
        UNION ALL
        SELECT c.agency_id, s.stage, f.sector, f.country, c.status, 1
        FROM moved_suppliers m JOIN facilitators f ON f.id = m.id JOIN measure_commitments c ON c.facilitator_id = m.id
        CROSS JOIN LATERAL unnest(f.stages) s (stage))
    INSERT INTO measure_tally AS t (agency_id, stage, sector, country, verified, committed)
    SELECT agency_id, stage, sector, country,
           coalesce(sum(n) FILTER (WHERE status = 'verified'), 0), coalesce(sum(n) FILTER (WHERE status <> 'verified'), 0)
    FROM moved GROUP BY 1, 2, 3, 4
    HAVING coalesce(sum(n) FILTER (WHERE status = 'verified'), 0) <> 0 OR coalesce(sum(n) FILTER (WHERE status <> 'verified'), 0) <> 0
    ON CONFLICT (agency_id, stage, sector, country)
    DO UPDATE SET verified = t.verified + EXCLUDED.verified, committed = t.committed + EXCLUDED.committed;
    RETURN NULL;
END $$;

-- Both counts of what is already there.
TRUNCATE measure_tally;
INSERT INTO measure_tally (agency_id, stage, sector, country, verified, committed)
SELECT c.agency_id, s.stage, f.sector, f.country, count(*) FILTER (WHERE c.status = 'verified'), count(*) FILTER (WHERE c.status <> 'verified')
FROM measure_commitments c JOIN facilitators f ON f.id = c.facilitator_id CROSS JOIN LATERAL unnest(f.stages) s (stage)
GROUP BY 1, 2, 3, 4;
