import BarrierCore
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BarrierServer

@Suite("Pages: the audit log")
struct AuditPageTests {
    @Test("admins and auditors read their agency's events and the registry's with filters, and verify the chain; officers may not; a rewritten event shows as broken")
    func auditLog() async throws {
        try await TestApp.run { app in
            let id = try await app.createSupplier("Kurier Audit GmbH")
            _ = try await app.request(.post, "/api/v1/facilitators/\(id)/cooperation", json: """
                {"level": "refusing", "reason": "Declined the meeting."}
                """, headers: [.ifMatch: "\"0\""])
            let other = try await Fixtures.agencyWithUsers(app.db, name: "Second Authority", country: "BE", domain: "second.example")
            let theirs = try await app.createSupplier("Zweite Spedition BV")
            _ = try await app.request(.post, "/api/v1/facilitators/\(theirs)/cooperation", token: other[.officer], json: """
                {"level": "cooperating", "reason": "Secret of the second agency."}
                """, headers: [.ifMatch: "\"0\""])

            let auditor = try await app.signIn("auditor@inspectorate.example")
            let page = try await app.page("/audit", session: auditor)
            #expect(page.status == .ok && page.text.contains("<h1>Audit log</h1>"))
            #expect(page.text.contains("<a href=\"/suppliers/\(id)\">\(id)</a>"), "a registry event links to its supplier")
            #expect(page.text.contains("facilitator.create") && page.text.contains("cooperation"))
            let theirSeq = try #require(try await TestDatabase.scalar(app.db, """
                SELECT seq::text FROM audit_events WHERE action LIKE 'cooperation%'
                  AND agency_id = (SELECT id FROM agencies WHERE name = 'Second Authority')
                """))
            let ourSeq = try #require(try await TestDatabase.scalar(app.db, """
                SELECT seq::text FROM audit_events WHERE action LIKE 'cooperation%'
                  AND agency_id = (SELECT id FROM agencies WHERE name = 'Test Inspectorate')
                """))
            #expect(page.text.contains("<tr><td class=\"number\">\(ourSeq)</td>"))
            #expect(!page.text.contains("<tr><td class=\"number\">\(theirSeq)</td>"), "another agency's event is listed")

            // Filters: by record type and id; a bad day is named beside its field.
            let filtered = try await app.page("/audit?entity_type=facilitator&entity_id=\(id)", session: auditor)
            #expect(filtered.status == .ok && filtered.text.contains("facilitator.create") && !filtered.text.contains("sign_in"))
            let bad = try await app.page("/audit?from=yesterday", session: auditor)
            #expect(bad.status == .badRequest && bad.text.contains("id=\"from-error\">must be a date"))

            // The chain, verified on request.
            #expect(page.text.contains("href=\"/audit?verify=1\""))
            let verified = try await app.page("/audit?verify=1", session: auditor)
            #expect(verified.text.contains("The chain is intact:"))

            // Officers may not read the log.
            let officer = try await app.signIn("officer@inspectorate.example")
            #expect(try await app.page("/audit", session: officer).status == .forbidden)
            #expect(!(try await app.page("/home", session: officer)).text.contains("href=\"/audit\""))
            #expect((try await app.page("/home", session: auditor)).text.contains("href=\"/audit\""))

            // An event rewritten behind the application's back shows as broken.
            try await TestDatabase.sql(app.db, "ALTER TABLE audit_events DISABLE TRIGGER USER")
            try await TestDatabase.sql(app.db, "UPDATE audit_events SET actor_label = 'someone else' WHERE seq = (SELECT min(seq) + 1 FROM audit_events)")
            try await TestDatabase.sql(app.db, "ALTER TABLE audit_events ENABLE TRIGGER USER")
            let broken = try await app.page("/audit?verify=1", session: auditor)
            #expect(broken.text.contains("The chain is broken at event") && broken.text.contains("the event was altered"))
        }
    }
}
