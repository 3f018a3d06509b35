-- Users belong to their agency like its casework: a server query sees only its
-- agency's users. Two look-ups happen before anyone's agency is known, and run
-- as the owner, each returning only the one user it names: the holder of an
-- API token (by the token's hash) and the user signing in (by e-mail, with the
-- password hash to check). Agencies and API tokens stay readable (a token names
-- no agency; the agency list names no casework).

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_agency ON users USING (agency_id = current_agency()) WITH CHECK (agency_id = current_agency());

CREATE FUNCTION token_user(p_token_hash bytea)
RETURNS TABLE (user_id uuid, agency_id uuid, email text, role text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT u.id, u.agency_id, u.email, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id
    WHERE t.token_hash = p_token_hash AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()) AND NOT u.disabled
$$;

CREATE FUNCTION sign_in_user(p_email text)
RETURNS TABLE (user_id uuid, agency_id uuid, email text, role text, password_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT u.id, u.agency_id, u.email, u.role, u.password_hash FROM users u WHERE lower(u.email) = lower(p_email) AND NOT u.disabled
$$;
