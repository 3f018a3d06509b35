-- Failed sign-ins per client (the TCP peer, or the address a trusted proxy
-- reports for it; an IPv6 client is its /64), besides the per-address count of
-- sign_in_throttle: one client guessing at many addresses is stopped after
-- SIGN_IN_CLIENT_LIMIT attempts within a window of
-- AccessStore.SignInThrottle.minutes from the first. Every attempt is counted
-- here before its password is checked, and given back when it succeeds, so
-- guesses sent in parallel get no more checks than the limit. The count lives
-- here, not in one server's memory, so every instance sees the same one.
-- Expired rows are deleted a few at a time as new windows start.
CREATE TABLE sign_in_clients (
    client text PRIMARY KEY CHECK (length(client) BETWEEN 1 AND 64),
    attempts integer NOT NULL CHECK (attempts >= 0),
    window_started_at timestamptz NOT NULL
);
CREATE INDEX sign_in_clients_window_idx ON sign_in_clients (window_started_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON sign_in_clients TO barrier_app;
