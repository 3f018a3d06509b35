import BarrierCore
import BarrierServer
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BarrierServer

extension TestApp {
    /// Posts a form as the signed-in browser would, with the session's form token unless `csrf` says otherwise.
    func post(_ uri: String, session: String, fields: [(String, String)], csrf: String? = nil) async throws -> TestResponse {
        let token: String
        if let csrf { token = csrf } else {
            let page = try await self.page("/home", session: session)
            token = try #require(Self.hidden("csrf", in: page.text))
        }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = ([("csrf", token)] + fields).map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }
            .joined(separator: "&")
        return try await request(.post, uri, as: nil, body: body,
                                 headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "barrier_session=\(session)"])
    }

    /// The value of the first hidden input named `name`.
    static func hidden(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }
}

@Suite("Pages: security, sessions and the registry in the browser's terms")
struct PageTests {
    @Test("every page carries a strict policy (no inline script or style), nosniff, no referrer, no framing; signed-in pages are not cached")
    func securityHeaders() async throws {
        try await TestApp.run { app in
            let session = try await app.signIn("officer@inspectorate.example")
            for uri in ["/home", "/suppliers", "/suppliers/new", "/reports", "/plans"] {
                let page = try await app.page(uri, session: session)
                #expect(page.status == .ok, "\(uri)")
                let csp = page.headers[.init("Content-Security-Policy")!] ?? ""
                #expect(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "\(uri): \(csp)")
                #expect(page.headers[.init("X-Content-Type-Options")!] == "nosniff" && page.headers[.init("Referrer-Policy")!] == "no-referrer")
                #expect(page.headers[.cacheControl] == "no-store")
                #expect(!page.text.contains("style=") && !page.text.contains("<style") && !page.text.contains("<script"), "\(uri)")
            }
            let login = try await app.request(.get, "/login", as: nil)
            #expect(login.headers[.init("Content-Security-Policy")!] != nil)
            let css = try await app.request(.get, "/static/app.css", as: nil)
            #expect(css.status == .ok && css.headers[.contentType]?.hasPrefix("text/css") == true && css.text.contains("body {"))
            let missing = try await app.page("/suppliers/\(UUID().uuidString.lowercased())", session: session)
            #expect(missing.status == .notFound && missing.headers[.init("X-Content-Type-Options")!] == "nosniff")
        }
    }

    @Test("after sign-in, next= leads only to a path of this site", arguments: [
        ("/suppliers?q=x", "/suppliers?q=x"), ("//evil.example/", "/home"), ("/\\evil.example", "/home"), ("/%2fevil.example", "/home"),
        ("/%2Fevil.example", "/home"), ("/\tevil", "/home"), ("https://evil.example", "/home"), ("/%5cevil", "/home"), ("", "/home"),
        ("/ok%20space", "/ok%20space"), ("/\n", "/home"),
    ])
    func safeNext(raw: String, expected: String) {
        #expect(PageController.safeNext(raw) == expected)
    }

    @Test("cookies: HttpOnly and SameSite=Strict always; Secure with COOKIE_SECURE; sign-out ends the session on the server")
    func cookies() async throws {
        try await TestApp.run(configure: { $0.cookieSecure = true }) { app in
            let form = try await app.request(.get, "/login", as: nil)
            let loginCookie = form.headers[values: .setCookie].first { $0.hasPrefix("barrier_login_csrf=") } ?? ""
            #expect(loginCookie.contains("HttpOnly") && loginCookie.contains("SameSite=Strict") && loginCookie.contains("Secure"))
            let csrf = try #require(form.cookie("barrier_login_csrf"))
            let signedIn = try await app.request(.post, "/login", as: nil,
                                                 body: "email=officer%40inspectorate.example&password=correct+horse+battery&csrf=\(csrf)&next=%2Fhome",
                                                 headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "barrier_login_csrf=\(csrf)"])
            let cookie = signedIn.headers[values: .setCookie].first { $0.hasPrefix("barrier_session=") } ?? ""
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Secure"), "\(cookie)")
            let session = try #require(signedIn.cookie("barrier_session"))
            #expect(try await app.page("/home", session: session).status == .ok)
            // Sign-out without the form token changes nothing; with it, the old cookie no longer signs anyone in.
            let forged = try await app.post("/logout", session: session, fields: [], csrf: "forged")
            #expect(forged.status == .forbidden)
            #expect(try await app.page("/home", session: session).status == .ok)
            #expect(try await app.post("/logout", session: session, fields: []).status == .seeOther)
            let after = try await app.page("/home", session: session)
            #expect(after.status == .seeOther && after.headers[.location]?.hasPrefix("/login") == true)
        }
    }

    @Test("a session idle for longer than SESSION_IDLE_MINUTES is over; a request within it keeps it alive")
    func idleTimeout() async throws {
        try await TestApp.run(configure: { $0.sessionIdleMinutes = 30 }) { app in
            let session = try await app.signIn("officer@inspectorate.example")
            try await TestDatabase.sql(app.db, "UPDATE web_sessions SET last_seen_at = now() - interval '29 minutes'")
            #expect(try await app.page("/home", session: session).status == .ok)
            let seen = try await TestDatabase.scalar(app.db, "SELECT (last_seen_at > now() - interval '1 minute')::text FROM web_sessions")
            #expect(seen == "true")
            try await TestDatabase.sql(app.db, "UPDATE web_sessions SET last_seen_at = now() - interval '31 minutes'")
            let idle = try await app.page("/home", session: session)
            #expect(idle.status == .seeOther && idle.headers[.location] == "/login?next=%2Fhome")
        }
    }

    @Test("registering in the browser: errors beside their fields with what was typed kept, the duplicate warning, then the supplier page")
    func registering() async throws {
        try await TestApp.run { app in
            let session = try await app.signIn("officer@inspectorate.example")
            let before = try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM facilitators")
            let bad = try await app.post("/suppliers", session: session, fields: [
                ("legal_name", "Paketblitz Logistik GmbH"), ("sector", "courier"), ("stages", "shipping"), ("country", "XX"),
                ("email", "not-an-address"), ("street", "Hafenstraße 4"),
            ])
            #expect(bad.status == .unprocessableContent)
            #expect(bad.text.contains("id=\"country-error\"") && bad.text.contains("id=\"email-error\""))
            #expect(bad.text.contains("value=\"Paketblitz Logistik GmbH\"") && bad.text.contains("value=\"Hafenstraße 4\""))
            #expect(bad.text.contains("value=\"shipping\" checked"))
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM facilitators") == before)

            let good: [(String, String)] = [("legal_name", "Paketblitz Logistik GmbH"), ("sector", "courier"), ("stages", "shipping"),
                                            ("country", "DE"), ("street", "Hafenstraße 4"), ("city", "Hamburg"),
                                            ("contact0_name", "Jana Roth"), ("contact0_email", "jana.roth@paketblitz.example")]
            let created = try await app.post("/suppliers", session: session, fields: good)
            #expect(created.status == .seeOther)
            let location = try #require(created.headers[.location])
            let page = try await app.page(location, session: session)
            #expect(page.status == .ok && page.text.contains("<h1>Paketblitz Logistik GmbH</h1>") && page.text.contains("The supplier was registered."))
            #expect(page.text.contains("Jana Roth") && page.text.contains("facilitator.create by officer@inspectorate.example"))

            let again = try await app.post("/suppliers", session: session, fields: [("legal_name", "Paketblitz Logistik"), ("sector", "courier"),
                                                                                   ("stages", "shipping"), ("country", "DE")])
            #expect(again.status == .conflict && again.text.contains("This supplier may be registered already"), "\(again.text)")
            #expect(again.text.contains("Paketblitz Logistik GmbH") && again.text.contains("name=\"create_anyway\""))
            let anyway = try await app.post("/suppliers", session: session, fields: [("legal_name", "Paketblitz Logistik"), ("sector", "courier"),
                                                                                    ("stages", "shipping"), ("country", "DE"), ("create_anyway", "1")])
            #expect(anyway.status == .seeOther)
            let list = try await app.page("/suppliers?q=paketblitz", session: session)
            #expect(list.text.contains(">Paketblitz Logistik GmbH</a>") && list.text.contains(">Paketblitz Logistik</a>"))
        }
    }

    @Test("editing keeps the version; a stale form is refused; archiving; an auditor sees no control and a forged post is refused")
    func editingAndRoles() async throws {
        try await TestApp.run { app in
            let id = try await app.createSupplier("Stealth Pack BV", country: "NL")
            let officer = try await app.signIn("officer@inspectorate.example")
            let form = try await app.page("/suppliers/\(id)/edit", session: officer)
            #expect(form.status == .ok && form.text.contains("value=\"Stealth Pack BV\""))
            let version = try #require(TestApp.hidden("version", in: form.text))
            let fields: [(String, String)] = [("legal_name", "Stealth Pack B.V."), ("sector", "courier"), ("stages", "shipping"), ("country", "NL"),
                                              ("version", version)]
            let saved = try await app.post("/suppliers/\(id)", session: officer, fields: fields)
            #expect(saved.status == .ok && saved.text.contains("<h1>Stealth Pack B.V.</h1>") && saved.text.contains("Saved."))
            let stale = try await app.post("/suppliers/\(id)", session: officer, fields: fields)
            #expect(stale.status == .preconditionFailed && stale.text.contains("changed since you read it"))

            let auditor = try await app.signIn("auditor@inspectorate.example")
            let readOnly = try await app.page("/suppliers/\(id)", session: auditor)
            #expect(readOnly.status == .ok && !readOnly.text.contains("/edit\"") && !readOnly.text.contains("/archive\""))
            #expect(!(try await app.page("/suppliers", session: auditor)).text.contains("/suppliers/new"))
            let current = try #require(TestApp.hidden("version", in: try await app.page("/suppliers/\(id)", session: officer).text))
            let forged = try await app.post("/suppliers/\(id)/archive", session: auditor, fields: [("version", current)])
            #expect(forged.status == .forbidden)
            let noToken = try await app.post("/suppliers/\(id)/archive", session: officer, fields: [("version", current)], csrf: "")
            #expect(noToken.status == .forbidden)
            #expect(try await TestDatabase.scalar(app.db, "SELECT status FROM facilitators WHERE id = '\(id)'") == "active")
            let archived = try await app.post("/suppliers/\(id)/archive", session: officer, fields: [("version", current)])
            #expect(archived.status == .ok && archived.text.contains("The supplier was archived."))
            #expect(try await TestDatabase.scalar(app.db, "SELECT status FROM facilitators WHERE id = '\(id)'") == "archived")
        }
    }

    @Test("home counts the agency's own work; another agency's officer sees the shared supplier but none of the first agency's casework")
    func homeAndSecondAgency() async throws {
        try await TestApp.run { app in
            let id = try await app.createSupplier("Kurier Nord GmbH")
            _ = try await app.request(.post, "/api/v1/facilitators/\(id)/cooperation", json: """
                {"level": "refusing", "reason": "Declined the meeting."}
                """, headers: [.ifMatch: "\"0\""])
            _ = try await Fixtures.agencyWithUsers(app.db, name: "Second Authority", country: "BE", domain: "second.example")
            let officer = try await app.signIn("officer@inspectorate.example")
            let home = try await app.page("/home", session: officer)
            #expect(home.status == .ok && home.text.contains("Letters overdue") && home.text.contains("/suppliers?sector=courier&amp;cooperation=refusing\">1<"))
            let page = try await app.page("/suppliers/\(id)", session: officer)
            #expect(page.text.contains("Declined the meeting.") && page.text.contains("<dd>refusing · <a href"))
            let other = try await app.signIn("officer@second.example")
            let theirs = try await app.page("/suppliers/\(id)", session: other)
            #expect(theirs.status == .ok && !theirs.text.contains("Declined the meeting.") && theirs.text.contains("<dd>not_contacted · <a href"))
            let theirHome = try await app.page("/home", session: other)
            #expect(!theirHome.text.contains("cooperation=refusing\">1<"))
        }
    }

    @Test("a letter in the browser: drafted from the supplier page, previewed, approved, its PDF, sent, answered with a document; overdue and reminded")
    func letters() async throws {
        try await TestApp.run { app in
            let officer = try await app.signIn("officer@inspectorate.example")
            let created = try await app.post("/suppliers", session: officer, fields: [
                ("legal_name", "Kurier Süd GmbH"), ("sector", "courier"), ("stages", "shipping"), ("country", "DE"),
                ("street", "Ringstraße 1"), ("city", "München"), ("postal_code", "80331")])
            let supplierPath = try #require(created.headers[.location]).split(separator: "?")[0]
            let supplier = try await app.page(String(supplierPath), session: officer)
            #expect(supplier.text.contains("action=\"\(supplierPath)/letters\""))
            let bad = try await app.post("\(supplierPath)/letters", session: officer, fields: [("kind", "reminder")])
            #expect(bad.status == .unprocessableContent && bad.text.contains("is required for a reminder</span>"))
            let drafted = try await app.post("\(supplierPath)/letters", session: officer, fields: [("kind", "inform_call_to_action"), ("language", "en")])
            #expect(drafted.status == .seeOther)
            let letterPath = try #require(drafted.headers[.location])
            let draft = try await app.page(letterPath, session: officer)
            #expect(draft.status == .ok && draft.text.contains("Kurier Süd GmbH") && draft.text.contains("<object"))
            #expect(draft.text.contains("data=\"\(letterPath).pdf\""))
            let preview = try await app.page(letterPath + ".pdf", session: officer)
            #expect(preview.status == .ok && preview.headers[.contentType] == "application/pdf" && preview.text.hasPrefix("%PDF"))
            #expect(preview.headers[.init("Content-Security-Policy")!]?.contains("frame-ancestors 'self'") == true)

            let approved = try await app.post(letterPath + "/approve", session: officer,
                                              fields: [("version", try #require(TestApp.hidden("version", in: draft.text)))])
            #expect(approved.status == .ok && approved.text.contains("The letter was approved"))
            let reference = try #require(try await TestDatabase.scalar(app.db, "SELECT reference FROM letters"))
            #expect(approved.text.contains("<h1>\(reference) · inform_call_to_action</h1>"))
            let pdf = try await app.page(letterPath + ".pdf", session: officer)
            #expect(pdf.text.hasPrefix("%PDF") && pdf.headers[.contentDisposition]?.contains("\(reference).pdf") == true)
            let eml = try await app.page(letterPath + ".eml", session: officer)
            #expect(eml.status == .ok && eml.text.contains("Subject:"))

            let sentOn = try #require(try await TestDatabase.scalar(app.db, "SELECT (current_date - 40)::text"))
            let sent = try await app.post(letterPath + "/steps", session: officer, fields: [
                ("step", "sent"), ("on", sentOn), ("method", "post"), ("version", try #require(TestApp.hidden("version", in: approved.text)))])
            #expect(sent.status == .unprocessableContent && sent.text.contains("id=\"sent-on\""), "a day before the letter date is refused")
            let today = try #require(try await TestDatabase.scalar(app.db, "SELECT current_date::text"))
            let sentToday = try await app.post(letterPath + "/steps", session: officer, fields: [
                ("step", "sent"), ("on", today), ("method", "registered_post"), ("tracking_number", "RR123456789DE"),
                ("version", try #require(TestApp.hidden("version", in: sent.text)))])
            #expect(sentToday.status == .ok && sentToday.text.contains("Recorded: sent.") && sentToday.text.contains("RR123456789DE"))

            // The answer with its document, as a browser posts a file.
            let boundary = "----barrier\(UUID().uuidString)"
            let csrf = try #require(TestApp.hidden("csrf", in: sentToday.text))
            let version = try #require(TestApp.hidden("version", in: sentToday.text))
            var body = ""
            for (name, value) in [("csrf", csrf), ("version", version), ("step", "responded"), ("on", today), ("channel", "letter"),
                                  ("summary", "Will train depot staff.")] {
                body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
            }
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"document\"; filename=\"answer.txt\"\r\nContent-Type: text/plain\r\n\r\nWe will train our depot staff.\r\n"
            body += "--\(boundary)--\r\n"
            let answered = try await app.request(.post, letterPath + "/steps", as: nil, body: body, headers: [
                .contentType: "multipart/form-data; boundary=\(boundary)", .cookie: "barrier_session=\(officer)"])
            #expect(answered.status == .ok && answered.text.contains("Recorded: responded.") && answered.text.contains(">answer.txt</a>"))
            let document = try await app.page(letterPath + "/response-document", session: officer)
            #expect(document.text == "We will train our depot staff.")

            // An overdue letter is listed with a button to remind it.
            let second = try await app.post("\(supplierPath)/letters", session: officer, fields: [("kind", "inform_call_to_action")])
            let secondPath = try #require(second.headers[.location])
            let secondDraft = try await app.page(secondPath, session: officer)
            _ = try await app.post(secondPath + "/approve", session: officer, fields: [("version", try #require(TestApp.hidden("version", in: secondDraft.text)))])
            let secondID = String(secondPath.split(separator: "/").last!)
            let approvedSecond = try await app.page(secondPath, session: officer)
            _ = try await app.post(secondPath + "/steps", session: officer, fields: [
                ("step", "sent"), ("on", today), ("method", "post"), ("version", try #require(TestApp.hidden("version", in: approvedSecond.text)))])
            // Time passes: the answer is now 20 days late.
            try await TestDatabase.sql(app.db, "ALTER TABLE letters DISABLE TRIGGER letters_frozen")
            try await TestDatabase.sql(app.db, "UPDATE letters SET letter_date = letter_date - 60, response_deadline = response_deadline - 60, sent_on = sent_on - 60 WHERE id = '\(secondID)'")
            try await TestDatabase.sql(app.db, "ALTER TABLE letters ENABLE TRIGGER letters_frozen")
            let overdue = try await app.page("/letters?overdue=1", session: officer)
            #expect(overdue.text.contains("href=\"\(secondPath)\"") && overdue.text.contains("name=\"reminder_of\" value=\"\(secondID)\""))
            #expect(!overdue.text.contains("href=\"\(letterPath)\""))
            let reminded = try await app.post("\(supplierPath)/letters", session: officer, fields: [("kind", "reminder"), ("reminder_of", secondID)])
            #expect(reminded.status == .seeOther)
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM letters WHERE reminder_of = '\(secondID)'") == "1")

            // Another agency's officer gets 404 on the letter, its files and its steps.
            _ = try await Fixtures.agencyWithUsers(app.db, name: "Second Authority", country: "BE", domain: "second.example")
            let other = try await app.signIn("officer@second.example")
            for path in [letterPath, letterPath + ".pdf", letterPath + "/response-document"] {
                #expect(try await app.page(path, session: other).status == .notFound, "\(path)")
            }
            #expect(try await app.post(letterPath + "/steps", session: other, fields: [("step", "delivered"), ("on", today), ("version", "1")]).status == .notFound)
            #expect(!(try await app.page("/letters", session: other)).text.contains(letterPath))
        }
    }

    @Test("licensing in the browser: a signal recorded, a suspension proposed, the decision refused with the missing elements listed, due process completed, the proposer cannot decide, a second officer does")
    func licensing() async throws {
        try await TestApp.run { app in
            let officer = try await app.signIn("officer@inspectorate.example")
            let created = try await app.post("/suppliers", session: officer, fields: [
                ("legal_name", "Schnellpost KG"), ("sector", "courier"), ("stages", "shipping"), ("country", "DE"),
                ("street", "Am Markt 2"), ("city", "Bremen")])
            let supplierPath = String(try #require(created.headers[.location]).split(separator: "?")[0])
            let supplierID = String(supplierPath.split(separator: "/").last!)
            let today = try #require(try await TestDatabase.scalar(app.db, "SELECT current_date::text"))
            // The first letter reaches the supplier; then time passes.
            func walk(_ letterPath: String, through steps: [[(String, String)]]) async throws {
                for fields in steps {
                    let page = try await app.page(letterPath, session: officer)
                    let response = try await app.post(letterPath + (fields.isEmpty ? "/approve" : "/steps"), session: officer,
                                                      fields: fields + [("version", try #require(TestApp.hidden("version", in: page.text)))])
                    #expect(response.status == .ok, "\(letterPath) \(fields): \(response.text.prefix(300))")
                }
            }
            let first = try await app.post("\(supplierPath)/letters", session: officer, fields: [("kind", "inform_call_to_action")])
            let firstPath = try #require(first.headers[.location])
            try await walk(firstPath, through: [[], [("step", "sent"), ("on", today), ("method", "post")],
                                                [("step", "delivered"), ("on", today)]])
            try await TestDatabase.sql(app.db, "ALTER TABLE letters DISABLE TRIGGER letters_frozen")
            try await TestDatabase.sql(app.db, "UPDATE letters SET letter_date = letter_date - 30, response_deadline = response_deadline - 30, sent_on = sent_on - 30, delivered_on = delivered_on - 30")
            try await TestDatabase.sql(app.db, "ALTER TABLE letters ENABLE TRIGGER letters_frozen")

            // A signal after the notice, recorded in the browser (an error first: no stage).
            let observed = try #require(try await TestDatabase.scalar(app.db, "SELECT (current_date - 5)::text"))
            var signal: [(String, String)] = [("type", "logistical"), ("indicator_text", "Parcels with vacuum-sealed packets"),
                                              ("observed_on", observed), ("source", "Customs Bremen"), ("reporter", "Officer K"),
                                              ("facilitator_ids", supplierID)]
            let noStage = try await app.post("/signals", session: officer, fields: signal)
            #expect(noStage.status == .unprocessableContent && noStage.text.contains("id=\"stage-error\"") && noStage.text.contains("Customs Bremen"))
            signal.append(("stage", "shipping"))
            let recorded = try await app.post("/signals", session: officer, fields: signal)
            #expect(recorded.status == .seeOther)
            let signalID = String(try #require(recorded.headers[.location]).split(separator: "/").last!)
            #expect(try await app.page("/signals/\(signalID)", session: officer).text.contains("Parcels with vacuum-sealed packets"))

            // Propose a suspension with that evidence.
            let form = try await app.page("/actions/new?facilitator_id=\(supplierID)", session: officer)
            #expect(form.text.contains("value=\"\(signalID)\""))
            let until = try #require(try await TestDatabase.scalar(app.db, "SELECT (current_date + 90)::text"))
            let proposed = try await app.post("/actions", session: officer, fields: [
                ("facilitator_id", supplierID), ("type", "suspension"), ("legal_basis", "Postal Act §36(2)"),
                ("rationale", "Kept carrying the market's parcels after being informed."), ("effective_from", today), ("effective_to", until),
                ("signal_ids", signalID), ("ladder_justification", "Repeated deliveries after the briefing.")])
            #expect(proposed.status == .seeOther, "\(proposed.text.components(separatedBy: "class=\"error\"").dropFirst().map { $0.prefix(200) })")
            let actionPath = try #require(proposed.headers[.location])
            let action = try await app.page(actionPath, session: officer)
            #expect(action.text.contains("✔ <strong>A letter or warning reached the supplier</strong>"))
            #expect(action.text.contains("✘ <strong>A notice of intent was issued</strong>"))
            #expect(action.text.contains("Waiting for a second officer"))

            // The second officer tries to decide: refused, with what is missing.
            let admin = try await app.signIn("admin@inspectorate.example")
            let early = try await app.post(actionPath + "/decide", session: admin,
                                           fields: [("version", try #require(TestApp.hidden("version", in: action.text)))])
            #expect(early.status == .unprocessableContent && early.text.contains("Due process incomplete"))
            #expect(early.text.contains("No notice of intent was sent for this action"))
            #expect(try await TestDatabase.scalar(app.db, "SELECT status FROM licensing_actions") == "proposed")

            // The notice of intent: issued, approved, sent, delivered, answered.
            let noticed = try await app.post(actionPath + "/notice", session: officer,
                                             fields: [("version", try #require(TestApp.hidden("version", in: action.text)))])
            #expect(noticed.status == .ok && noticed.text.contains("The notice of intent was drafted"))
            let noticeID = try #require(try await TestDatabase.scalar(app.db, "SELECT id::text FROM letters WHERE kind = 'notice_of_intent'"))
            try await walk("/letters/\(noticeID)", through: [[], [("step", "sent"), ("on", today), ("method", "registered_post")],
                                                          [("step", "delivered"), ("on", today)],
                                                          [("step", "responded"), ("on", today), ("channel", "letter"), ("summary", "Disputes the facts.")]])
            let complete = try await app.page(actionPath, session: officer)
            // The answer is recorded: the one element left is to weigh it in the decision.
            #expect(complete.text.contains("✘ <strong>The supplier&#39;s response is weighed in the decision</strong>")
                    || complete.text.contains("✘ <strong>The supplier’s response is weighed in the decision</strong>")
                    || complete.text.contains("✘ <strong>The supplier's response is weighed in the decision</strong>"), "\(complete.text)")
            #expect(complete.text.components(separatedBy: "✘").count == 2)

            // Four eyes: the proposer cannot decide; the second officer can.
            let own = try await app.post(actionPath + "/decide", session: officer,
                                         fields: [("version", try #require(TestApp.hidden("version", in: complete.text)))])
            #expect(own.status == .forbidden)
            let unweighed = try await app.post(actionPath + "/decide", session: admin,
                                               fields: [("version", try #require(TestApp.hidden("version", in: complete.text)))])
            #expect(unweighed.status == .unprocessableContent && unweighed.text.contains("give consideration"))
            let decided = try await app.post(actionPath + "/decide", session: admin,
                                             fields: [("version", try #require(TestApp.hidden("version", in: complete.text))),
                                                      ("consideration", "The dispute of the facts is not borne out by the consignment records.")])
            #expect(decided.status == .ok && decided.text.contains("The action was decided"), "\(decided.text.prefix(800))")
            #expect(try await TestDatabase.scalar(app.db, "SELECT status FROM licensing_actions") == "decided")

            // Another agency sees none of it.
            _ = try await Fixtures.agencyWithUsers(app.db, name: "Second Authority", country: "BE", domain: "second.example")
            let other = try await app.signIn("officer@second.example")
            #expect(try await app.page(actionPath, session: other).status == .notFound)
            #expect(try await app.page("/signals/\(signalID)", session: other).status == .notFound)
            #expect(!(try await app.page("/actions", session: other)).text.contains(actionPath))
        }
    }

    @Test("cooperation in the browser: the level changed with a reason (none: refused beside the field), a contact logged, a commitment implemented and verified")
    func cooperation() async throws {
        try await TestApp.run { app in
            let id = try await app.createSupplier("Paket Express GmbH")
            let officer = try await app.signIn("officer@inspectorate.example")
            let page = try await app.page("/suppliers/\(id)/cooperation", session: officer)
            #expect(page.status == .ok && page.text.contains("<strong>not_contacted</strong>"))
            let version = try #require(TestApp.hidden("version", in: page.text))
            let noReason = try await app.post("/suppliers/\(id)/cooperation", session: officer, fields: [("level", "cooperating"), ("version", version)])
            #expect(noReason.status == .unprocessableContent && noReason.text.contains("id=\"reason-error\""))
            let changed = try await app.post("/suppliers/\(id)/cooperation", session: officer,
                                             fields: [("level", "cooperating"), ("reason", "Agreed to train depot staff."), ("version", version)])
            #expect(changed.status == .ok && changed.text.contains("The level was changed.") && changed.text.contains("<strong>cooperating</strong>"))
            let today = try #require(try await TestDatabase.scalar(app.db, "SELECT current_date::text"))
            let logged = try await app.post("/suppliers/\(id)/contacts", session: officer, fields: [
                ("kind", "meeting"), ("occurred_on", today), ("participants", "Jana Roth\nOfficer K"), ("notes", "Depot visit.")])
            #expect(logged.status == .ok && logged.text.contains("Jana Roth, Officer K"))
            let measure = try #require(try await TestDatabase.scalar(app.db, "SELECT code FROM measures WHERE sectors = '{}' OR 'courier' = ANY(sectors) ORDER BY code LIMIT 1"))
            let due = try #require(try await TestDatabase.scalar(app.db, "SELECT (current_date + 30)::text"))
            let committed = try await app.post("/suppliers/\(id)/commitments", session: officer, fields: [
                ("measure", measure), ("committed_on", today), ("due_on", due)])
            #expect(committed.status == .ok && committed.text.contains("The commitment was recorded."))
            let commitment = try #require(try await TestDatabase.scalar(app.db, "SELECT id::text FROM measure_commitments"))
            let implemented = try await app.post("/suppliers/\(id)/commitments/\(commitment)", session: officer,
                                                 fields: [("status", "implemented"), ("on", today), ("version", "1")])
            #expect(implemented.status == .ok && implemented.text.contains("The step was recorded."))
            let unverified = try await app.post("/suppliers/\(id)/commitments/\(commitment)", session: officer,
                                                fields: [("status", "verified"), ("on", today), ("version", "2")])
            #expect(unverified.status == .unprocessableContent && unverified.text.contains("say how it was verified"))
            let verified = try await app.post("/suppliers/\(id)/commitments/\(commitment)", session: officer,
                                              fields: [("status", "verified"), ("on", today), ("method", "Site visit"), ("version", "2")])
            #expect(verified.status == .ok && verified.text.contains("Site visit"))
            // The auditor reads it all and has no form.
            let auditor = try await app.signIn("auditor@inspectorate.example")
            let read = try await app.page("/suppliers/\(id)/cooperation", session: auditor)
            #expect(read.status == .ok && read.text.contains("Depot visit.") && !read.text.contains("method=\"post\" action=\"/suppliers"))
            // Another agency has its own level for the same supplier.
            _ = try await Fixtures.agencyWithUsers(app.db, name: "Second Authority", country: "BE", domain: "second.example")
            let other = try await app.signIn("officer@second.example")
            let theirs = try await app.page("/suppliers/\(id)/cooperation", session: other)
            #expect(theirs.text.contains("<strong>not_contacted</strong>") && !theirs.text.contains("Depot visit."))
        }
    }
}
