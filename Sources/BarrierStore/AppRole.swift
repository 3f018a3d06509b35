import Foundation
import PostgresNIO

/// The role the server connects as. Row-level security binds every role but
/// superusers, roles with BYPASSRLS and the tables' owner, so the server must be
/// none of those: it logs in as a member of `barrier_app` (created by migration
/// 0012 with the grants it needs), which owns nothing and so can neither turn a
/// policy off nor disable the append-only triggers. Migrations run as the owner.
public enum AppRole {
    public static let group = "barrier_app"
    /// The login the embedded cluster and the tests give the server.
    public static let embeddedLogin = "barrier_server"

    /// Creates the login role `embeddedLogin` in `barrier_app` unless it exists
    /// (run as the owner, who needs CREATEROLE; the embedded cluster's owner is a superuser).
    public static func ensureEmbeddedLogin(_ db: Database) async throws {
        try await db.query(
            """
            DO $$
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'barrier_server') THEN
                    CREATE ROLE barrier_server LOGIN IN ROLE barrier_app;
                END IF;
            END $$
            """)
    }

    /// Why the connected role would not be bound by row-level security, or nil when it is.
    public static func bypassReason(_ db: Database) async throws -> String? {
        let rows = try await db.query(
            """
            SELECT current_user::text, r.rolsuper, r.rolbypassrls,
                   EXISTS (SELECT 1 FROM pg_class c WHERE c.relname = 'letters' AND c.relnamespace = 'public'::regnamespace
                           AND pg_has_role(current_user, c.relowner, 'USAGE'))
            FROM pg_roles r WHERE r.rolname = current_user
            """)
        for try await (user, superuser, bypass, owner) in rows.decode((String, Bool, Bool, Bool).self) {
            if superuser { return "the role '\(user)' is a superuser" }
            if bypass { return "the role '\(user)' has BYPASSRLS" }
            if owner { return "the role '\(user)' owns the tables (or is a member of their owner)" }
            return nil
        }
        return "the connected role was not found"
    }
}
