import BarrierCore
import BarrierStore
import BarrierTestSupport
import Foundation
import PostgresNIO
import Testing

/// Row-level security below the application: the server's role, querying with a
/// forgotten filter, sees and changes only its own agency's casework.
@Suite("Row-level security")
struct RowLevelSecurityTests {
    @Test("the server's role with a forgotten WHERE sees only its agency's rows, cannot write another's, and cannot switch the rules off")
    func forgottenFilter() async throws {
        try await TestDatabase.withFresh { db in
            // setup: two agencies with a signal, a contact and a cooperation level each on one shared supplier
            let first = try await Fixtures.letterheadAgency(db, name: "Inspectorate North")
            let second = try await Fixtures.letterheadAgency(db, name: "Inspectorate South")
            let supplier = try await FacilitatorStore(db).create(Fixtures.patch("Kurier Gemeinsam GmbH", sector: "courier"),
                                                                allowDuplicates: false, actor: Fixtures.system)
            let today = try #require(try await TestDatabase.scalar(db, "SELECT current_date::text"))
            for (agency, count) in [(first, 1), (second, 2)] {
                try await AgencyScope.with(agency) {
                    for n in 0..<count {
                        _ = try await SignalStore(db).create(SignalDraft(
                            type: .logistical, stage: .shipping, indicatorCode: "frequent_consignments", observedOn: today, source: "Depot \(n)",
                            reporter: "Inspector", description: "Seen by \(agency)", facilitatorIDs: [supplier.id.uuidString.lowercased()]),
                            actor: Fixtures.system)
                    }
                    _ = try await CooperationStore(db).addContact(supplier.id, kind: .call, on: today, participants: [], notes: "Call \(agency)",
                                                                  actor: Fixtures.system)
                    _ = try await CooperationStore(db).change(supplier.id, to: .engaged, reason: "Met", expectedVersion: 0, actor: Fixtures.system)
                }
            }
            #expect(try await TestDatabase.scalar(db, "SELECT count(*)::text FROM signals") == "3")
            // A browser session for a user of each agency.
            for (agency, email) in [(first, "north@inspectorate.example"), (second, "south@inspectorate.example")] {
                _ = try await Fixtures.user(db, agency: agency, email: email)
                guard case .signedIn(let identity) = try await AccessStore(db).signIn(email: email, password: "correct horse battery") else {
                    Issue.record("\(email) could not sign in")
                    continue
                }
                #expect(identity.agencyID == agency)
                _ = try await AccessStore(db).startSession(identity)
            }

            try await TestDatabase.withAppRole(db, connections: 1) { app in
                func scalar(_ sql: String) async throws -> String? {
                    for try await value in try await app.query(PostgresQuery(unsafeSQL: sql)).decode(String?.self) { return value }
                    return nil
                }
                // act and check: the same unfiltered statements as each agency, and as none
                try await AgencyScope.with(first) { () async throws in
                    #expect(try await scalar("SELECT count(*)::text FROM signals") == "1")
                    #expect(try await scalar("SELECT count(*)::text FROM signal_versions") == "1")
                    #expect(try await scalar("SELECT count(*)::text FROM signal_documents") == "1")
                    #expect(try await scalar("SELECT count(*)::text FROM supplier_contacts") == "1")
                    #expect(try await scalar("SELECT count(*)::text FROM cooperation_changes") == "1")
                    #expect(try await scalar("SELECT count(*)::text FROM web_sessions") == "1")
                    #expect(try await scalar("SELECT string_agg(email, ',') FROM users") == "north@inspectorate.example")
                    #expect(try await scalar("SELECT string_agg(DISTINCT agency_id::text, ',') FROM audit_events WHERE action <> 'facilitator.create'")
                            == first.uuidString.lowercased())
                    // Another agency's rows can be neither changed nor written in its name.
                    #expect(try await scalar("WITH d AS (UPDATE supplier_contacts SET notes = 'changed' RETURNING 1) SELECT count(*)::text FROM d") == "1")
                    await #expect(throws: PSQLError.self) {
                        try await app.query("INSERT INTO supplier_contacts (facilitator_id, kind, occurred_on, agency_id) VALUES (\(supplier.id), 'call', current_date, \(second))")
                    }
                }
                try await AgencyScope.with(second) { () async throws in
                    #expect(try await scalar("SELECT count(*)::text FROM signals") == "2")
                    #expect(try await scalar("SELECT count(*)::text FROM supplier_contacts WHERE notes = 'changed'") == "0")
                }
                try await AgencyScope.with(nil) { () async throws in
                    #expect(try await scalar("SELECT count(*)::text FROM signals") == "0")
                    #expect(try await scalar("SELECT count(*)::text FROM cooperation_levels") == "0")
                }
                // The role owns nothing: it cannot switch a policy or the append-only triggers off, nor rewrite the chain.
                for statement in ["ALTER TABLE signals DISABLE ROW LEVEL SECURITY", "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update",
                                  "DELETE FROM audit_events", "UPDATE audit_events SET actor_label = 'x'", "SET ROLE barrier"] {
                    await #expect(throws: PSQLError.self, "\(statement)") { try await app.query(PostgresQuery(unsafeSQL: statement)) }
                }
                #expect(try await AppRole.bypassReason(app) == nil)
            }
            #expect(try await AppRole.bypassReason(db) != nil, "the tests' superuser is not bound by the policies")
            #expect(try await AuditLog(db).verify().firstBroken == nil)
        }
    }
}
