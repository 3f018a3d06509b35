import BarrierCore
import BarrierLetters
import BarrierServer
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BarrierServer

extension TestApp {
    /// The plain text of a new draft letter of `kind` to `supplier`, drafted with `token` (an officer's).
    func draftLetterText(_ supplier: String, token: String, kind: String = "inform_call_to_action") async throws -> String {
        let created = try await request(.post, "/api/v1/letters", token: token, json: """
            {"facilitator_id": "\(supplier)", "kind": "\(kind)", "language": "en"}
            """)
        let id = try #require(created.object["id"] as? String, "\(created.status) \(created.text)")
        return try await request(.get, "/api/v1/letters/\(id).txt", token: token).text
    }

    /// What the page's textarea named `body` holds, unescaped as the browser would show it.
    static func textarea(_ html: String) -> String? {
        guard let open = html.range(of: "name=\"body\""), let start = html.range(of: ">", range: open.upperBound..<html.endIndex),
              let end = html.range(of: "</textarea>", range: start.upperBound..<html.endIndex) else { return nil }
        return String(html[start.upperBound..<end.lowerBound]).unescapedHTML
    }

    /// The text of the preview (`<pre id="preview-text">`), unescaped.
    static func previewText(_ html: String) -> String? {
        guard let start = html.range(of: "<pre id=\"preview-text\">"), let end = html.range(of: "</pre>", range: start.upperBound..<html.endIndex) else {
            return nil
        }
        return String(html[start.upperBound..<end.lowerBound]).unescapedHTML
    }
}

extension String {
    var unescapedHTML: String {
        replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&#x27;", with: "'").replacingOccurrences(of: "&#x2F;", with: "/")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}

@Suite("Administration pages: the agency's settings and its letter templates")
struct AdminPageTests {
    static let key = "inform_call_to_action.delivery.en"

    func count(_ app: TestApp, _ sql: String) async throws -> String {
        try await TestDatabase.scalar(app.db, sql) ?? ""
    }

    @Test("an administrator changes the letterhead: errors beside their fields with what was typed kept, then saved and on the next draft; a stale form is refused")
    func letterhead() async throws {
        try await TestApp.run { app in
            let admin = try await app.signIn("admin@inspectorate.example")
            let form = try await app.page("/admin/agency", session: admin)
            #expect(form.status == .ok && form.text.contains("action=\"/admin/agency\"") && form.text.contains("<h1>Agency settings: Test Inspectorate</h1>"))
            let version = try #require(TestApp.hidden("version", in: form.text))
            let auditBefore = try await count(app, "SELECT count(*)::text FROM audit_events WHERE action = 'agency.update'")

            var fields: [(String, String)] = [
                ("street", "Koningskade 4"), ("postal_code", "2596 AA"), ("city", "Den Haag"), ("email", "not-an-address"), ("phone", ""),
                ("website", ""), ("signatory_name", "H. J. Bakker"), ("signatory_title", "Director of Supervision"),
                ("response_days", "three weeks"), ("appeal_days", "42"), ("version", version),
            ]
            let bad = try await app.post("/admin/agency", session: admin, fields: fields)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.text.contains("id=\"email-error\"") && bad.text.contains("id=\"response_days-error\""), "\(bad.text)")
            #expect(bad.text.contains("must be a whole number of days"))
            #expect(bad.text.contains("value=\"Koningskade 4\"") && bad.text.contains("value=\"three weeks\"") && bad.text.contains("value=\"not-an-address\""))
            #expect(try await count(app, "SELECT version::text FROM agencies") == version)

            fields[3] = ("email", "barrier@authority.example")
            fields[8] = ("response_days", "21")
            let saved = try await app.post("/admin/agency", session: admin, fields: fields)
            #expect(saved.status == .ok && saved.text.contains("settings were saved."), "\(saved.text)")
            #expect(saved.text.contains("value=\"Koningskade 4\"") && saved.text.contains("value=\"21\""))
            #expect(try await count(app, "SELECT city || ' ' || response_days || ' ' || appeal_days FROM agencies") == "Den Haag 21 42")
            #expect(try await count(app, "SELECT count(*)::text FROM audit_events WHERE action = 'agency.update'") == String(Int(auditBefore)! + 1))

            // The next draft carries the new letterhead.
            let supplier = try await app.createAddressedSupplier("Grenzpaket Kurier GmbH", sector: "courier", country: "DE")
            let letter = try await app.draftLetterText(supplier, token: app.tokens[.officer]!)
            #expect(letter.contains("Koningskade 4") && letter.contains("H. J. Bakker") && letter.contains("Director of Supervision"), "\(letter)")

            // The form sent with the version it was read at, after someone else's change: refused, nothing written.
            fields[2] = ("city", "Rotterdam")
            let stale = try await app.post("/admin/agency", session: admin, fields: fields)
            #expect(stale.status == .preconditionFailed)
            #expect(stale.text.contains("Someone changed these settings since you opened this page"))
            #expect(stale.text.contains("value=\"Den Haag\""))
            #expect(try await count(app, "SELECT city FROM agencies") == "Den Haag")
        }
    }

    @Test("every template with the version in use; a template's versions, the current text in the form")
    func templateList() async throws {
        try await TestApp.run { app in
            let admin = try await app.signIn("admin@inspectorate.example")
            let list = try await app.page("/admin/templates", session: admin)
            #expect(list.status == .ok)
            let keys = try await count(app, "SELECT count(DISTINCT (kind, sector_group, language))::text FROM letter_templates")
            #expect(list.text.components(separatedBy: "<a href=\"/admin/templates/").count - 1 == Int(keys)!)
            #expect(list.text.contains("<a href=\"/admin/templates/\(Self.key)\">") && list.text.contains("<a href=\"/admin/templates/reminder.fr\">"))
            let page = try await app.page("/admin/templates/\(Self.key)", session: admin)
            #expect(page.status == .ok)
            let shipped = try await count(app, "SELECT body FROM letter_templates WHERE kind = 'inform_call_to_action' AND sector_group = 'delivery' AND language = 'en' ORDER BY version DESC LIMIT 1")
            #expect(TestApp.textarea(page.text) == shipped)
            #expect(page.text.contains("shipped with the program"))
            #expect(try await app.page("/admin/templates/love_letter.en", session: admin).status == .notFound)
        }
    }

    @Test("a preview renders the typed text for a real supplier with the agency's letterhead, and saves nothing")
    func preview() async throws {
        try await TestApp.run { app in
            let supplier = try await app.createAddressedSupplier("Grenzpaket Kurier GmbH", sector: "courier", country: "DE")
            let admin = try await app.signIn("admin@inspectorate.example")
            let page = try await app.page("/admin/templates/\(Self.key)", session: admin)
            #expect(page.text.contains("<option value=\"\(supplier)\">Grenzpaket Kurier GmbH"), "the supplier is offered")
            let body = try #require(TestApp.textarea(page.text)) + "\n\nOur reference desk: Grenzmarke Alpha."
            let rows = try await count(app, "SELECT count(*)::text FROM letter_templates")
            let events = try await count(app, "SELECT count(*)::text FROM audit_events")

            // Finding a supplier by name keeps the text as typed.
            let found = try await app.post("/admin/templates/\(Self.key)/preview", session: admin,
                                           fields: [("body", body), ("supplier_q", "Grenzpaket"), ("find", "1")])
            #expect(found.status == .ok && found.text.contains(">Grenzpaket Kurier GmbH (courier, DE)</option>"))
            #expect(TestApp.textarea(found.text) == body && TestApp.previewText(found.text) == nil)

            let shown = try await app.post("/admin/templates/\(Self.key)/preview", session: admin,
                                           fields: [("body", body), ("supplier_id", supplier)])
            #expect(shown.status == .ok, "\(shown.text)")
            let text = try #require(TestApp.previewText(shown.text))
            #expect(text.contains("Grenzpaket Kurier GmbH") && text.contains("Grenzmarke Alpha") && text.contains("Rue des Colis 7"), "\(text)")
            #expect(text.contains("Test Inspectorate"))
            #expect(TestApp.textarea(shown.text) == body, "the typed text stays in the form")
            #expect(shown.text.contains("<option value=\"\(supplier)\" selected>"))
            #expect(try await count(app, "SELECT count(*)::text FROM letter_templates") == rows)
            #expect(try await count(app, "SELECT count(*)::text FROM audit_events") == events)

            let noSupplier = try await app.post("/admin/templates/\(Self.key)/preview", session: admin, fields: [("body", body)])
            #expect(noSupplier.status == .unprocessableContent && noSupplier.text.contains("id=\"supplier_id-error\""))
            let unknown = try await app.post("/admin/templates/\(Self.key)/preview", session: admin,
                                             fields: [("body", body), ("supplier_id", UUID().uuidString)])
            #expect(unknown.status == .unprocessableContent && unknown.text.contains("no such supplier"))

            // A reminder's preview names a sample original letter: it exists nowhere yet.
            let reminder = try await app.page("/admin/templates/reminder.en", session: admin)
            let reminderBody = try #require(TestApp.textarea(reminder.text))
            let reminded = try await app.post("/admin/templates/reminder.en/preview", session: admin,
                                              fields: [("body", reminderBody), ("supplier_id", supplier)])
            #expect(reminded.status == .ok && TestApp.previewText(reminded.text)?.contains("OUT-0000-000000") == true)
            #expect(try await count(app, "SELECT count(*)::text FROM letter_templates") == rows)
        }
    }

    @Test("a template that does not compile: the error with its line beside the text, on preview and on save; nothing saved")
    func compileError() async throws {
        try await TestApp.run { app in
            let supplier = try await app.createAddressedSupplier("Grenzpaket Kurier GmbH", sector: "courier", country: "DE")
            let admin = try await app.signIn("admin@inspectorate.example")
            let rows = try await count(app, "SELECT count(*)::text FROM letter_templates")
            let broken = "# Our letter\n\nDear {{supplier.name}},\n\n{{#agency.email}}Write to {{agency.email}}.{{/agency.phone}}\n\nYours faithfully,\n"
            for (uri, extra) in [("/admin/templates/\(Self.key)/preview", [("supplier_id", supplier)]), ("/admin/templates/\(Self.key)", [])] {
                let refused = try await app.post(uri, session: admin, fields: [("body", broken)] + extra)
                #expect(refused.status == .unprocessableContent, "\(uri)")
                #expect(refused.text.contains("<p class=\"error\" id=\"body-error\">line 5: a section is closed with another name"), "\(refused.text)")
                #expect(refused.text.contains("aria-invalid=\"true\"") && TestApp.textarea(refused.text) == broken)
                #expect(TestApp.previewText(refused.text) == nil)
            }
            let noSubject = try await app.post("/admin/templates/\(Self.key)", session: admin, fields: [("body", "\n\nDear {{supplier.name}},\n")])
            #expect(noSubject.status == .unprocessableContent && noSubject.text.contains("line 3: the first line must be the subject"))
            #expect(try await count(app, "SELECT count(*)::text FROM letter_templates") == rows)
            // The API refuses the same body with the same line: one check for both.
            let api = try await app.request(.post, "/api/v1/letter-templates/\(Self.key)", as: .admin,
                                            json: "{\"body\": \(String(data: try JSONSerialization.data(withJSONObject: [broken]), encoding: .utf8)!.dropFirst().dropLast())}")
            #expect(api.status == .unprocessableContent && api.text.contains("line 5: a section is closed with another name"))
        }
    }

    @Test("a body of 100,000 characters is stored even sent fully escaped (1.2 MB); one more is refused on the field, by the API and the page, and nothing is saved")
    func bodyLength() async throws {
        try await TestApp.run { app in
            let admin = try await app.signIn("admin@inspectorate.example")
            let subject = "# Our long letter\n\nDear {{supplier.name}},\n\n"
            let fill = LetterTemplate.maxBodyLength - subject.unicodeScalars.count
            // Every code point outside the BMP and written as a surrogate pair, as a client escaping to ASCII sends it.
            func escaped(_ emoji: Int) -> String {
                "{\"body\": \"" + subject.replacingOccurrences(of: "\n", with: "\\n") + String(repeating: "\\ud83d\\udcec", count: emoji) + "\"}"
            }
            let rows = Int(try await count(app, "SELECT count(*)::text FROM letter_templates"))!
            let longest = escaped(fill)
            #expect(longest.utf8.count > AppConfiguration().maxJSONBytes)
            let stored = try await app.request(.post, "/api/v1/letter-templates/\(Self.key)", as: .admin, json: longest)
            #expect(stored.status == .created, "\(stored.status) \(stored.text.prefix(300))")
            #expect(try await count(app, "SELECT char_length(body)::text FROM letter_templates ORDER BY created_at DESC, version DESC LIMIT 1") == String(LetterTemplate.maxBodyLength))

            let tooLong = try await app.request(.post, "/api/v1/letter-templates/\(Self.key)", as: .admin, json: escaped(fill + 1))
            #expect(tooLong.status == .unprocessableContent)
            let errors = try #require(tooLong.object["errors"] as? [[String: Any]], "\(tooLong.text.prefix(300))")
            #expect(errors.count == 1 && errors[0]["field"] as? String == "body" && errors[0]["message"] as? String == "must be at most 100000 characters")

            let page = try await app.post("/admin/templates/\(Self.key)", session: admin,
                                          fields: [("body", subject + String(repeating: "\u{1F4EC}", count: fill + 1))])
            #expect(page.status == .unprocessableContent)
            #expect(page.text.contains("<p class=\"error\" id=\"body-error\">must be at most 100000 characters</p>"), "\(page.text.prefix(2000))")
            #expect(try await count(app, "SELECT count(*)::text FROM letter_templates") == String(rows + 1))
        }
    }

    @Test("saving a version: audited, agency A's next letter uses it, agency B's does not; B's administrator sees only shipped versions and B's own")
    func savingStaysWithTheAgency() async throws {
        try await TestApp.run { app in
            let second = try await Fixtures.agencyWithUsers(app.db, name: "Second Authority", country: "BE", domain: "second.example")
            let supplier = try await app.createAddressedSupplier("Grenzpaket Kurier GmbH", sector: "courier", country: "DE")
            let admin = try await app.signIn("admin@inspectorate.example")
            let page = try await app.page("/admin/templates/\(Self.key)", session: admin)
            let body = try #require(TestApp.textarea(page.text)) + "\n\nOur reference desk: Grenzmarke Alpha."
            let rows = Int(try await count(app, "SELECT count(*)::text FROM letter_templates"))!
            let shippedVersion = try await count(app, """
                SELECT max(version)::text FROM letter_templates WHERE kind = 'inform_call_to_action' AND sector_group = 'delivery' AND language = 'en'
                """)

            let saved = try await app.post("/admin/templates/\(Self.key)", session: admin, fields: [("body", body)])
            let version = Int(shippedVersion)! + 1
            #expect(saved.status == .ok && saved.text.contains("Version \(version) was saved"), "\(saved.text)")
            #expect(try await count(app, "SELECT count(*)::text FROM letter_templates") == String(rows + 1))
            #expect(try await count(app, "SELECT actor_label FROM audit_events WHERE action = 'letter_template.add_version' AND actor_label LIKE 'admin@%'")
                    == "admin@inspectorate.example")
            #expect(saved.text.contains("admin@inspectorate.example") && saved.text.contains("this agency"))
            #expect(TestApp.textarea(saved.text) == body, "the form now holds the version in use")
            let again = try await app.post("/admin/templates/\(Self.key)", session: admin, fields: [("body", body)])
            #expect(again.status == .ok && again.text.contains("The text is the same as version \(version)"))
            #expect(try await count(app, "SELECT count(*)::text FROM letter_templates") == String(rows + 1))

            #expect(try await app.draftLetterText(supplier, token: app.tokens[.officer]!).contains("Grenzmarke Alpha"))
            #expect(!(try await app.draftLetterText(supplier, token: second[.officer]!)).contains("Grenzmarke Alpha"))

            let theirs = try await app.signIn("admin@second.example")
            let theirPage = try await app.page("/admin/templates/\(Self.key)", session: theirs)
            #expect(theirPage.status == .ok && !theirPage.text.contains("Grenzmarke Alpha") && !theirPage.text.contains("admin@inspectorate.example"))
            #expect(!theirPage.text.contains("this agency"))
            let theirList = try await app.page("/admin/templates", session: theirs)
            #expect(!theirList.text.contains("this agency"))
            let ours = try await app.page("/admin/templates", session: admin)
            #expect(ours.text.contains("this agency"))
            // B's own version: B sees it and the shipped ones, never A's.
            let theirBody = try #require(TestApp.textarea(theirPage.text)) + "\n\nDesk Beta."
            #expect(try await app.post("/admin/templates/\(Self.key)", session: theirs, fields: [("body", theirBody)]).status == .ok)
            let theirVersions = try await app.page("/admin/templates/\(Self.key)", session: theirs)
            #expect(theirVersions.text.contains("admin@second.example") && !theirVersions.text.contains("admin@inspectorate.example"))
            #expect(TestApp.textarea(theirVersions.text)?.hasSuffix("Desk Beta.") == true)
            #expect(!(try await app.page("/admin/templates/\(Self.key)", session: admin)).text.contains("Desk Beta."))
        }
    }

    @Test("officers and auditors read the settings and templates without any form; their posts are refused and change nothing")
    func readersOnly() async throws {
        try await TestApp.run { app in
            let supplier = try await app.createAddressedSupplier("Grenzpaket Kurier GmbH", sector: "courier", country: "DE")
            let admin = try await app.signIn("admin@inspectorate.example")
            let adminHome = try await app.page("/home", session: admin)
            #expect(adminHome.text.contains("href=\"/admin/agency\"") && adminHome.text.contains("href=\"/admin/templates\""))
            let version = try #require(TestApp.hidden("version", in: try await app.page("/admin/agency", session: admin).text))
            let rows = try await count(app, "SELECT count(*)::text FROM letter_templates")
            let agency = try await count(app, "SELECT version || coalesce(city, '-') FROM agencies")
            let body = "# Forged\n\nDear {{supplier.name}},\n"
            for email in ["officer@inspectorate.example", "auditor@inspectorate.example"] {
                let session = try await app.signIn(email)
                #expect(!(try await app.page("/home", session: session)).text.contains("href=\"/admin/agency\""))
                let settings = try await app.page("/admin/agency", session: session)
                #expect(settings.status == .ok && settings.text.contains("Test Inspectorate") && !settings.text.contains("action=\"/admin/agency\""))
                #expect(settings.text.contains("Only an administrator"))
                let template = try await app.page("/admin/templates/\(Self.key)", session: session)
                #expect(template.status == .ok && !template.text.contains("<textarea") && !template.text.contains("<form class=\"stacked"))
                #expect(template.text.contains("<pre>") && template.text.contains("{{supplier.name}}"))
                #expect(try await app.page("/admin/templates", session: session).status == .ok)
                for (uri, fields) in [("/admin/agency", [("city", "Forged"), ("response_days", "30"), ("appeal_days", "30"), ("version", version)]),
                                      ("/admin/templates/\(Self.key)/preview", [("body", body), ("supplier_id", supplier)]),
                                      ("/admin/templates/\(Self.key)", [("body", body)])] {
                    let refused = try await app.post(uri, session: session, fields: fields)
                    #expect(refused.status == .forbidden, "\(email) \(uri)")
                    #expect(!refused.text.contains("preview-text"))
                }
            }
            // Without the form token even the administrator's post changes nothing.
            let forged = try await app.post("/admin/templates/\(Self.key)", session: admin, fields: [("body", body)], csrf: "forged")
            #expect(forged.status == .forbidden)
            #expect(try await count(app, "SELECT count(*)::text FROM letter_templates") == rows)
            #expect(try await count(app, "SELECT version || coalesce(city, '-') FROM agencies") == agency)
            #expect(try await count(app, "SELECT count(*)::text FROM audit_events WHERE actor_label IN ('officer@inspectorate.example', 'auditor@inspectorate.example') AND action IN ('agency.update', 'letter_template.add_version')") == "0")
        }
    }
}
