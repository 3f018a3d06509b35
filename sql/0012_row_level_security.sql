-- The agency boundary below the application: row-level security on every
-- table of casework, compared with the transaction's `barrier.agency_id`, so a
-- query that forgets its agency filter still sees only its own agency's rows.
-- Owners and superusers bypass row-level security, so the server connects as a
-- member of `barrier_app`, which owns nothing: it cannot disable a policy or
-- the append-only triggers, and it appends to the audit chain only through
-- audit_append(). Migrations run as the owner.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'barrier_app') THEN
        CREATE ROLE barrier_app NOLOGIN;
    END IF;
END $$;

GRANT USAGE ON SCHEMA public TO barrier_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO barrier_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO barrier_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO barrier_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO barrier_app;
-- The chain of custody: read, and appended to by audit_append() alone.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_events FROM barrier_app;
-- Migrations and the shipped catalogues are the owner's.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_migrations, countries, sectors, measures, signal_indicators FROM barrier_app;

-- Casework that names its agency.
ALTER TABLE letters ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON letters USING (agency_id = current_agency()) WITH CHECK (agency_id = current_agency());
ALTER TABLE letter_emails ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON letter_emails USING (agency_id = current_agency()) WITH CHECK (agency_id = current_agency());
ALTER TABLE campaigns ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON campaigns USING (agency_id = current_agency()) WITH CHECK (agency_id = current_agency());
ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON jobs USING (agency_id = current_agency()) WITH CHECK (agency_id = current_agency());
ALTER TABLE cooperation_levels ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON cooperation_levels USING (agency_id = current_agency()) WITH CHECK (agency_id = current_agency());
ALTER TABLE cooperation_changes ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON cooperation_changes USING (agency_id = current_agency()) WITH CHECK (agency_id = current_agency());
ALTER TABLE supplier_contacts ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON supplier_contacts USING (agency_id = current_agency()) WITH CHECK (agency_id = current_agency());
ALTER TABLE measure_commitments ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON measure_commitments USING (agency_id = current_agency()) WITH CHECK (agency_id = current_agency());
ALTER TABLE signals ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON signals USING (agency_id = current_agency()) WITH CHECK (agency_id = current_agency());
ALTER TABLE licensing_actions ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON licensing_actions USING (agency_id = current_agency()) WITH CHECK (agency_id = current_agency());
ALTER TABLE action_plans ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON action_plans USING (agency_id = current_agency()) WITH CHECK (agency_id = current_agency());
ALTER TABLE funnel_tally ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON funnel_tally USING (agency_id = current_agency()) WITH CHECK (agency_id = current_agency());
ALTER TABLE funnel_response_days ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON funnel_response_days USING (agency_id = current_agency()) WITH CHECK (agency_id = current_agency());

-- Casework that belongs to a parent: visible and writable where the parent is
-- (the parent's own policy decides).
ALTER TABLE letter_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON letter_events USING (EXISTS (SELECT 1 FROM letters p WHERE p.id = letter_id));
ALTER TABLE signal_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON signal_versions USING (EXISTS (SELECT 1 FROM signals p WHERE p.id = signal_id));
ALTER TABLE signal_facilitators ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON signal_facilitators USING (EXISTS (SELECT 1 FROM signals p WHERE p.id = signal_id));
ALTER TABLE signal_attachments ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON signal_attachments USING (EXISTS (SELECT 1 FROM signals p WHERE p.id = signal_id));
ALTER TABLE licensing_action_signals ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON licensing_action_signals USING (EXISTS (SELECT 1 FROM licensing_actions p WHERE p.id = action_id));
ALTER TABLE licensing_appeals ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON licensing_appeals USING (EXISTS (SELECT 1 FROM licensing_actions p WHERE p.id = action_id));
ALTER TABLE licensing_action_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON licensing_action_events USING (EXISTS (SELECT 1 FROM licensing_actions p WHERE p.id = action_id));
ALTER TABLE action_plan_objectives ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON action_plan_objectives USING (EXISTS (SELECT 1 FROM action_plans p WHERE p.id = plan_id));
ALTER TABLE action_plan_measures ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON action_plan_measures USING (EXISTS (SELECT 1 FROM action_plans p WHERE p.id = plan_id));
ALTER TABLE action_plan_indicators ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON action_plan_indicators USING (EXISTS (SELECT 1 FROM action_plans p WHERE p.id = plan_id));

-- The audit log: the agency's own events and those of the shared registry.
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON audit_events FOR SELECT
    USING (agency_id = current_agency() OR split_part(action, '.', 1) IN ('facilitator', 'import'));

-- Appending and verifying need the whole chain: they run as the owner.
ALTER FUNCTION audit_append(uuid, text, uuid, text, text, text, jsonb, jsonb, text) SECURITY DEFINER SET search_path = public, pg_temp;
CREATE FUNCTION audit_chain() RETURNS SETOF audit_events LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT * FROM audit_events ORDER BY seq
$$;

-- Views read with the privileges of whoever queries them, so the policies apply
-- (a view otherwise reads as its owner). The public register stays the owner's:
-- it publishes every agency's final decisions on purpose.
ALTER VIEW letter_documents SET (security_invoker = true);
ALTER VIEW measure_commitment_documents SET (security_invoker = true);
ALTER VIEW signal_documents SET (security_invoker = true);
ALTER VIEW licensing_action_documents SET (security_invoker = true);
ALTER VIEW action_plan_indicator_values SET (security_invoker = true);
ALTER VIEW action_plan_documents SET (security_invoker = true);
ALTER VIEW facilitator_documents SET (security_invoker = true);

-- The tallies are kept for every agency by triggers that fire on one agency's
-- change (a supplier's sector moves every agency's counts): they run as the owner.
ALTER FUNCTION facilitators_tally_insert() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION facilitators_tally_update() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION facilitators_tally_delete() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION cooperation_levels_tally_insert() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION cooperation_levels_tally_update() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION cooperation_levels_tally_delete() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION cooperation_changes_month_tally() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION signal_versions_tally() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION measure_commitments_tally() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION measure_commitments_tally_insert() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION facilitators_signal_measure_tally() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION funnel_letters_ready() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION funnel_tally_apply(integer) SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION letters_funnel_insert() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION letters_funnel_update() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION funnel_commitment_moves() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION measure_commitments_funnel_insert() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION measure_commitments_funnel() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION facilitators_funnel() SECURITY DEFINER SET search_path = public, pg_temp;
