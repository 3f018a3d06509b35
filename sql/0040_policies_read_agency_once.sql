-- Every policy reads the caller's agency once per statement instead of once per
-- row. current_agency() is STABLE, so PostgreSQL evaluates it for each row a
-- policy filters (current_setting, then the text parsed as a uuid), and a
-- report that scans a tally paid that for every row: the cooperation report's
-- month tally (33k rows) took 13 ms as barrier_server against 3.5 ms for the
-- owner, whom the policies don't bind. As `(SELECT current_agency())` it is an
-- InitPlan evaluated once per statement; what the policies let through is the
-- same. The policies whose subqueries name the agency (signal_versions and its
-- siblings) are left as they are: they run per row of their parent anyway.
ALTER POLICY own_agency ON action_plans USING (agency_id = (SELECT current_agency())) WITH CHECK (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON campaigns USING (agency_id = (SELECT current_agency())) WITH CHECK (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON cooperation_changes USING (agency_id = (SELECT current_agency())) WITH CHECK (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON cooperation_levels USING (agency_id = (SELECT current_agency())) WITH CHECK (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON funnel_response_days USING (agency_id = (SELECT current_agency())) WITH CHECK (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON funnel_tally USING (agency_id = (SELECT current_agency())) WITH CHECK (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON idempotency_keys USING (agency_id = (SELECT current_agency())) WITH CHECK (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON jobs USING (agency_id = (SELECT current_agency())) WITH CHECK (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON letter_emails USING (agency_id = (SELECT current_agency())) WITH CHECK (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON letter_templates USING (agency_id = (SELECT current_agency())) WITH CHECK (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON letters USING (agency_id = (SELECT current_agency())) WITH CHECK (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON licensing_actions USING (agency_id = (SELECT current_agency())) WITH CHECK (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON measure_commitments USING (agency_id = (SELECT current_agency())) WITH CHECK (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON pending_imports USING (agency_id = (SELECT current_agency())) WITH CHECK (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON procedure_profiles USING (agency_id = (SELECT current_agency())) WITH CHECK (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON signal_shares USING (agency_id = (SELECT current_agency())) WITH CHECK (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON signals USING (agency_id = (SELECT current_agency())) WITH CHECK (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON supplier_contacts USING (agency_id = (SELECT current_agency())) WITH CHECK (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON users USING (agency_id = (SELECT current_agency())) WITH CHECK (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON web_sessions USING (agency_id = (SELECT current_agency())) WITH CHECK (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON measure_tally USING (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON signal_tally USING (agency_id = (SELECT current_agency()));
ALTER POLICY own_agency ON cooperation_tally USING (agency_id IN ('00000000-0000-0000-0000-000000000000', (SELECT current_agency())));
ALTER POLICY own_agency ON cooperation_month_tally USING (agency_id IN ('00000000-0000-0000-0000-000000000000', (SELECT current_agency())));
ALTER POLICY readable ON letter_templates USING (agency_id IS NULL OR agency_id = (SELECT current_agency()));
ALTER POLICY received ON signal_shares USING (shared_with = (SELECT current_agency()));
ALTER POLICY own_agency ON audit_events USING (agency_id = (SELECT current_agency()) OR split_part(action, '.', 1) IN ('facilitator', 'import'));
