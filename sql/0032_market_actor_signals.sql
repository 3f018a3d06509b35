-- A signal may concern an actor of a market with no supplier in the registry
-- (a vendor, an administrator, a moderator of a darknet market): it names the
-- actor instead. Such a signal counts in the reports' totals (every sector and
-- country), never as evidence against a supplier (it concerns none).
ALTER TABLE signal_versions ADD COLUMN market_actor text CHECK (length(btrim(market_actor)) BETWEEN 1 AND 300);
ALTER TABLE signal_versions DROP CONSTRAINT signal_versions_facilitator_ids_check;
ALTER TABLE signal_versions ADD CONSTRAINT signal_versions_concerns_someone
    CHECK (cardinality(facilitator_ids) <= 100 AND (cardinality(facilitator_ids) >= 1 OR market_actor IS NOT NULL));

CREATE OR REPLACE VIEW signal_documents AS
SELECT s.id, v.version, json_build_object(
        'id', s.id, 'version', v.version, 'type', v.type, 'stage', v.stage, 'indicator', v.indicator_code,
        'indicator_text', v.indicator_text, 'indicator_label', coalesce(i.label, v.indicator_text), 'observed_on', v.observed_on, 'source', v.source,
        'reporter', v.reporter, 'description', v.description, 'facilitator_ids', v.facilitator_ids,
        'correction_reason', v.correction_reason, 'recorded_at', v.recorded_at, 'recorded_by', v.recorded_by_label,
        'created_at', s.created_at,
        'attachments', coalesce((SELECT json_agg(json_build_object('id', a.id, 'name', a.name, 'content_type', a.content_type,
                'bytes', length(a.bytes), 'sha256', encode(a.sha256, 'hex'), 'recorded_at', a.recorded_at) ORDER BY a.recorded_at)
            FROM signal_attachments a WHERE a.signal_id = s.id), '[]'::json),
        'versions', (SELECT count(*) FROM signal_versions w WHERE w.signal_id = s.id),
        'market_actor', v.market_actor) AS document
FROM signals s
JOIN LATERAL (SELECT * FROM signal_versions w WHERE w.signal_id = s.id ORDER BY w.version DESC LIMIT 1) v ON true
LEFT JOIN signal_indicators i ON i.code = v.indicator_code;
ALTER VIEW signal_documents SET (security_invoker = true);

-- The tally counts a signal about a market actor once, in the totals of its agency.
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
        CROSS JOIN LATERAL (VALUES ('*', '*'), (f.sector, '*'), ('*', f.country::text), (f.sector, f.country::text)) k (sector, country)
        UNION
        SELECT m.n, m.signal_id, g.agency_id, date_trunc('month', v.observed_on)::date, v.type, v.stage, '*', '*'
        FROM moves m JOIN signals g ON g.id = m.signal_id JOIN signal_versions v ON v.signal_id = m.signal_id AND v.version = m.version
        WHERE cardinality(v.facilitator_ids) = 0)
    INSERT INTO signal_tally AS t (agency_id, month, type, stage, sector, country, signals)
    SELECT agency_id, month, type, stage, sector, country, sum(n) FROM keyed GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(n) <> 0
    ON CONFLICT (agency_id, sector, country, stage, month, type) DO UPDATE SET signals = t.signals + EXCLUDED.signals;
    RETURN NULL;
END $$;
