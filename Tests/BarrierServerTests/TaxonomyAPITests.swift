import BarrierCore
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("The barrier model's catalogues over HTTP: an admin adds and changes entries, each a version, and the registry uses them at once")
struct TaxonomyAPITests {
    static func json(_ object: Any) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    static let names = ["en": "delivery robot operator", "fr": "opérateur de robots de livraison", "nl": "exploitant van bezorgrobots",
                        "de": "Betreiber von Lieferrobotern"]

    @Test("a new sector: refused with each field named, added by an admin with a reason, used by a supplier, a report, a measure and a letter")
    func sector() async throws {
        try await TestApp.run { app in
            let new: [String: Any] = ["code": "delivery_robot_operator", "label": "Delivery robot operator", "names": Self.names,
                                      "reason": "Robots now carry parcels in three cities."]
            // An officer may read but not add; a broken one is refused whole, nothing stored.
            #expect(try await app.request(.post, "/api/v1/taxonomy/sectors", as: .officer, json: Self.json(new)).status == .forbidden)
            var broken = new
            broken["names"] = ["en": "robots"]
            broken["code"] = "Robots!"
            let refused = try await app.request(.post, "/api/v1/taxonomy/sectors", as: .admin, json: Self.json(broken))
            #expect(refused.status == .unprocessableContent)
            let fields = Set((refused.object["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
            #expect(fields == ["code", "names.fr", "names.nl", "names.de"], "\(fields)")
            #expect(try await app.request(.post, "/api/v1/taxonomy/nonsense", as: .admin, json: Self.json(new)).status == .notFound)
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM sectors WHERE code = 'delivery_robot_operator'") == "0")

            let created = try await app.request(.post, "/api/v1/taxonomy/sectors", as: .admin, json: Self.json(new))
            #expect(created.status == .created && created.headers[.eTag] == "\"1\"")
            #expect(created.headers[.location] == "/api/v1/taxonomy/sectors/delivery_robot_operator")
            let again = try await app.request(.post, "/api/v1/taxonomy/sectors", as: .admin, json: Self.json(new))
            #expect(again.status == .unprocessableContent && again.text.contains("already in the sectors catalogue"))
            let sectors = try await app.request(.get, "/api/v1/sectors", as: .auditor)
            #expect(sectors.text.contains("delivery_robot_operator"))

            // The registry takes it at once: a supplier, a report filter, a measure for it.
            let supplier = try await app.request(.post, "/api/v1/facilitators", as: .officer, json: Self.json([
                "legal_name": "Robo Kurier GmbH", "sector": "delivery_robot_operator", "stages": ["shipping"], "country": "DE",
                "street": "Ringstraße 1", "postal_code": "10115", "city": "Berlin"]))
            #expect(supplier.status == .created, "\(supplier.text)")
            #expect(try await app.request(.get, "/api/v1/reports/cooperation?sector=delivery_robot_operator", as: .auditor).status == .ok)
            #expect(try await app.request(.get, "/api/v1/reports/cooperation?sector=robots", as: .auditor).status == .badRequest)
            let measure = try await app.request(.post, "/api/v1/taxonomy/measures", as: .admin, json: Self.json([
                "code": "robot_route_logs", "label": "Route logs kept", "description": "Each robot's routes are kept 90 days.",
                "sectors": ["delivery_robot_operator"], "reason": "Asked for by the new sector's letters."]))
            #expect(measure.status == .created)
            let offered = try await app.request(.get, "/api/v1/measures?sector=delivery_robot_operator", as: .officer)
            #expect(offered.text.contains("robot_route_logs"))

            // A first letter to the supplier names the sector in the letter's language.
            let id = try #require(supplier.object["id"] as? String)
            let letter = try await app.request(.post, "/api/v1/letters", as: .officer, json: Self.json([
                "facilitator_id": id, "kind": "inform_call_to_action", "language": "de"]))
            #expect(letter.status == .created, "\(letter.text)")
            let letterID = try #require(letter.object["id"] as? String)
            let preview = try await app.request(.get, "/api/v1/letters/\(letterID).txt", as: .officer)
            #expect(preview.text.contains("Lieferroboter"), "\(preview.text.components(separatedBy: "Sektor").dropFirst().first?.prefix(300) ?? preview.text.prefix(300))")

            // A change: If-Match, a reason, a new version; a stale one 412; nothing but a reason 422.
            let path = "/api/v1/taxonomy/sectors/delivery_robot_operator"
            #expect(try await app.request(.patch, path, as: .admin, json: Self.json(["label": "Robots"]), headers: [.ifMatch: "\"1\""]).status
                == .unprocessableContent)
            #expect(try await app.request(.patch, path, as: .admin, json: Self.json(["label": "Robots", "reason": "Shorter."])).status
                == .preconditionRequired)
            let changed = try await app.request(.patch, path, as: .admin, json: Self.json(["label": "Parcel robot operator", "reason": "The trade's term."]),
                                                headers: [.ifMatch: "\"1\""])
            #expect(changed.status == .ok && changed.headers[.eTag] == "\"2\"" && changed.object["label"] as? String == "Parcel robot operator")
            #expect(try await app.request(.patch, path, as: .admin, json: Self.json(["label": "X", "reason": "Stale."]),
                                          headers: [.ifMatch: "\"1\""]).status == .preconditionFailed)
            #expect(try await app.request(.patch, path, as: .admin, json: Self.json(["code": "robots", "reason": "Rename."]),
                                          headers: [.ifMatch: "\"2\""]).status == .unprocessableContent)
            let versions = try await app.request(.get, path + "/versions", as: .auditor)
            let items = try #require(versions.object["items"] as? [[String: Any]])
            #expect(items.map { $0["version"] as? Int } == [1, 2])
            #expect(items.map { $0["reason"] as? String } == ["Robots now carry parcels in three cities.", "The trade's term."])
            #expect(((items[0]["entry"] as? [String: Any])?["label"] as? String) == "Delivery robot operator")
            let audited = try await TestDatabase.scalar(app.db, """
                SELECT string_agg(action, ',' ORDER BY seq) FROM audit_events WHERE entity_type = 'taxonomy'
                """)
            #expect(audited == "taxonomy.create,taxonomy.create,taxonomy.update")
        }
    }

    @Test("an indicator and an opportunity: the stage's next position, signals recorded against the new indicator, every catalogue listed")
    func indicatorAndOpportunity() async throws {
        try await TestApp.run { app in
            let indicator = try await app.request(.post, "/api/v1/taxonomy/indicators", as: .admin, json: Self.json([
                "code": "robot_night_pickups", "label": "Robot pick-ups at night", "type": "logistical", "stages": ["shipping"],
                "source": "practice", "source_note": "Seen by customs in Tallinn", "reason": "Reported by two agencies."]))
            #expect(indicator.status == .created, "\(indicator.text)")
            let listed = try await app.request(.get, "/api/v1/signal-indicators", as: .officer)
            #expect(listed.text.contains("robot_night_pickups"))
            let opportunity = try await app.request(.post, "/api/v1/taxonomy/opportunities", as: .admin, json: Self.json([
                "stage": "shipping", "label": "Unattended pick-up points", "source": "paper", "reason": "The paper's update."]))
            #expect(opportunity.status == .created)
            let shippingCount = try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM barrier_opportunities WHERE stage = 'shipping'")
            #expect(opportunity.object["key"] as? String == "shipping:\(shippingCount ?? "?")")
            let all = try await app.request(.get, "/api/v1/taxonomy", as: .auditor)
            for catalogue in TaxonomyCatalogue.allCases { #expect((all.object[catalogue.rawValue] as? [Any])?.isEmpty == false) }
            #expect(all.text.contains("Unattended pick-up points") && all.text.contains("robot_night_pickups"))
        }
    }

    @Test("a sector's letter group and postal caveat come from the catalogue: a new postal sector gets the delivery letter with the caveat")
    func letterRules() async throws {
        try await TestApp.run { app in
            let sector = try await app.request(.post, "/api/v1/taxonomy/sectors", as: .admin, json: Self.json([
                "code": "parcel_drone_operator", "label": "Parcel drone operator", "letter_group": "delivery", "postal": true,
                "names": ["en": "parcel drone operator", "fr": "opérateur de drones de colis", "nl": "exploitant van pakketdrones",
                          "de": "Betreiber von Paketdrohnen"],
                "reason": "Drones deliver parcels in rural areas."]))
            #expect(sector.status == .created && sector.object["letter_group"] as? String == "delivery" && sector.object["postal"] as? Bool == true)
            let supplier = try await app.request(.post, "/api/v1/facilitators", as: .officer, json: Self.json([
                "legal_name": "SkyParcel BV", "sector": "parcel_drone_operator", "stages": ["shipping"], "country": "NL",
                "street": "Dorpsstraat 1", "postal_code": "1234 AB", "city": "Emmen"]))
            let letter = try await app.request(.post, "/api/v1/letters", as: .officer, json: Self.json([
                "facilitator_id": try #require(supplier.object["id"] as? String), "kind": "inform_call_to_action", "language": "en"]))
            #expect(letter.status == .created, "\(letter.text)")
            let text = try await app.request(.get, "/api/v1/letters/\(try #require(letter.object["id"] as? String)).txt", as: .officer).text
            let profile = try Fixtures.empoweredProfile(country: "NL")
            let caveat = try #require(profile.postalSecrecy["en"]).split(whereSeparator: \.isWhitespace).prefix(8).joined(separator: " ")
            let words = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(words.contains(caveat), "the postal-secrecy caveat is missing")
            #expect(words.contains("parcel drone operator"))
            let template = try await TestDatabase.scalar(app.db, """
                SELECT t.sector_group FROM letters l JOIN letter_templates t ON t.id = l.template_id WHERE l.id = '\(letter.object["id"] as? String ?? "")'
                """)
            #expect(template == "delivery")
        }
    }
}
