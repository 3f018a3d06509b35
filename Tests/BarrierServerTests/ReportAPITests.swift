import BarrierCore
import BarrierServer
import BarrierStore
import BarrierTestSupport
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Hummingbird
import HummingbirdTesting
import Testing

extension TestResponse {
    /// The value a Set-Cookie header gives `name`.
    func cookie(_ name: String) -> String? {
        for header in headers[values: .setCookie] {
            let pair = header.split(separator: ";").first ?? ""
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name { return String(parts[1]) }
        }
        return nil
    }
}

extension TestApp {
    /// Signs in through the form and returns the session cookie.
    func signIn(_ email: String, password: String = "correct horse battery") async throws -> String {
        let form = try await request(.get, "/login", as: nil)
        let csrf = try #require(form.cookie("barrier_login_csrf"))
        let response = try await request(.post, "/login", as: nil, body: "email=\(email)&password=\(password.replacingOccurrences(of: " ", with: "+"))&csrf=\(csrf)&next=%2Freports",
                                         headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "barrier_login_csrf=\(csrf)"])
        guard response.status == .seeOther, let session = response.cookie("barrier_session") else {
            throw TestFailure("sign-in failed: \(response.status)")
        }
        return session
    }

    func page(_ uri: String, session: String) async throws -> TestResponse {
        try await request(.get, uri, as: nil, headers: [.cookie: "barrier_session=\(session)"])
    }
}

/// Every `<svg …>…</svg>` of a page.
func svgs(in html: String) -> [String] {
    var out: [String] = []
    var rest = html[...]
    while let start = rest.range(of: "<svg"), let end = rest.range(of: "</svg>", range: start.upperBound..<rest.endIndex) {
        out.append(String(rest[start.lowerBound..<end.upperBound]))
        rest = rest[end.upperBound...]
    }
    return out
}

func isWellFormedXML(_ text: String) -> Bool {
    XMLParser(data: Data(text.utf8)).parse()
}

@Suite("Reports and action plans over HTTP and as pages")
struct ReportAPITests {
    @Test("each report as JSON and each table as CSV; bad filters are named and unknown reports are 404")
    func reportsAsJSONAndCSV() async throws {
        try await TestApp.run { app in
            let supplier = try await app.createSupplier("Paket Nord GmbH")
            _ = try await app.request(.post, "/api/v1/facilitators/\(supplier)/cooperation", json: """
                {"level": "cooperating", "reason": "Named a contact point."}
                """, headers: [.ifMatch: "\"0\""])
            let index = try await app.request(.get, "/api/v1/reports", as: .auditor)
            #expect((index.object["items"] as? [[String: Any]])?.compactMap { $0["report"] as? String } == ReportKind.allCases.map(\.rawValue))
            let cooperation = try await app.request(.get, "/api/v1/reports/cooperation?by=stage&country=de", as: .auditor)
            #expect(cooperation.status == .ok)
            let tables = try #require(cooperation.object["tables"] as? [[String: Any]])
            #expect(tables.compactMap { $0["name"] as? String } == ["levels", "monthly"])
            let rows = try #require(tables[0]["rows"] as? [[String: Any]])
            let cooperating = try #require(rows.first { $0["stage"] as? String == "shipping" && $0["level"] as? String == "cooperating" })
            #expect(cooperating["suppliers"] as? Int == 1 && cooperating["share"] as? Double == 1.0)
            #expect((cooperation.object["filters"] as? [String: Any])?["country"] as? String == "DE")

            let bad = try await app.request(.get, "/api/v1/reports/matrix?gap_signals=0&from=yesterday&colour=red")
            #expect(bad.status == .badRequest && bad.isProblem && bad.errorFields == ["gap_signals", "from", "colour"])
            #expect(try await app.request(.get, "/api/v1/reports/horoscope").status == .notFound)
            let csv = try await app.request(.get, "/api/v1/reports/matrix/cells.csv?gap_share=0.5", as: .auditor)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            let lines = csv.text.split(separator: "\n")
            #expect(lines.first == "stage,sector,suppliers,share_contacted,share_cooperating,open_signals,verified_measures,gap")
            #expect(lines.count == 1 + Stage.allCases.count * Fixtures.shippedSectors.count)
            #expect(lines.contains("shipping,courier,1,1.0000,1.0000,0,0,false"))
            #expect(try await app.request(.get, "/api/v1/reports/matrix/nothing.csv").status == .notFound)
        }
    }

    @Test("an action plan with objectives, measures and indicators: measured from the registry or by hand, progress towards targets")
    func actionPlan() async throws {
        try await TestApp.run { app in
            let invalid = try await app.request(.post, "/api/v1/action-plans", json: """
                {"title": "Parcel barrier 2027", "coordinating_agency": "Ministry of Nowhere", "starts_on": "2027-01-01", "ends_on": "2026-12-31",
                 "objectives": ["Couriers report suspicious parcels"],
                 "measures": [{"description": "Meet the five largest couriers", "objective": 3}],
                 "indicators": [{"name": "Couriers contacted", "metric": "share_contacted", "target": 150}, {"name": "x", "metric": "vibes", "target": 1}]}
                """)
            #expect(invalid.status == .unprocessableContent)
            #expect(invalid.errorFields == ["coordinating_agency", "ends_on", "measures[0].objective", "indicators[0].target", "indicators[1].metric"])
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM action_plans") == "0")

            let supplier = try await app.createSupplier("Paket Süd GmbH")
            _ = try await app.createSupplier("Paket West GmbH")
            _ = try await app.request(.post, "/api/v1/facilitators/\(supplier)/cooperation", json: """
                {"level": "informed", "reason": "Met at the depot."}
                """, headers: [.ifMatch: "\"0\""])
            let today = try await TestDatabase.scalar(app.db, "SELECT current_date::text")!
            let year = Int(today.prefix(4))!
            let created = try await app.request(.post, "/api/v1/action-plans", json: """
                {"title": "Parcel barrier \(year)", "description": "Make parcel delivery a barrier.", "coordinating_agency": "Test Inspectorate",
                 "starts_on": "\(year)-01-01", "ends_on": "\(year + 1)-12-31", "evaluation_dates": ["\(year + 1)-06-30", "\(year - 1)-12-01"],
                 "objectives": ["Couriers know the signals", "Couriers report suspicious parcels"],
                 "measures": [{"description": "Inform every courier", "objective": 0, "responsible": "Outreach team", "due_on": "\(year)-12-31"},
                              {"description": "Agree a reporting channel", "objective": 1}],
                 "indicators": [{"name": "Couriers contacted", "metric": "share_contacted", "sector": "courier", "target": 100, "objective": 0},
                                {"name": "Reports received", "metric": "manual", "target": 20, "baseline": 0, "objective": 1}]}
                """)
            #expect(created.status == .created && created.headers[.location] != nil)
            let id = try #require(created.object["id"] as? String)
            let indicators = try #require(created.object["indicators"] as? [[String: Any]])
            #expect(indicators[0]["measured"] as? Double == 50 && indicators[0]["progress"] as? Double == 0.5)
            #expect(indicators[1]["measured"] is NSNull && indicators[1]["progress"] is NSNull)
            #expect(created.object["next_evaluation"] as? String == "\(year + 1)-06-30")
            #expect((created.object["coordinating_agency"] as? [String: Any])?["name"] as? String == "Test Inspectorate")

            let computed = try await app.request(.post, "/api/v1/action-plans/\(id)/indicators/0/measurements", json: "{\"value\": 3, \"on\": \"\(today)\"}",
                                                 headers: [.ifMatch: created.headers[.eTag]!])
            #expect(computed.status == .unprocessableContent && computed.errorFields == ["value"])
            let measured = try await app.request(.post, "/api/v1/action-plans/\(id)/indicators/1/measurements", json: "{\"value\": 5, \"on\": \"\(today)\"}",
                                                 headers: [.ifMatch: created.headers[.eTag]!])
            #expect(measured.status == .ok)
            #expect((measured.object["indicators"] as? [[String: Any]])?[1]["progress"] as? Double == 0.25)
            let stale = try await app.request(.post, "/api/v1/action-plans/\(id)/measures/0/status", json: "{\"status\": \"done\"}",
                                              headers: [.ifMatch: created.headers[.eTag]!])
            #expect(stale.status == .preconditionFailed)
            let done = try await app.request(.post, "/api/v1/action-plans/\(id)/measures/0/status", json: "{\"status\": \"done\"}",
                                             headers: [.ifMatch: measured.headers[.eTag]!])
            #expect(done.object["measures_done"] as? Int == 1 && done.object["measures_total"] as? Int == 2)
            #expect(try await app.request(.post, "/api/v1/action-plans/\(id)/measures/9/status", json: "{\"status\": \"done\"}",
                                          headers: [.ifMatch: done.headers[.eTag]!]).status == .notFound)

            let session = try await app.signIn("auditor@inspectorate.example")
            let page = try await app.page("/plans/\(id)", session: session)
            #expect(page.status == .ok && page.text.contains("Parcel barrier \(year)") && page.text.contains("Test Inspectorate"))
            #expect(page.text.contains("50%") && page.text.contains("25%") && page.text.contains("Agree a reporting channel"))
            #expect(svgs(in: page.text).allSatisfy(isWellFormedXML) && !svgs(in: page.text).isEmpty)
            let list = try await app.page("/plans", session: session)
            #expect(list.text.contains("/plans/\(id)"))
        }
    }

    @Test("with DATABASE_READ_URL the reports and their pages read the replica; writes and the rest of the API use the primary")
    func reportsReadTheReplica() async throws {
        try await TestDatabase.withFresh { replica in
            // setup: the replica has one courier in AT; the primary gets two in DE through the API
            try await TestDatabase.sql(replica, "INSERT INTO facilitators (legal_name, sector, stages, country) VALUES ('Alpen Kurier GmbH', 'courier', '{shipping}', 'AT')")
            try await TestApp.run(readFrom: replica) { app in
                _ = try await app.createSupplier("Paket Nord GmbH")
                _ = try await app.createSupplier("Paket Süd GmbH")
                // act
                let csv = try await app.request(.get, "/api/v1/reports/cooperation/levels.csv?by=country", as: .auditor)
                let list = try await app.request(.get, "/api/v1/facilitators", as: .auditor)
                let session = try await app.signIn("auditor@inspectorate.example")
                let page = try await app.page("/reports/cooperation?by=country", session: session)
                // check
                #expect(csv.status == .ok && csv.text.contains("\nAT,not_contacted,1,1,1.0000") && !csv.text.contains("\nDE,"))
                #expect((list.object["items"] as? [Any])?.count == 2)
                #expect(page.status == .ok && page.text.contains(">AT<") && !page.text.contains(">DE<"))
                #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM facilitators") == "2")
                #expect(try await TestDatabase.scalar(replica, "SELECT count(*)::text FROM facilitators") == "1")
                #expect(try await app.request(.get, "/readyz", as: nil).status == .ok)
            }
        }
    }

    @Test("five wrong passwords lock an address for a while: then even the right one is refused with 429, and the lock is audited")
    func signInLock() async throws {
        try await TestApp.run { app in
            func attempt(_ email: String, _ password: String) async throws -> TestResponse {
                let form = try await app.request(.get, "/login", as: nil)
                let csrf = try #require(form.cookie("barrier_login_csrf"))
                return try await app.request(.post, "/login", as: nil, body: "email=\(email)&password=\(password)&csrf=\(csrf)",
                                             headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "barrier_login_csrf=\(csrf)"])
            }
            let officer = "officer%40inspectorate.example", right = "correct+horse+battery"
            // A success in between starts the count again.
            for _ in 1..<AccessStore.SignInThrottle.maximumFailures {
                #expect(try await attempt(officer, "guess").status == .unauthorized)
            }
            #expect(try await attempt(officer, right).status == .seeOther)
            for _ in 1..<AccessStore.SignInThrottle.maximumFailures {
                #expect(try await attempt(officer, "guess").status == .unauthorized)
            }
            let locking = try await attempt(officer, "guess")
            #expect(locking.status == .tooManyRequests && locking.text.contains("Too many wrong passwords for this address. Try again in 15 minutes."))
            let refused = try await attempt(officer, right)
            #expect(refused.status == .tooManyRequests && refused.cookie("barrier_session") == nil)
            #expect(refused.headers[.retryAfter].flatMap(Int.init).map { (840...900).contains($0) } == true)
            // Other addresses, known or not, are not affected; unknown ones are counted alike.
            #expect(try await attempt("admin%40inspectorate.example", right).status == .seeOther)
            for _ in 0..<AccessStore.SignInThrottle.maximumFailures {
                _ = try await attempt("nobody%40inspectorate.example", "guess")
            }
            #expect(try await attempt("nobody%40inspectorate.example", "guess").status == .tooManyRequests)
            let locks = try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM audit_events WHERE action = 'user.sign_in_locked'")
            #expect(locks == "2")
            // When the lock runs out the right password works again, and clears the count.
            try await TestDatabase.sql(app.db, "UPDATE sign_in_throttle SET locked_until = now() - interval '1 second', first_failed_at = now() - interval '16 minutes'")
            #expect(try await attempt(officer, right).status == .seeOther)
            let left = try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM sign_in_throttle WHERE email = 'officer@inspectorate.example'")
            #expect(left == "0")
        }
    }

    @Test("the pages: sign-in with errors beside the fields, each report with charts that carry a title, a description and their table, CSV, sign-out")
    func pages() async throws {
        try await TestApp.run { app in
            let supplier = try await app.createSupplier("Kurier <Ost> & Söhne GmbH")
            _ = try await app.request(.post, "/api/v1/facilitators/\(supplier)/cooperation", json: """
                {"level": "refusing", "reason": "Refused."}
                """, headers: [.ifMatch: "\"0\""])
            let anonymous = try await app.request(.get, "/reports/cooperation", as: nil)
            #expect(anonymous.status == .seeOther && anonymous.headers[.location] == "/login?next=%2Freports%2Fcooperation")

            let form = try await app.request(.get, "/login", as: nil)
            let csrf = try #require(form.cookie("barrier_login_csrf"))
            #expect(form.text.contains("value=\"\(csrf)\""))
            let wrong = try await app.request(.post, "/login", as: nil, body: "email=officer%40inspectorate.example&password=nope&csrf=\(csrf)",
                                              headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "barrier_login_csrf=\(csrf)"])
            #expect(wrong.status == .unauthorized && wrong.text.contains("not right") && wrong.cookie("barrier_session") == nil)
            let forged = try await app.request(.post, "/login", as: nil, body: "email=officer%40inspectorate.example&password=correct+horse+battery&csrf=other",
                                               headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "barrier_login_csrf=\(csrf)"])
            #expect(forged.status == .forbidden && forged.cookie("barrier_session") == nil)

            let session = try await app.signIn("officer@inspectorate.example")
            for kind in ReportKind.allCases {
                let page = try await app.page("/reports/\(kind.rawValue)", session: session)
                #expect(page.status == .ok && page.headers[.contentType]?.hasPrefix("text/html") == true, "\(kind)")
                let charts = svgs(in: page.text)
                #expect(page.text.contains("<table"), "\(kind)")
                for chart in charts {
                    #expect(isWellFormedXML(chart), "\(kind): \(chart.prefix(200))")
                    #expect(chart.contains("<title id=") && chart.contains("<desc id=") && chart.contains("role=\"img\""))
                }
            }
            let cooperation = try await app.page("/reports/cooperation?by=country", session: session)
            #expect(svgs(in: cooperation.text).count == 2)
            #expect(cooperation.text.contains(">refusing<") && cooperation.text.contains("href=\"/reports/cooperation/levels.csv?by=country\""))

            let bad = try await app.page("/reports/matrix?from=yesterday&sector=bicycles&gap_share=2", session: session)
            #expect(bad.status == .badRequest)
            #expect(bad.text.contains("must be a day written YYYY-MM-DD</span>") && bad.text.contains("is not a sector"))
            #expect(bad.text.contains("must be a share from 0 to 1</span>") && bad.text.contains("value=\"yesterday\""))

            let csv = try await app.page("/reports/cooperation/levels.csv?by=country", session: session)
            #expect(csv.text.hasPrefix("country,level,suppliers,total,share\n") && csv.text.contains("DE,refusing,1,1,1.0000"))

            let page = try await app.page("/reports", session: session)
            let token = try #require(page.text.range(of: "name=\"csrf\" value=\"").map { page.text[$0.upperBound...].prefix(while: { $0 != "\"" }) })
            let forgedLogout = try await app.request(.post, "/logout", as: nil, body: "csrf=nope",
                                                     headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "barrier_session=\(session)"])
            #expect(forgedLogout.status == .forbidden)
            let logout = try await app.request(.post, "/logout", as: nil, body: "csrf=\(token)",
                                               headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "barrier_session=\(session)"])
            #expect(logout.status == .seeOther)
            #expect(try await app.page("/reports", session: session).status == .seeOther)
        }
    }
}
