import BarrierCore
import BarrierTestSupport
import Foundation
import PostgresNIO
import Testing
@testable import BarrierStore

@Suite("Migrations")
struct MigrationTests {
    @Test func splitsStatementsButNotQuotedOrDollarBodies() {
        let sql = """
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT 'a;b' CHECK (x <> 'it''s;'));
            CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;
            /* block; comment */ INSERT INTO a VALUES (E'back\\';slash');
            CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 2; END $body$;
            """
        let statements = SQLScript.statements(in: sql)
        #expect(statements.count == 4)
        #expect(statements[1].hasSuffix("$$ SELECT 1; $$"))
        #expect(statements[3].contains("BEGIN RETURN 2; END"))
    }

    @Test func appliedMigrationsAreRecordedAndAChangedFileStopsStartUp() async throws {
        try await TestDatabase.withFresh { db in
            // setup: a copy of sql/ with one applied file changed afterwards
            let source = try ProjectFiles.directory("sql", containing: "0001_lookups.sql")
            let copy = FileManager.default.temporaryDirectory.appendingPathComponent("sql-\(UUID())").path
            try FileManager.default.copyItem(atPath: source, toPath: copy)
            defer { try? FileManager.default.removeItem(atPath: copy) }
            // act: the template is already migrated, so nothing is applied; then the file changes
            let applied = try await Migrator(directory: copy).migrate(db)
            try "-- edited\n".appendToFile(copy + "/0002_access.sql")
            // check
            #expect(applied.isEmpty)
            await #expect(throws: StoreError.self) { try await Migrator(directory: copy).migrate(db) }
            do {
                try await Migrator(directory: copy).migrate(db)
            } catch StoreError.migration(let message) {
                #expect(message.contains("0002_access.sql"))
            }
            let count = try await TestDatabase.scalar(db, "SELECT count(*)::text FROM schema_migrations WHERE name NOT LIKE 'repeatable/%'")
            #expect(count == String(try Migrator(directory: source).migrations.count))
        }
    }

    @Test("a repeatable migration is applied again when it changes, and not otherwise; Core's licensing rules are written for SQL")
    func repeatableMigrationsFollowTheirFile() async throws {
        try await TestDatabase.withFresh { db in
            // setup: a copy of sql/ whose repeatable view file is edited
            let source = try ProjectFiles.directory("sql", containing: "0001_lookups.sql")
            let copy = FileManager.default.temporaryDirectory.appendingPathComponent("sql-\(UUID())").path
            try FileManager.default.copyItem(atPath: source, toPath: copy)
            defer { try? FileManager.default.removeItem(atPath: copy) }
            #expect(try await Migrator(directory: copy).migrate(db).isEmpty)
            let file = copy + "/repeatable/licensing_finality.sql"
            try (try String(contentsOfFile: file, encoding: .utf8)
                .replacingOccurrences(of: "-- The public register:", with: "CREATE OR REPLACE VIEW repeatable_probe AS SELECT 1 AS one;\n-- The public register:"))
                .write(toFile: file, atomically: true, encoding: .utf8)
            // act
            let applied = try await Migrator(directory: copy).migrate(db)
            let again = try await Migrator(directory: copy).migrate(db)
            // check
            #expect(applied == ["repeatable/licensing_finality.sql"])
            #expect(again.isEmpty)
            #expect(try await TestDatabase.scalar(db, "SELECT one::text FROM repeatable_probe") == "1")
            let final = try await TestDatabase.scalar(db, "SELECT string_agg(status, ',' ORDER BY status) FROM licensing_status_rules WHERE final")
            #expect(final == LicensingActionStatus.allCases.filter(\.isFinal).map(\.rawValue).sorted().joined(separator: ","))
        }
    }

    @Test func theSchemaRefusesBadDataFromPlainSQL() async throws {
        try await TestDatabase.withFresh { db in
            let bad = [
                "INSERT INTO facilitators (legal_name, sector, stages, country) VALUES ('A', 'courier', '{shipping}', 'XX')",
                "INSERT INTO facilitators (legal_name, sector, stages, country) VALUES ('A', 'bikes', '{shipping}', 'DE')",
                "INSERT INTO facilitators (legal_name, sector, stages, country) VALUES ('A', 'courier', '{flying}', 'DE')",
                "INSERT INTO facilitators (legal_name, sector, stages, country) VALUES ('A', 'courier', '{}', 'DE')",
                "INSERT INTO facilitators (legal_name, sector, stages, country, vat_number) VALUES ('A', 'courier', '{shipping}', 'DE', 'FR123')",
                "INSERT INTO facilitators (legal_name, sector, stages, country, status) VALUES ('A', 'courier', '{shipping}', 'DE', 'gone')",
                "INSERT INTO facilitators (legal_name, sector, stages, country) VALUES (' A', 'courier', '{shipping}', 'DE')",
                "INSERT INTO users (agency_id, email, full_name, role, password_hash) VALUES (gen_random_uuid(), 'x@y.eu', 'X', 'king', '$2b$')",
            ]
            for statement in bad {
                await #expect(throws: PSQLError.self, "\(statement)") { try await TestDatabase.sql(db, statement) }
            }
            let count = try await TestDatabase.scalar(db, "SELECT count(*)::text FROM facilitators")
            #expect(count == "0")
        }
    }
}

extension String {
    func appendToFile(_ path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(utf8))
        try handle.close()
    }
}

@Suite("Audit chain")
struct AuditChainTests {
    @Test func everyChangeIsAuditedAndTheChainVerifies() async throws {
        try await TestDatabase.withFresh { db in
            // setup
            let store = FacilitatorStore(db)
            // act: concurrent writers must not fork the chain
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<12 {
                    group.addTask {
                        _ = try await store.create(Fixtures.patch("Concurrent Carrier \(i) Logistics", registration: "HRB \(1000 + i)"),
                                                   allowDuplicates: true, actor: Fixtures.system)
                    }
                }
                try await group.waitForAll()
            }
            // check
            let result = try await AuditLog(db).verify()
            #expect(result.firstBroken == nil)
            #expect(result.checked == 12)
            let forks = try await TestDatabase.scalar(db, "SELECT count(*)::text FROM (SELECT prev_hash FROM audit_events GROUP BY 1 HAVING count(*) > 1) f")
            #expect(forks == "0")
        }
    }

    @Test func theDatabaseRefusesUpdateDeleteAndTruncate() async throws {
        try await TestDatabase.withFresh { db in
            _ = try await FacilitatorStore(db).create(Fixtures.patch("Rheinpaket GmbH"), allowDuplicates: false, actor: Fixtures.system)
            for statement in ["UPDATE audit_events SET actor_label = 'someone else'", "DELETE FROM audit_events", "TRUNCATE audit_events"] {
                await #expect(throws: PSQLError.self, "\(statement)") { try await TestDatabase.sql(db, statement) }
            }
            #expect(try await TestDatabase.scalar(db, "SELECT count(*)::text FROM audit_events") == "1")
        }
    }

    @Test func verifyNamesTheFirstTamperedEvent() async throws {
        try await TestDatabase.withFresh { db in
            // setup: three events
            let store = FacilitatorStore(db)
            for name in ["Alpha Kurier GmbH", "Bravo Versand GmbH", "Charlie Fracht GmbH"] {
                _ = try await store.create(Fixtures.patch(name), allowDuplicates: true, actor: Fixtures.system)
            }
            let second = try await TestDatabase.scalar(db, "SELECT seq::text FROM audit_events ORDER BY seq OFFSET 1 LIMIT 1")!
            // act: a superuser disables the guard and rewrites history
            try await TestDatabase.sql(db, "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update")
            try await TestDatabase.sql(db, "UPDATE audit_events SET after = jsonb_set(after, '{legal_name}', '\"Innocent GmbH\"') WHERE seq = \(second)")
            let altered = try await AuditLog(db).verify()
            // check
            #expect(altered.firstBroken?.seq == Int64(second))
            #expect(altered.checked == 1)

            // act: removing an event breaks the link of the one after it
            try await TestDatabase.sql(db, "DELETE FROM audit_events WHERE seq = \(second)")
            let removed = try await AuditLog(db).verify()
            #expect(removed.firstBroken != nil)
            #expect(removed.firstBroken!.seq > Int64(second)!)
        }
    }
}
