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
