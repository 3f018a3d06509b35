import BarrierCore
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BarrierServer

extension TestApp {
    /// Posts a multipart form as a browser does with a file input: the fields, then each file.
    func postMultipart(_ uri: String, session: String, fields: [(String, String)],
                       files: [(field: String, name: String, type: String, content: String)]) async throws -> TestResponse {
        let boundary = "----barrier\(UUID().uuidString)"
        var body = ""
        for (name, value) in fields {
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        }
        for file in files {
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.field)\"; filename=\"\(file.name)\"\r\n"
                + "Content-Type: \(file.type)\r\n\r\n\(file.content)\r\n"
        }
        body += "--\(boundary)--\r\n"
        return try await request(.post, uri, as: nil, body: body, headers: [
            .contentType: "multipart/form-data; boundary=\(boundary)", .cookie: "barrier_session=\(session)"])
    }
}

@Suite("Pages: the registry's CSV import and export")
struct ImportPageTests {
    static let header = FacilitatorCSV.columns.filter { $0 != "natural_person" }.joined(separator: ",")

    func count(_ app: TestApp) async throws -> String? {
        try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM facilitators")
    }

    @Test("a file with bad lines lists each with its number and imports nothing; a good one is previewed, imported once on confirmation, and exported")
    func importInTheBrowser() async throws {
        try await TestApp.run { app in
            _ = try await app.createSupplier("Nordsee Paket GmbH")
            _ = try await Fixtures.agencyWithUsers(app.db, name: "Second Authority", country: "BE", domain: "second.example")
            let officer = try await app.signIn("officer@inspectorate.example")
            let form = try await app.page("/suppliers/import", session: officer)
            #expect(form.status == .ok && form.text.contains("enctype=\"multipart/form-data\"") && form.text.contains("name=\"file\""))
            let csrf = try #require(TestApp.hidden("csrf", in: form.text))
            let before = try await count(app)
            let imports = "SELECT count(*)::text FROM audit_events WHERE action = 'facilitator.import'"
            let events = try await TestDatabase.scalar(app.db, imports)

            // No file: the error beside the field.
            let none = try await app.postMultipart("/suppliers/import", session: officer, fields: [("csrf", csrf)], files: [])
            #expect(none.status == .unprocessableContent && none.text.contains("id=\"file-error\">choose a CSV file<"))

            // Bad lines: line 3's sector, line 4 spans two lines, line 5's country; nothing kept or written.
            let bad = """
                \(Self.header)
                ,Donau Kurier GmbH,,courier,shipping,drugs,AT,FN 123456a,,,,Wien,,,,,,
                ,Bad Sector Ltd,,bicycles,shipping,,IE,,,,,,,,,,,
                ,Multi Line BV,,hosting_provider,running_marketplace,,NL,,,,,,,,,,"first line
                second line",
                ,No Country SARL,,courier,shipping,,ZZ,,,,,,,,,,,
                """
            let refused = try await app.postMultipart("/suppliers/import", session: officer, fields: [("csrf", csrf)],
                                                      files: [("file", "suppliers.csv", "text/csv", bad)])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("2 line(s) of the file are invalid; nothing was imported."))
            #expect(refused.text.contains("<td class=\"number\">3</td><td>sector</td>"))
            #expect(refused.text.contains("<td class=\"number\">6</td><td>country</td>"))
            #expect(!refused.text.contains("/suppliers/import/"), "a file with bad lines is offered for import")
            #expect(try await count(app) == before)
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM pending_imports") == "0")

            // A good file: previewed, nothing written until confirmed; a similar name is flagged.
            let good = """
                \(Self.header)
                ,Donau Kurier GmbH,,courier,shipping,drugs,AT,FN 123456a,,,,Wien,,,,,,
                ,Nordsee Paket GmbH & Co,,courier,shipping,,DE,,,,,Kiel,,,,,,
                """
            let preview = try await app.postMultipart("/suppliers/import", session: officer, fields: [("csrf", csrf)],
                                                      files: [("file", "suppliers.csv", "text/csv", good)])
            #expect(preview.status == .ok && preview.text.contains("2 supplier(s) will be registered"))
            #expect(preview.text.contains("<td>Donau Kurier GmbH</td>") && preview.text.contains("<td>Wien</td>"))
            #expect(preview.text.contains("looks like registered supplier Nordsee Paket GmbH"))
            let action = try #require(preview.text.range(of: "action=\"/suppliers/import/").map { preview.text[$0.upperBound...].prefix(36) })
            #expect(try await count(app) == before)

            // Another agency cannot confirm it; an auditor cannot import at all.
            let other = try await app.signIn("officer@second.example")
            let otherCSRF = try #require(TestApp.hidden("csrf", in: try await app.page("/home", session: other).text))
            let foreign = try await app.post("/suppliers/import/\(action)", session: other, fields: [], csrf: otherCSRF)
            #expect(foreign.status == .notFound)
            let auditor = try await app.signIn("auditor@inspectorate.example")
            #expect(try await app.page("/suppliers/import", session: auditor).status == .forbidden)
            let forged = try await app.post("/suppliers/import/\(action)", session: auditor, fields: [])
            #expect(forged.status == .forbidden)
            #expect(try await count(app) == before)
            #expect(try await TestDatabase.scalar(app.db, imports) == events)

            // Confirmed: imported once; a second confirmation finds nothing.
            let done = try await app.post("/suppliers/import/\(action)", session: officer, fields: [])
            #expect(done.status == .ok && done.text.contains("2 supplier(s) imported."))
            #expect(try await TestDatabase.scalar(app.db, imports) == String(Int(events ?? "0")! + 1))
            #expect(try await count(app) == String(Int(before ?? "0")! + 2))
            let again = try await app.post("/suppliers/import/\(action)", session: officer, fields: [])
            #expect(again.status == .notFound)
            #expect(try await count(app) == String(Int(before ?? "0")! + 2))

            // The export link gives the registry as CSV, to every role.
            let list = try await app.page("/suppliers", session: auditor)
            #expect(list.text.contains("href=\"/suppliers.csv\"") && !list.text.contains("href=\"/suppliers/import\""))
            let officerList = try await app.page("/suppliers", session: officer)
            #expect(officerList.text.contains("href=\"/suppliers/import\""))
            let export = try await app.page("/suppliers.csv", session: auditor)
            #expect(export.status == .ok && export.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(export.text.hasPrefix(Self.header) && export.text.contains("Donau Kurier GmbH") && export.text.contains("Nordsee Paket GmbH"))
        }
    }
}
