import BarrierCore
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BarrierServer

@Suite("Pages: writing and revising action plans")
struct PlanPageTests {
    static let plan: [(String, String)] = [
        ("title", "Parcel lockers plan"), ("description", "Cut the use of parcel lockers."), ("coordinating_agency", "Test Inspectorate"),
        ("starts_on", "2026-01-01"), ("ends_on", "2026-12-31"), ("evaluation_dates", "2026-06-30\n2026-12-15"),
        ("objectives", "Inform every parcel service\nVerify their measures"),
        ("measure0_description", "Send the first letters"), ("measure0_objective", "0"), ("measure0_responsible", "Officer A"),
        ("measure0_due_on", "2026-03-31"),
        ("indicator0_name", "Parcel services informed"), ("indicator0_metric", "manual"), ("indicator0_target", "10"),
        ("indicator0_baseline", "0"), ("indicator0_objective", "0"),
        ("indicator1_name", "Share contacted"), ("indicator1_metric", "share_contacted"), ("indicator1_sector", "courier"),
        ("indicator1_target", "80"),
    ]

    @Test("a plan written in the browser with errors beside their fields, measured, its measures moved, revised keeping what was recorded; auditors and other agencies change nothing")
    func planInTheBrowser() async throws {
        try await TestApp.run { app in
            _ = try await Fixtures.agencyWithUsers(app.db, name: "Second Authority", country: "BE", domain: "second.example")
            let officer = try await app.signIn("officer@inspectorate.example")
            let form = try await app.page("/plans/new", session: officer)
            #expect(form.status == .ok && form.text.contains("name=\"coordinating_agency\" value=\"Test Inspectorate\""))
            #expect(form.text.contains("name=\"measure2_description\"") && form.text.contains("name=\"indicator2_name\""))

            // Errors beside their fields; a blank row in between does not shift them; what was typed is kept.
            var broken = Self.plan.filter { !$0.0.hasPrefix("measure0") }
            broken += [("measure1_description", "Meet the couriers"), ("measure1_due_on", "31.03.2026"), ("ends_on", "2025-12-31"),
                       ("indicator1_target", "180")]
            broken.removeAll { $0 == ("ends_on", "2026-12-31") || $0 == ("indicator1_target", "80") }
            let refused = try await app.post("/plans", session: officer, fields: broken)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("id=\"measure1_due_on-error\">must be a day written YYYY-MM-DD<"))
            #expect(refused.text.contains("id=\"ends_on-error\">must be after starts_on (2026-01-01)<"))
            #expect(refused.text.contains("id=\"indicator1_target-error\">is a percentage: at most 100<"))
            #expect(refused.text.contains("value=\"Meet the couriers\"") && refused.text.contains("value=\"Parcel lockers plan\""))
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM action_plans") == "0")

            // A row with only its metric chosen is an empty row: the next row's error stays beside the next row.
            let metricOnly = Self.plan.filter { !$0.0.hasPrefix("indicator") } + [
                ("indicator0_metric", "manual"), ("indicator1_name", "Couriers met"), ("indicator1_metric", "manual"), ("indicator1_target", "lots")]
            let shifted = try await app.post("/plans", session: officer, fields: metricOnly)
            #expect(shifted.status == .unprocessableContent && shifted.text.contains("id=\"indicator1_target-error\">must be a number<"))
            #expect(!shifted.text.contains("id=\"indicator0_target-error\""))

            let created = try await app.post("/plans", session: officer, fields: Self.plan)
            #expect(created.status == .seeOther)
            let path = try #require(created.headers[.location])
            let page = try await app.page(path, session: officer)
            #expect(page.status == .ok && page.text.contains("<h1>Parcel lockers plan</h1>") && page.text.contains("Send the first letters"))
            #expect(page.text.contains("href=\"\(path)/edit\""))

            // A measurement of the manual indicator, and a measure moved to done; a stale form is refused.
            let today = try #require(try await TestDatabase.scalar(app.db, "SELECT current_date::text"))
            let version = try #require(TestApp.hidden("version", in: page.text))
            let measured = try await app.post("\(path)/indicators/0", session: officer, fields: [("version", version), ("value", "4"), ("on", today)])
            #expect(measured.status == .ok && measured.text.contains("Recorded.") && measured.text.contains("aria-label=\"Parcel services informed: 40%\""))
            let stale = try await app.post("\(path)/measures/0", session: officer, fields: [("version", version), ("status", "done")])
            #expect(stale.status == .preconditionFailed)
            let future = try await app.post("\(path)/indicators/0", session: officer, fields: [
                ("version", try #require(TestApp.hidden("version", in: measured.text))), ("value", "5"), ("on", "2999-01-01")])
            #expect(future.status == .unprocessableContent)
            let done = try await app.post("\(path)/measures/0", session: officer, fields: [
                ("version", try #require(TestApp.hidden("version", in: measured.text))), ("status", "done")])
            #expect(done.status == .ok && done.text.contains("Measures done: 1 / 1"))

            // Revised: a new title and a second measure; the first keeps its status, the indicator its measurement.
            let edit = try await app.page("\(path)/edit", session: officer)
            #expect(edit.status == .ok && edit.text.contains("value=\"Send the first letters\"") && edit.text.contains("2026-06-30\n2026-12-15"))
            var revised = Self.plan.map { $0.0 == "title" ? ("title", "Parcel lockers plan 2026") : $0 }
            revised += [("measure1_description", "Meet the couriers"), ("measure1_objective", "1"), ("version", try #require(TestApp.hidden("version", in: edit.text)))]
            let saved = try await app.post(path, session: officer, fields: revised)
            #expect(saved.status == .ok && saved.text.contains("The plan was revised.") && saved.text.contains("<h1>Parcel lockers plan 2026</h1>"))
            #expect(saved.text.contains("Measures done: 1 / 2") && saved.text.contains("aria-label=\"Parcel services informed: 40%\""))
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM audit_events WHERE action = 'action_plan.revise'") == "1")

            // An auditor sees no control and cannot post; another agency finds nothing.
            let auditor = try await app.signIn("auditor@inspectorate.example")
            let read = try await app.page(path, session: auditor)
            #expect(read.status == .ok && !read.text.contains("/edit\"") && !read.text.contains("action=\"/plans/"))
            #expect(try await app.page("/plans/new", session: auditor).status == .forbidden)
            #expect(try await app.post(path, session: auditor, fields: revised).status == .forbidden)
            let other = try await app.signIn("officer@second.example")
            #expect(try await app.page("\(path)/edit", session: other).status == .notFound)
            #expect(try await app.post(path, session: other, fields: revised.map { $0.0 == "title" ? ("title", "Taken over") : $0 }).status == .notFound)
            #expect(try await TestDatabase.scalar(app.db, "SELECT title FROM action_plans") == "Parcel lockers plan 2026")
        }
    }
}
