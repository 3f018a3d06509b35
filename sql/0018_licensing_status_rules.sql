-- What each licensing action status means, as BarrierCore's LicensingActionStatus
-- defines it (final: in the public register and in effect; on_record: counts for
-- the ladder). The migrator writes the rows from Core after every migration, so
-- SQL reads the rule instead of listing statuses of its own.
CREATE TABLE licensing_status_rules (
    status text PRIMARY KEY,
    final boolean NOT NULL,
    on_record boolean NOT NULL
);
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON licensing_status_rules FROM barrier_app;
