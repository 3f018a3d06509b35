-- Failed sign-ins per e-mail address, so a password cannot be guessed by
-- trying many: after AccessStore.SignInThrottle.maximumFailures failures within
-- its window the address is locked for a while, for every instance alike (the
-- count lives here, not in one server's memory). A successful sign-in clears
-- the row; an address that never existed is counted the same way, so the
-- answer does not tell which addresses exist.
CREATE TABLE sign_in_throttle (
    email text PRIMARY KEY CHECK (email = lower(email) AND length(email) BETWEEN 1 AND 320),
    failures integer NOT NULL CHECK (failures >= 1),
    first_failed_at timestamptz NOT NULL,
    locked_until timestamptz
);
