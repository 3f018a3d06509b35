import BarrierCore
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BarrierServer

@Suite("An admin retries a failed e-mail and releases an uncertain one, over the API and in the browser")
struct EmailRequeueTests {
    /// An approved letter of the first agency whose e-mail row is in `state`, as the sender leaves it.
    func letterWithEmail(_ app: TestApp, state: String) async throws -> String {
        let agencyTag = try await app.etag("/api/v1/agency")
        _ = try await app.request(.patch, "/api/v1/agency", as: .admin, json: """
            {"street": "Koningskade 4", "postal_code": "2596 AA", "city": "Den Haag", "signatory_name": "H. J. Bakker"}
            """, headers: [.ifMatch: agencyTag])
        let supplier = try await app.createAddressedSupplier("Mailbote \(state) GmbH", sector: "courier", country: "DE")
        let created = try await app.request(.post, "/api/v1/letters", json: "{\"facilitator_id\": \"\(supplier)\", \"kind\": \"inform_call_to_action\"}")
        let letter = try #require(created.object["id"] as? String)
        let approved = try await app.request(.post, "/api/v1/letters/\(letter)/approve", headers: [.ifMatch: try #require(created.headers[.eTag])])
        try #require(approved.status == .ok)
        try await TestDatabase.sql(app.db, """
            INSERT INTO letter_emails (letter_id, recipient, message_id, state, attempts, last_error, agency_id)
            SELECT id, 'compliance@mailbote.example', 'test-\(letter)@barrier', '\(state)', 6, 'relay refused', agency_id FROM letters WHERE id = '\(letter)'
            """)
        return letter
    }

    func state(_ app: TestApp, _ letter: String) async throws -> String? {
        try await TestDatabase.scalar(app.db, "SELECT state || ':' || attempts FROM letter_emails WHERE letter_id = '\(letter)'")
    }

    @Test("the API: admin only, a reason required, only from the state each step starts from, audited; another agency's letter is 404")
    func overTheAPI() async throws {
        try await TestApp.run { app in
            let failed = try await letterWithEmail(app, state: "failed")
            let other = try await Fixtures.agencyWithUsers(app.db, name: "Second Authority", country: "BE", domain: "second.example")
            let retry = "/api/v1/letters/\(failed)/email/retry"
            #expect(try await app.request(.post, retry, as: .officer, json: "{\"reason\": \"fixed\"}").status == .forbidden)
            #expect(try await app.request(.post, retry, token: other[.admin], json: "{\"reason\": \"fixed\"}").status == .notFound)
            let noReason = try await app.request(.post, retry, as: .admin, json: "{\"reason\": \" \"}")
            #expect(noReason.status == .unprocessableContent && noReason.errorFields == ["reason"])
            let wrongStep = try await app.request(.post, "/api/v1/letters/\(failed)/email/release", as: .admin, json: "{\"reason\": \"checked\"}")
            #expect(wrongStep.status == .conflict)
            #expect(try await state(app, failed) == "failed:6")
            let done = try await app.request(.post, retry, as: .admin, json: "{\"reason\": \"The relay's password was renewed.\"}")
            #expect(done.status == .ok && (done.object["email"] as? [String: Any])?["state"] as? String == "pending")
            #expect(try await state(app, failed) == "pending:0")
            #expect(try await TestDatabase.scalar(app.db, """
                SELECT after->>'reason' FROM audit_events WHERE action = 'letter.email_retry_requested' AND entity_id = '\(failed)'
                """) == "The relay's password was renewed.")
            // Only an admin confirms an address that is not the supplier's.
            let tag = try #require(try await app.request(.get, "/api/v1/letters/\(failed)").headers[.eTag])
            let officerConfirms = try await app.request(.post, "/api/v1/letters/\(failed)/send", as: .officer, json: """
                {"method": "email", "to": "someone@elsewhere.example", "confirm_address": true}
                """, headers: [.ifMatch: tag])
            #expect(officerConfirms.status == .unprocessableContent && officerConfirms.errorFields == ["confirm_address"])
            // Pending now: a second retry is refused and changes nothing.
            #expect(try await app.request(.post, retry, as: .admin, json: "{\"reason\": \"again\"}").status == .conflict)
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM audit_events WHERE action = 'letter.email_retry_requested'") == "1")
        }
    }

    @Test("the page: an admin sees the e-mail's state and releases an uncertain message with a reason; an officer sees no form and a forged post is refused")
    func inTheBrowser() async throws {
        try await TestApp.run { app in
            let letter = try await letterWithEmail(app, state: "uncertain")
            let admin = try await app.signIn("admin@inspectorate.example")
            // The dashboard's card leads to the letters whose e-mail is uncertain.
            let home = try await app.page("/home", session: admin)
            #expect(home.text.contains("<a href=\"/letters?email=uncertain\"><strong>1</strong>"))
            let listed = try await app.page("/letters?email=uncertain", session: admin)
            #expect(listed.text.contains("href=\"/letters/\(letter)\""))
            #expect(!(try await app.page("/letters?email=failed", session: admin)).text.contains("href=\"/letters/\(letter)\""))
            let page = try await app.page("/letters/\(letter)", session: admin)
            #expect(page.text.contains("State with the relay</dt><dd>uncertain") && page.text.contains("action=\"/letters/\(letter)/email/release\""))
            #expect(!page.text.contains("/email/retry\""))
            let officer = try await app.signIn("officer@inspectorate.example")
            let officerPage = try await app.page("/letters/\(letter)", session: officer)
            #expect(officerPage.text.contains("uncertain") && !officerPage.text.contains("/email/release\""))
            #expect(try await app.post("/letters/\(letter)/email/release", session: officer, fields: [("reason", "forged")]).status == .forbidden)
            let blank = try await app.post("/letters/\(letter)/email/release", session: admin, fields: [("reason", "")])
            #expect(blank.status == .unprocessableContent && blank.text.contains("id=\"release-reason-error\">is required"))
            #expect(try await state(app, letter) == "uncertain:6")
            let released = try await app.post("/letters/\(letter)/email/release", session: admin,
                                               fields: [("reason", "Relay log: the message never left.")])
            #expect(released.status == .ok && released.text.contains("The e-mail is queued again.") && released.text.contains("<dd>pending</dd>"))
            #expect(try await state(app, letter) == "pending:0")
        }
    }
}
