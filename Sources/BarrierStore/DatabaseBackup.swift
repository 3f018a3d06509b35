import Foundation
import PostgresNIO

/// Backups with pg_dump's custom format and restores into an empty database
/// with pg_restore, in one transaction. The backup carries the audit chain's
/// signed checkpoints (they are rows like any other); `barrier backup` signs the
/// head first and writes it beside the file, so a restore can be checked
/// against a head kept apart from the backup.
public enum DatabaseBackup {
    /// pg_dump or pg_restore of the newest installed PostgreSQL (a dump tool must
    /// be at least as new as the server), else the one on the PATH.
    static func tool(_ name: String) throws -> String {
        if let bindir = try? LocalCluster.findBinaries(), FileManager.default.isExecutableFile(atPath: bindir + "/" + name) {
            return bindir + "/" + name
        }
        for dir in ["/usr/bin", "/usr/local/bin"] where FileManager.default.isExecutableFile(atPath: dir + "/" + name) {
            return dir + "/" + name
        }
        throw StoreError.cluster("\(name) not found: install it with `apt-get install postgresql-client`")
    }

    /// The URL without its password, which goes to the child in PGPASSWORD rather than on its command line.
    static func withPassword<T>(_ url: DatabaseURL, _ body: (String) throws -> T) rethrows -> T {
        var bare = url
        bare.password = nil
        if let password = url.password { setenv("PGPASSWORD", password, 1) }
        defer { if url.password != nil { unsetenv("PGPASSWORD") } }
        return try body(bare.text)
    }

    /// Dumps the whole database to `path` (written to a temporary name, then moved into place).
    public static func dump(_ url: DatabaseURL, to path: String) throws {
        let partial = path + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        let pgDump = try tool("pg_dump")
        let result = try withPassword(url) { text in
            try Subprocess.run([pgDump, "--format=custom", "--no-owner", "--file=\(partial)", "--dbname=\(text)"], allowFailure: true)
        }
        guard result.status == 0 else {
            try? FileManager.default.removeItem(atPath: partial)
            throw StoreError.cluster("pg_dump failed: \(result.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: partial, toPath: path)
    }

    /// Whether the database has no tables of its own yet (restores go only there).
    public static func isEmpty(_ db: Database) async throws -> Bool {
        for try await n in try await db.query("SELECT count(*)::int FROM pg_tables WHERE schemaname = 'public'").decode(Int.self) {
            return n == 0
        }
        return false
    }

    /// Restores `path` into the (empty) database at `url`, all or nothing. The
    /// roles the schema grants to must exist in the target's cluster: `barrier_app` is created here.
    public static func restore(_ db: Database, from path: String) async throws {
        guard FileManager.default.isReadableFile(atPath: path) else { throw StoreError.cluster("cannot read the backup \(path)") }
        guard try await isEmpty(db) else {
            throw StoreError.conflict("the database \(db.url.database) is not empty: restore into a new, empty database")
        }
        try await db.query(
            """
            DO $$
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'barrier_app') THEN
                    CREATE ROLE barrier_app NOLOGIN;
                END IF;
            END $$
            """)
        let pgRestore = try tool("pg_restore")
        let result = try withPassword(db.url) { text in
            try Subprocess.run([pgRestore, "--no-owner", "--exit-on-error", "--single-transaction", "--dbname=\(text)", path], allowFailure: true)
        }
        guard result.status == 0 else {
            throw StoreError.cluster("pg_restore failed, nothing was restored: \(result.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }

    /// The exact number of rows of every table, by name: what a restore must reproduce.
    public static func rowCounts(_ db: Database) async throws -> [(table: String, rows: Int64)] {
        var tables: [String] = []
        for try await name in try await db.query("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").decode(String.self) {
            tables.append(name)
        }
        var counts: [(String, Int64)] = []
        for table in tables {
            let quoted = "\"" + table.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            for try await n in try await db.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(quoted)")).decode(Int64.self) {
                counts.append((table, n))
            }
        }
        return counts
    }
}
