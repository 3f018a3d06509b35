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
            let header = FacilitatorCSV.columns.filter { $0 != "natural_person" }.joined(separator: ",")
            let csv = "\(header)\n,Fine Kurier GmbH,,courier,shipping,,DE,,,,,,,,,,,\n,Bad\u{1}Kurier GmbH,,courier,shipping,,DE,,,,,,,,,,,\n"
            let imported = try await app.request(.post, "/api/v1/imports/facilitators", body: csv, headers: [.contentType: "text/csv"])
            #expect(imported.status == .unprocessableContent)
            let errors = imported.object["errors"] as? [[String: Any]] ?? []
            #expect(errors.count == 1 && errors.first?["line"] as? Int == 3 && errors.first?["field"] as? String == "legal_name")
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM facilitators") == before)
        }
    }

    @Test("a control character in a query parameter is 400 naming it, on the API and the pages (it reached PostgreSQL as a 503 before)")
    func queryParameters() async throws {
        try await TestApp.run { app in
            for path in ["/api/v1/audit?actor=a%00b", "/api/v1/audit?entity_id=%01", "/api/v1/facilitators?q=Kur%00ier",
                         "/api/v1/facilitators?city=%1F", "/api/v1/letters?status=sent%00"] {
                let answer = try await app.request(.get, path, as: .admin)
                #expect(answer.status == .badRequest || answer.status == .unprocessableContent, "\(path): \(answer.status)")
                #expect(answer.text.contains("control characters"), "\(path): \(answer.text)")
            }
            let admin = try await app.signIn("admin@inspectorate.example")
            for path in ["/audit?actor=a%00b", "/suppliers?q=Kur%00ier"] {
                let page = try await app.page(path, session: admin)
                #expect(page.status.code < 500, "\(path): \(page.status)")
            }
        }
    }
}
