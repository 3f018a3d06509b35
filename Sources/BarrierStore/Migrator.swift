import Crypto
import Foundation
import PostgresNIO

/// Applies `sql/NNNN_purpose.sql` in order, each file in its own transaction,
/// and records its SHA-256; a file changed after it was applied stops start-up.
public struct Migrator: Sendable {
    public struct Migration: Sendable {
        public var name: String
        public var sql: String
        public var checksum: String
    }

    public let migrations: [Migration]

    public init(directory: String? = nil) throws {
        let dir = try directory ?? ProjectFiles.directory("sql", containing: "0001_lookups.sql")
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
                for statement in SQLScript.statements(in: migration.sql) {
                    do {
                        try await conn.query(PostgresQuery(unsafeSQL: statement), logger: db.logger)
                    } catch let error as PSQLError {
                        throw StoreError.migration("sql/\(migration.name): \(error.serverInfo?[.message] ?? "\(error.code)")")
                    }
                }
                try await conn.query(
                    "INSERT INTO schema_migrations (name, checksum) VALUES (\(migration.name), \(migration.checksum))",
                    logger: db.logger)
                return true
            }
            if didApply { applied.append(migration.name) }
        }
        return applied
    }
}
