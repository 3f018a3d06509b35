-- A browser session also ends after a spell of inactivity (30 minutes unless
-- the server is configured otherwise), besides its absolute lifetime.
-- web_session_touch() is what a page request calls: it answers the user of a
-- live session and marks it seen (at most once a minute, so a busy page does
-- not write on every request); a session idle for longer than p_idle is over.

ALTER TABLE web_sessions ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now();

CREATE FUNCTION web_session_touch(p_token_hash bytea, p_idle interval)
RETURNS TABLE (user_id uuid, agency_id uuid, email text, role text, csrf_token text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE web_sessions s SET last_seen_at = now()
    WHERE s.token_hash = p_token_hash AND s.expires_at > now() AND s.last_seen_at > now() - p_idle
      AND s.last_seen_at < now() - interval '1 minute';
    RETURN QUERY
        SELECT u.id, u.agency_id, u.email, u.role, s.csrf_token FROM web_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = p_token_hash AND s.expires_at > now() AND s.last_seen_at > now() - p_idle AND NOT u.disabled;
END
$$;
REVOKE ALL ON FUNCTION web_session_touch(bytea, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION web_session_touch(bytea, interval) TO barrier_app;
