import BarrierCore
import Crypto
import Foundation
import PostgresNIO

/// Applies `sql/NNNN_purpose.sql` in order, each file in its own transaction,
/// and records its SHA-256; a file changed after it was applied stops start-up.
/// Then `sql/repeatable/*.sql` (views and functions that change with the code,
/// each written to be run again): a file is applied when it is new or its
/// SHA-256 changed, so reading it always gives the definition in force (the
/// idea of Flyway's repeatable migrations). Last, the rules of BarrierCore that
/// SQL reads are written to their tables.
public struct Migrator: Sendable {
    public struct Migration: Sendable {
        public var name: String
        public var sql: String
        public var checksum: String
    }

    public let migrations: [Migration]
    public let repeatable: [Migration]

    public init(directory: String? = nil) throws {
        let dir = try directory ?? ProjectFiles.directory("sql", containing: "0001_lookups.sql")
        let repeatableDir = dir + "/repeatable"
        let repeatableNames = ((try? FileManager.default.contentsOfDirectory(atPath: repeatableDir)) ?? []).filter { $0.hasSuffix(".sql") }.sorted()
        self.repeatable = try repeatableNames.map { name in
            let data = try Data(contentsOf: URL(fileURLWithPath: repeatableDir + "/" + name))
            return Migration(name: "repeatable/" + name, sql: String(decoding: data, as: UTF8.self),
                             checksum: SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined())
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir)
            .filter { $0.hasSuffix(".sql") }
            .sorted()
        var migrations: [Migration] = []
        for name in names {
            guard name.prefix(5).dropLast().allSatisfy(\.isNumber), name.dropFirst(4).first == "_" else {
                throw StoreError.migration("\(name): migration files are named NNNN_purpose.sql")
            }
            let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))
            let checksum = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
            migrations.append(Migration(name: name, sql: String(decoding: data, as: UTF8.self), checksum: checksum))
        }
        self.migrations = migrations
    }

    /// Applies what is missing; returns the names applied now.
    @discardableResult
    public func migrate(_ db: Database) async throws -> [String] {
        var applied: [String] = []
        try await db.transaction { conn in
            try await conn.query("SELECT pg_advisory_xact_lock(hashtext('barrier.migrations'))", logger: db.logger)
            try await conn.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: db.logger)
        }
        for migration in migrations {
            let didApply = try await db.transaction { conn -> Bool in
                try await conn.query("SELECT pg_advisory_xact_lock(hashtext('barrier.migrations'))", logger: db.logger)
                let rows = try await conn.query(
                    "SELECT checksum FROM schema_migrations WHERE name = \(migration.name)", logger: db.logger)
                for try await checksum in rows.decode(String.self) {
                    guard checksum == migration.checksum else {
                        throw StoreError.migration(
                            "sql/\(migration.name) changed after it was applied (recorded sha256 \(checksum.prefix(12))…, file \(migration.checksum.prefix(12))…); landed migrations never change, add a new one")
                    }
                    return false
                }
                try await run(migration, on: conn, logger: db.logger)
                try await conn.query(
                    "INSERT INTO schema_migrations (name, checksum) VALUES (\(migration.name), \(migration.checksum))",
                    logger: db.logger)
                return true
            }
            if didApply { applied.append(migration.name) }
        }
        for migration in repeatable {
            let didApply = try await db.transaction { conn -> Bool in
                try await conn.query("SELECT pg_advisory_xact_lock(hashtext('barrier.migrations'))", logger: db.logger)
                for try await checksum in try await conn.query(
                    "SELECT checksum FROM schema_migrations WHERE name = \(migration.name)", logger: db.logger).decode(String.self)
                where checksum == migration.checksum {
                    return false
                }
                try await run(migration, on: conn, logger: db.logger)
                try await conn.query(
                    """
                    INSERT INTO schema_migrations (name, checksum) VALUES (\(migration.name), \(migration.checksum))
                    ON CONFLICT (name) DO UPDATE SET checksum = excluded.checksum, applied_at = now()
                    """, logger: db.logger)
                return true
            }
            if didApply { applied.append(migration.name) }
        }
        try await writeCoreRules(db)
        return applied
    }

    /// Runs a file's statements, naming the file and PostgreSQL's message when one fails.
    func run(_ migration: Migration, on conn: PostgresConnection, logger: Logger) async throws {
        for statement in SQLScript.statements(in: migration.sql) {
            do {
                try await conn.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            } catch let error as PSQLError {
                throw StoreError.migration("sql/\(migration.name): \(error.serverInfo?[.message] ?? "\(error.code)")")
            }
        }
    }

    /// What each licensing status means, from `LicensingActionStatus` (the one
    /// definition): the views read `licensing_status_rules` instead of listing statuses.
    func writeCoreRules(_ db: Database) async throws {
        let statuses = LicensingActionStatus.allCases
        try await db.query(
            """
            INSERT INTO licensing_status_rules (status, final, on_record)
            SELECT * FROM unnest(\(statuses.map(\.rawValue))::text[], \(statuses.map(\.isFinal))::bool[], \(statuses.map(\.countsOnRecord))::bool[])
            ON CONFLICT (status) DO UPDATE SET final = excluded.final, on_record = excluded.on_record
            WHERE (licensing_status_rules.final, licensing_status_rules.on_record) IS DISTINCT FROM (excluded.final, excluded.on_record)
            """)
        try await db.query("DELETE FROM licensing_status_rules WHERE NOT (status = ANY(\(statuses.map(\.rawValue))))")
    }
}
