-- The views that say which licensing actions are final: the API's document of an
-- action (`in_effect`), the public register and the plan indicator of final
-- restrictive actions. "Final" is read from licensing_status_rules, which the
-- migrator writes from BarrierCore, so the rule is defined once, there.
-- A repeatable migration: applied again whenever this file changes.

-- One stage of an appeal as the API shows it (inside an action's document).
CREATE OR REPLACE VIEW licensing_appeal_stages AS
SELECT p.action_id, p.stage, p.remedy, p.remedy_name, p.lodged_on, p.period_ended_on, p.period_judged_by_agency, p.grounds,
       p.recorded_at, p.recorded_by_label AS recorded_by, p.outcome, p.outcome_on, p.outcome_notified_on, p.outcome_reason,
       p.outcome_recorded_by_label AS outcome_recorded_by, p.previous_terms, p.varied_terms,
       CASE WHEN p.relief_ordered_on IS NOT NULL THEN json_build_object('ordered_on', p.relief_ordered_on, 'ordered_by', p.relief_ordered_by,
                                                                     'reason', p.relief_reason, 'recorded_by', p.relief_recorded_by_label) END AS interim_relief
FROM licensing_appeals p;
ALTER VIEW licensing_appeal_stages SET (security_invoker = true);

-- The API's JSON document of an action: the action, its evidence, letters, appeal and history.
CREATE OR REPLACE VIEW licensing_action_documents AS
SELECT a.id, a.version, a.facilitator_id, json_build_object(
        'id', a.id,
        'facilitator_id', a.facilitator_id,
        'supplier_name', f.legal_name,
        'agency_id', a.agency_id,
        'type', a.type,
        'status', a.status,
        'legal_basis', a.legal_basis,
        'rationale', a.rationale,
        'conditions', a.conditions,
        'amount_minor', a.amount_minor,
        'currency', a.currency,
        'effective_from', a.effective_from,
        'effective_to', a.effective_to,
        -- In effect: decided (or upheld or varied), restrictive, and within its dates; an appeal
        -- suspends it where the profile gives the remedy suspensive effect, or where interim relief was ordered.
        'in_effect', a.type NOT IN ('warning', 'referral') AND a.effective_from <= current_date
                     AND (a.effective_to IS NULL OR a.effective_to >= current_date)
                     AND (a.status IN (SELECT r.status FROM licensing_status_rules r WHERE r.final)
                          OR (a.status = 'appealed' AND NOT a.appeal_suspends
                              AND NOT EXISTS (SELECT 1 FROM licensing_appeals p WHERE p.action_id = a.id AND p.outcome IS NULL
                                                                                   AND p.relief_ordered_on IS NOT NULL))),
        'effect_suspended', a.status = 'appealed' AND (a.appeal_suspends
                            OR EXISTS (SELECT 1 FROM licensing_appeals p WHERE p.action_id = a.id AND p.outcome IS NULL AND p.relief_ordered_on IS NOT NULL)),
        -- Final: the period of the next remedy ran out without it being lodged (the decision's, or after an
        -- outcome upheld or varied, the further remedy's), or the profile names no further remedy.
        'final', a.type <> 'referral' AND ((a.status = 'decided' AND coalesce(a.appeal_ends_on < current_date, false))
                 OR (a.status IN ('upheld', 'varied') AND (a.appeal_ends_on IS NULL OR a.appeal_ends_on < current_date))),
        'appeal_ends_on', a.appeal_ends_on,
        'suggested_type', a.suggested_type,
        'ladder_justification', a.ladder_justification,
        'consideration', a.consideration,
        'cooperation_reason', a.cooperation_reason,
        'proposed_at', a.proposed_at,
        'proposed_by', a.proposed_by_label,
        'decided_on', a.decided_on,
        'decided_at', a.decided_at,
        'decided_by', a.decided_by_label,
        'ended_on', a.ended_on,
        'end_reason', a.end_reason,
        'signals', coalesce((SELECT json_agg(json_build_object('id', s.id, 'observed_on', s.document->'observed_on',
                                    'type', s.document->'type', 'stage', s.document->'stage', 'indicator_label', s.document->'indicator_label',
                                    'linked_at', l.linked_at, 'version', s.document->'version',
                                    'relied_on_version', (SELECT max(e.version) FROM licensing_evidence_versions e
                                                          WHERE e.action_id = l.action_id AND e.signal_id = l.signal_id)) ORDER BY s.document->>'observed_on', s.id)
                             FROM licensing_action_signals l JOIN signal_documents s ON s.id = l.signal_id
                             WHERE l.action_id = a.id), '[]'::json),
        'letters', coalesce((SELECT json_agg(json_build_object('id', t.id, 'kind', t.kind, 'status', t.status, 'reference', t.reference,
                                    'letter_date', t.letter_date, 'response_deadline', t.response_deadline, 'delivered_on', t.delivered_on,
                                    'responded_on', t.responded_on) ORDER BY t.created_at, t.id)
                             FROM letters t WHERE t.licensing_action_id = a.id), '[]'::json),
        -- The appeal's current (latest) stage, and every stage in order.
        'appeal', (SELECT row_to_json(x) FROM (SELECT * FROM licensing_appeal_stages p WHERE p.action_id = a.id ORDER BY p.stage DESC LIMIT 1) x),
        'appeals', coalesce((SELECT json_agg(row_to_json(p) ORDER BY p.stage) FROM licensing_appeal_stages p WHERE p.action_id = a.id), '[]'::json),
        'referral', CASE WHEN a.type = 'referral' THEN json_build_object('outcome', a.referral_outcome, 'concluded_on', a.referral_outcome_on,
                                                                         'note', a.referral_outcome_note) END,
        'events', coalesce((SELECT json_agg(json_build_object('status', e.status, 'on', e.occurred_on, 'recorded_at', e.recorded_at,
                                   'recorded_by', e.recorded_by_label, 'note', e.note) ORDER BY e.seq)
                            FROM licensing_action_events e WHERE e.action_id = a.id), '[]'::json),
        'updated_at', a.updated_at,
        'version', a.version) AS document
FROM licensing_actions a
JOIN facilitators f ON f.id = a.facilitator_id;
ALTER VIEW licensing_action_documents SET (security_invoker = true);

-- The public register: restrictive actions that are final (the period of the next
-- remedy ran out without it being lodged, or no further remedy is open) and
-- neither lifted, expired nor overturned, with no personal data of staff. An
-- appeal's latest outcome is shown (varied: with the terms it set). A supplier
-- that is a natural person (a sole trader) is named only where the deciding
-- agency's procedure profile publishes names of natural persons
-- (`publication.natural_persons`); otherwise its name and registration number
-- are withheld. The profile is the agency's newest version, else the shipped one
-- of its country or the default (as `ProcedureProfileStore.current` reads it).
-- It reads as its owner on purpose: it publishes every agency's decisions.
-- Earlier states stay in the audit log.
CREATE OR REPLACE VIEW public_register AS
SELECT a.id, a.decided_on,
       CASE WHEN w.withheld THEN 'name withheld (natural person)' ELSE f.legal_name END AS supplier_name,
       f.country::text AS supplier_country,
       CASE WHEN w.withheld THEN NULL ELSE f.registration_number END AS supplier_registration_number,
       a.type, a.status, a.legal_basis, a.conditions,
       a.amount_minor, a.currency, a.effective_from, a.effective_to, g.name AS authority,
       p.outcome AS appeal_outcome, p.outcome_on AS appeal_decided_on, w.withheld AS supplier_name_withheld
FROM licensing_actions a
JOIN facilitators f ON f.id = a.facilitator_id
JOIN agencies g ON g.id = a.agency_id
LEFT JOIN LATERAL (SELECT q.outcome, q.outcome_on FROM licensing_appeals q WHERE q.action_id = a.id ORDER BY q.stage DESC LIMIT 1) p ON true
CROSS JOIN LATERAL (
    SELECT f.natural_person AND NOT coalesce((x.body->'publication'->>'natural_persons')::boolean, false) AS withheld
    FROM (SELECT pp.body, pp.version FROM procedure_profiles pp WHERE pp.agency_id = a.agency_id
          UNION ALL
          (SELECT s.body, 0 FROM shipped_procedure_profiles s WHERE s.jurisdiction IN (g.country, 'default')
           ORDER BY s.jurisdiction = 'default' LIMIT 1)
          ORDER BY 2 DESC LIMIT 1) x) w
WHERE a.type NOT IN ('warning', 'referral')
  AND ((a.status = 'decided' AND a.appeal_ends_on < current_date)
       OR (a.status IN ('upheld', 'varied') AND (a.appeal_ends_on IS NULL OR a.appeal_ends_on < current_date)));

-- What each plan indicator measures today.
-- A plan's indicators measure the plan's agency: the shared base and its
-- deltas for cooperation, its own rows for the rest (the same agency the
-- policies allow, said here too for readers that row-level security does not bind).
-- A share with no supplier at the levels is 0, not unknown: whether a tally row
-- of 0 is left over or absent (an agency that never acted has none) must not matter.
CREATE OR REPLACE VIEW action_plan_indicator_values AS
SELECT i.plan_id, i.position,
    CASE i.metric
    WHEN 'manual' THEN i.measured
    WHEN 'share_contacted' THEN (
        SELECT round(100.0 * coalesce(sum(t.suppliers) FILTER (WHERE t.level <> 'not_contacted'), 0) / nullif(sum(t.suppliers), 0), 2)
        FROM cooperation_tally t WHERE t.agency_id IN ('00000000-0000-0000-0000-000000000000', p.agency_id)
          AND t.stage = '*' AND t.sector = coalesce(i.sector, t.sector) AND t.country = coalesce(i.country, t.country))
    WHEN 'share_cooperating' THEN (
        SELECT round(100.0 * coalesce(sum(t.suppliers) FILTER (WHERE t.level IN ('cooperating', 'partially_cooperating')), 0)
                       / nullif(sum(t.suppliers), 0), 2)
        FROM cooperation_tally t WHERE t.agency_id IN ('00000000-0000-0000-0000-000000000000', p.agency_id)
          AND t.stage = '*' AND t.sector = coalesce(i.sector, t.sector) AND t.country = coalesce(i.country, t.country))
    WHEN 'response_rate' THEN (
        SELECT round(100.0 * sum(t.responded) / nullif(sum(t.sent), 0), 2) FROM funnel_tally t
        WHERE t.agency_id = p.agency_id AND t.month BETWEEN date_trunc('month', p.starts_on)::date AND p.ends_on
          AND t.sector = coalesce(i.sector, t.sector) AND t.country = coalesce(i.country, t.country))
    WHEN 'verified_measures' THEN (
        SELECT count(*) FROM measure_commitments m JOIN facilitators f ON f.id = m.facilitator_id
        WHERE m.agency_id = p.agency_id AND m.status = 'verified' AND m.verified_on BETWEEN p.starts_on AND p.ends_on
          AND f.sector = coalesce(i.sector, f.sector) AND f.country = coalesce(i.country, f.country))
    WHEN 'signals_observed' THEN (
        SELECT coalesce(sum(t.signals), 0) FROM signal_tally t
        WHERE t.agency_id = p.agency_id AND t.sector = coalesce(i.sector, '*') AND t.country = coalesce(i.country::text, '*')
          AND t.month BETWEEN date_trunc('month', p.starts_on)::date AND p.ends_on)
    WHEN 'final_restrictive_actions' THEN (
        SELECT count(*) FROM licensing_actions a JOIN facilitators f ON f.id = a.facilitator_id
        WHERE a.agency_id = p.agency_id AND a.type NOT IN ('warning', 'referral') AND a.status IN (SELECT r.status FROM licensing_status_rules r WHERE r.final) AND a.decided_on BETWEEN p.starts_on AND p.ends_on
          AND f.sector = coalesce(i.sector, f.sector) AND f.country = coalesce(i.country, f.country))
    END AS measured
FROM action_plan_indicators i JOIN action_plans p ON p.id = i.plan_id;
ALTER VIEW action_plan_indicator_values SET (security_invoker = true);
