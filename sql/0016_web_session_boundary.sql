-- Browser sessions are kept per agency like the rest of its casework. A request
-- is matched to its session before anyone's agency is known, so that one lookup
-- runs as the owner, through web_session(), and returns only the session the
-- cookie's hash names.

ALTER TABLE web_sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON web_sessions USING (agency_id = current_agency()) WITH CHECK (agency_id = current_agency());

CREATE FUNCTION web_session(p_token_hash bytea)
RETURNS TABLE (user_id uuid, agency_id uuid, email text, role text, csrf_token text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT u.id, u.agency_id, u.email, u.role, s.csrf_token FROM web_sessions s JOIN users u ON u.id = s.user_id
    WHERE s.token_hash = p_token_hash AND s.expires_at > now() AND NOT u.disabled
$$;
