import BarrierCore
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BarrierServer

@Suite("Text input: a control character is a field error (never a 503), and text is kept in NFC")
struct InputTextTests {
    @Test("the API: a NUL in a field, in a nested contact or in a list is 422 naming each field; nothing is written")
    func api() async throws {
        try await TestApp.run { app in
            let before = try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM facilitators")
            let refused = try await app.request(.post, "/api/v1/facilitators", json: """
                {"legal_name": "Null\\u0000Kurier GmbH", "sector": "courier", "stages": ["shipping"], "country": "DE",
                 "aliases": ["ok", "bell\\u0007"], "contacts": [{"name": "Esc\\u001bape"}], "notes": "tab\\tand\\nline are fine"}
                """)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.errorFields == ["legal_name", "aliases[1]", "contacts[0].name"])
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM facilitators") == before)
            // A signal's text, a cooperation reason: every route reads its body the same way.
            let signal = try await app.request(.post, "/api/v1/signals", json: """
                {"type": "logistical", "stage": "shipping", "indicator_text": "x\\u0000", "observed_on": "2026-01-05", "source": "s", "reporter": "r",
                 "facilitator_ids": []}
                """)
            #expect(signal.status == .unprocessableContent && signal.errorFields.contains("indicator_text"))
        }
    }

    @Test("a decomposed name is stored composed, so it is found and compared as typed either way")
    func nfc() async throws {
        try await TestApp.run { app in
            let created = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: """
                {"legal_name": "Cafe\\u0301 Livraison SARL", "sector": "food_delivery", "stages": ["shipping"], "country": "FR"}
                """)
            #expect(created.status == .created && created.object["legal_name"] as? String == "Café Livraison SARL")
            let stored = try await TestDatabase.scalar(app.db, "SELECT legal_name FROM facilitators WHERE legal_name LIKE 'Caf%'")
            #expect(stored?.unicodeScalars.count == "Café Livraison SARL".unicodeScalars.count)
            let found = try await app.request(.get, "/api/v1/facilitators?q=caf%C3%A9%20livraison")
            #expect((found.object["items"] as? [[String: Any]])?.count == 1)
        }
    }

    @Test("a page: a control character in a form field is refused with the field named; the CSV import names the line and column")
    func pageAndImport() async throws {
        try await TestApp.run { app in
            let officer = try await app.signIn("officer@inspectorate.example")
            let before = try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM facilitators")
            let page = try await app.post("/suppliers", session: officer, fields: [
                ("legal_name", "Null\u{0}Kurier"), ("sector", "courier"), ("stages", "shipping"), ("country", "DE")])
            #expect(page.status == .unprocessableContent && page.text.contains("legal_name") && page.text.contains("control characters"))
            let header = FacilitatorCSV.columns.joined(separator: ",")
            let csv = "\(header)\n,Fine Kurier GmbH,,courier,shipping,,DE,,,,,,,,,,,\n,Bad\u{1}Kurier GmbH,,courier,shipping,,DE,,,,,,,,,,,\n"
            let imported = try await app.request(.post, "/api/v1/imports/facilitators", body: csv, headers: [.contentType: "text/csv"])
            #expect(imported.status == .unprocessableContent)
            let errors = imported.object["errors"] as? [[String: Any]] ?? []
            #expect(errors.count == 1 && errors.first?["line"] as? Int == 3 && errors.first?["field"] as? String == "legal_name")
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM facilitators") == before)
        }
    }
}
