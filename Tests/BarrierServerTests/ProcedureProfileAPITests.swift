import BarrierCore
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Procedure profiles over HTTP: the shipped one, an admin's version, and the law a letter states")
struct ProcedureProfileAPITests {
    static func json(_ object: Any) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test("an agency acts under its country's shipped profile until an admin stores a version; a second agency never sees it")
    func versions() async throws {
        try await TestApp.run(configure: { $0.maxJSONBytes = 256 * 1024 }) { app in
            // The fixtures granted the test agency powers; an agency starts with none stored.
            try await TestDatabase.sql(app.db, "ALTER TABLE procedure_profiles DISABLE TRIGGER procedure_profiles_no_update")
            try await TestDatabase.sql(app.db, "DELETE FROM procedure_profiles")
            try await TestDatabase.sql(app.db, "ALTER TABLE procedure_profiles ENABLE TRIGGER procedure_profiles_no_update")
            let shipped = try await app.request(.get, "/api/v1/agency/procedure-profile", as: .auditor)
            #expect(shipped.status == .ok && shipped.headers[.eTag] == "\"0\"")
            #expect(shipped.object["origin"] as? String == "shipped:NL" && shipped.object["version"] as? Int == 0)
            var profile = try #require(shipped.object["profile"] as? [String: Any])
            #expect(profile["jurisdiction"] as? String == "NL")

            // Wrong role, no If-Match, a broken rule: each refused, nothing stored.
            let body = { (p: [String: Any], reason: String) in Self.json(["profile": p, "reason": reason]) }
            #expect(try await app.request(.put, "/api/v1/agency/procedure-profile", as: .officer, json: body(profile, "x"),
                                          headers: [.ifMatch: "\"0\""]).status == .forbidden)
            #expect(try await app.request(.put, "/api/v1/agency/procedure-profile", as: .admin, json: body(profile, "x")).status
                == .preconditionRequired)
            var broken = profile
            var deadlines = try #require(broken["deadlines"] as? [String: Any])
            deadlines["holidays"] = "XX"
            broken["deadlines"] = deadlines
            broken["record_years"] = 0
            let refused = try await app.request(.put, "/api/v1/agency/procedure-profile", as: .admin, json: body(broken, " "),
                                                headers: [.ifMatch: "\"0\""])
            #expect(refused.status == .unprocessableContent)
            let fields = Set(((refused.object["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String })
            #expect(fields == ["deadlines.holidays", "record_years", "reason"], "\(refused.text)")
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM procedure_profiles") == "0")

            // An admin adds a power the agency's lawyer confirmed: version 1, audited, with the reason.
            var fine: [String: Any] = ["legal_basis": ["en": "Article 12 of the Test Licensing Act.", "nl": "Artikel 12 Testvergunningwet.",
                                                       "fr": "Article 12 de la loi test.", "de": "Artikel 12 Testgesetz."],
                                       "competence": ["en": "We may impose fines.", "nl": "Wij kunnen boetes opleggen.",
                                                      "fr": "Nous pouvons infliger des amendes.", "de": "Wir können Geldbußen verhängen."],
                                       "suspensive_effect": false,
                                       "effect": ["en": "An objection does not suspend this decision.", "nl": "Bezwaar schorst dit besluit niet.",
                                                  "fr": "Un recours ne suspend pas cette décision.", "de": "Ein Rechtsbehelf hat keine aufschiebende Wirkung."],
                                       "source": "Test Licensing Act art. 12"]
            let remedies = try #require(profile["remedies"] as? [String: Any])
            fine["remedy"] = try #require(remedies.keys.sorted().first)
            var actions = try #require(profile["actions"] as? [String: Any])
            actions["fine"] = fine
            profile["actions"] = actions
            profile["fine_payment"] = ["beneficiary": "Test Inspectorate", "iban": "NL91 ABNA 0417 1643 00", "bic": "ABNANL2A", "days": 30]
            let stored = try await app.request(.put, "/api/v1/agency/procedure-profile", as: .admin,
                                               json: body(profile, "Fines confirmed by legal services, memo 2026-41."), headers: [.ifMatch: "\"0\""])
            #expect(stored.status == .ok && stored.headers[.eTag] == "\"1\"", "\(stored.text)")
            #expect(stored.object["origin"] as? String == "agency")
            let again = try await app.request(.put, "/api/v1/agency/procedure-profile", as: .admin, json: body(profile, "again"),
                                              headers: [.ifMatch: "\"0\""])
            #expect(again.status == .preconditionFailed)
            let listed = try await app.request(.get, "/api/v1/agency/procedure-profile/versions", as: .officer)
            let items = try #require(listed.object["items"] as? [[String: Any]])
            #expect(items.count == 1 && items.first?["reason"] as? String == "Fines confirmed by legal services, memo 2026-41.")
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM audit_events WHERE action = 'procedure_profile.change' AND after->>'reason' LIKE '%memo 2026-41%'") == "1")

            // A second agency (Germany) acts under the German shipped profile and sees no version of the first.
            let other = try await Fixtures.agencyWithUsers(app.db, name: "Zollamt Test", country: "DE", domain: "zoll.example")
            let theirs = try await app.request(.get, "/api/v1/agency/procedure-profile", token: other[.auditor])
            #expect(theirs.object["origin"] as? String == "agency" && (theirs.object["profile"] as? [String: Any])?["jurisdiction"] as? String == "DE")
            let theirVersions = try await app.request(.get, "/api/v1/agency/procedure-profile/versions", token: other[.admin])
            let theirItems = try #require(theirVersions.object["items"] as? [[String: Any]])
            #expect(theirItems.count == 1 && theirItems[0]["reason"] as? String != "Fines confirmed by legal services, memo 2026-41.")
        }
    }

    @Test("a first letter states the profile's competence, data-protection notice and postal secrecy, and its deadline is a working day")
    func letter() async throws {
        try await TestApp.run { app in
            let supplier = try await app.createAddressedSupplier("Snelpost Koeriers BV", sector: "courier", country: "NL")
            let created = try await app.request(.post, "/api/v1/letters", json: "{\"facilitator_id\": \"\(supplier)\", \"kind\": \"inform_call_to_action\"}")
            let id = try #require(created.object["id"] as? String)
            let approved = try await app.request(.post, "/api/v1/letters/\(id)/approve", headers: [.ifMatch: try #require(created.headers[.eTag])])
            #expect(approved.status == .ok, "\(approved.text)")
            let text = try await app.request(.get, "/api/v1/letters/\(id).txt").text
            let profile = try ProcedureProfileStore.shippedProfiles()["NL"]!
            let squeezed = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            for law in [profile.competence["nl"]!, profile.dataProtection["nl"]!, profile.postalSecrecy["nl"]!] {
                #expect(squeezed.contains(law.split(whereSeparator: \.isWhitespace).joined(separator: " ")), "\(law)")
            }
            let deadline = try #require(approved.object["response_deadline"] as? String)
            #expect(ProcedureCalendar.isWorkingDay(deadline, profile.deadlines), "\(deadline)")
        }
    }
}
