import BarrierCore
import BarrierTestSupport
import Foundation
import PostgresNIO
import Testing
@testable import BarrierStore

@Suite("Supplier registry")
struct RegistryTests {
    @Test func duplicatesAreFlaggedAndEqualRegistrationInOneCountryIsRefused() async throws {
        try await TestDatabase.withFresh { db in
            // setup
            let store = FacilitatorStore(db)
            let original = try await store.create(
                Fixtures.patch("Nordwind Paketdienst GmbH", registration: "HRB 4711", vat: "DE123456789", aliases: ["Nordwind Express"]),
                allowDuplicates: false, actor: Fixtures.system)
            // act & check: a similar name
            do {
                _ = try await store.create(Fixtures.patch("Nordwind Paket-Dienst GmbH"), allowDuplicates: false, actor: Fixtures.system)
                Issue.record("a similar name was registered without a warning")
            } catch StoreError.duplicates(let candidates, let overridable) {
                #expect(overridable)
                #expect(candidates.first?.id == original.id.uuidString.lowercased())
                #expect(candidates.first?.matchedField == "legal_name")
                #expect((candidates.first?.score ?? 0) >= DuplicatePolicy.nameSimilarity)
            }
            // an alias matches too
            do {
                _ = try await store.create(Fixtures.patch("Nordwind Expres"), allowDuplicates: false, actor: Fixtures.system)
                Issue.record("an alias match was not flagged")
            } catch StoreError.duplicates(let candidates, _) {
                #expect(candidates.first?.matchedField == "aliases")
            }
            // equal VAT number
            do {
                _ = try await store.create(Fixtures.patch("Totally Different Logistics AG", vat: "DE123456789"), allowDuplicates: false, actor: Fixtures.system)
                Issue.record("an equal VAT number was not flagged")
            } catch StoreError.duplicates(let candidates, let overridable) {
                #expect(overridable && candidates.first?.matchedField == "vat_number")
            }
            // equal registration number in the same country: refused even when asked to create anyway
            do {
                _ = try await store.create(Fixtures.patch("Südwind Transporte GmbH", registration: "hrb  4711"), allowDuplicates: true, actor: Fixtures.system)
                Issue.record("an equal registration number was registered twice")
            } catch StoreError.duplicates(_, let overridable) {
                #expect(!overridable)
            }
            // the same number in another country is a different register: flagged, allowed when asked
            let french = try await store.create(
                Fixtures.patch("Vent du Nord SAS", country: "FR", registration: "HRB 4711"), allowDuplicates: true, actor: Fixtures.system)
            #expect(french.version == 1)
            let similarAnyway = try await store.create(Fixtures.patch("Nordwind Paket-Dienst GmbH"), allowDuplicates: true, actor: Fixtures.system)
            let listed = try await store.duplicates(of: similarAnyway.id)
            #expect(listed.map(\.id).contains(original.id.uuidString.lowercased()))
            #expect(try await TestDatabase.scalar(db, "SELECT count(*)::text FROM facilitators") == "3")
        }
    }

    @Test func aStaleVersionIsRefusedAndNothingChanges() async throws {
        try await TestDatabase.withFresh { db in
            let store = FacilitatorStore(db)
            let created = try await store.create(Fixtures.patch("Elbe Kurier GmbH"), allowDuplicates: false, actor: Fixtures.system)
            var patch = FacilitatorPatch()
            patch.city = "Dresden"
            let updated = try await store.update(created.id, patch, expectedVersion: 1, actor: Fixtures.system)
            #expect(updated.version == 2)
            patch.city = "Leipzig"
            await #expect(throws: StoreError.versionConflict(current: 2)) {
                try await store.update(created.id, patch, expectedVersion: 1, actor: Fixtures.system)
            }
            #expect(try await TestDatabase.scalar(db, "SELECT city FROM facilitators") == "Dresden")
            // an invalid change is refused whole
            var bad = FacilitatorPatch()
            bad.city = "Berlin"
            bad.email = "not-an-address"
            await #expect(throws: StoreError.self) { try await store.update(created.id, bad, expectedVersion: 2, actor: Fixtures.system) }
            #expect(try await TestDatabase.scalar(db, "SELECT city FROM facilitators") == "Dresden")
        }
    }

    @Test func mergeKeepsNamesContactsAndHistory() async throws {
        try await TestDatabase.withFresh { db in
            // setup
            let store = FacilitatorStore(db)
            let keep = try await store.create(Fixtures.patch("Hanse Paket GmbH", registration: nil), allowDuplicates: false, actor: Fixtures.system)
            var dupPatch = Fixtures.patch("Hanse Paket Service", registration: "HRB 999", aliases: ["HPS"])
            dupPatch.contacts = [ContactPoint(name: "Eva Lindner", role: "Compliance", email: "e.lindner@hanse.example")]
            let dup = try await store.create(dupPatch, allowDuplicates: true, actor: Fixtures.system)
            // act
            let merged = try await store.merge(keep.id, duplicate: dup.id, expectedVersion: keep.version, actor: Fixtures.system)
            // check
            let doc = try JSONSerialization.jsonObject(with: Data(merged.json.utf8)) as! [String: Any]
            #expect(doc["aliases"] as? [String] == ["Hanse Paket Service", "HPS"])
            #expect(doc["registration_number"] as? String == "HRB 999")
            #expect((doc["contacts"] as? [[String: Any]])?.first?["name"] as? String == "Eva Lindner")
            let gone = try JSONSerialization.jsonObject(with: Data(try await store.get(dup.id).json.utf8)) as! [String: Any]
            #expect(gone["status"] as? String == "archived")
            #expect(gone["merged_into"] as? String == keep.id.uuidString.lowercased())
            #expect(try await TestDatabase.scalar(db, "SELECT count(*)::text FROM audit_events WHERE entity_id = '\(dup.id.uuidString.lowercased())'") == "1")
            #expect(try await TestDatabase.scalar(db, "SELECT action FROM audit_events ORDER BY seq DESC LIMIT 1") == "facilitator.merge")
            await #expect(throws: StoreError.self) { try await store.merge(keep.id, duplicate: dup.id, expectedVersion: merged.version, actor: Fixtures.system) }
        }
    }

    @Test func listingFiltersSearchesAndPagesWithoutGapsOrRepeats() async throws {
        try await TestDatabase.withFresh { db in
            // setup: 23 suppliers in two sectors and countries
            let store = FacilitatorStore(db)
            let names = ["Adler", "Biber", "Dachs", "Eule", "Fuchs", "Gams", "Hase", "Igel", "Kranich", "Luchs", "Marder", "Nerz",
                         "Otter", "Pirol", "Rabe", "Specht", "Taube", "Uhu", "Wiesel", "Zander", "Lachs", "Forelle", "Hecht"]
            for (i, name) in names.enumerated() {
                _ = try await store.create(
                    Fixtures.patch("\(name) Logistik GmbH", sector: i % 2 == 0 ? "courier" : "hosting_provider", country: i % 3 == 0 ? "AT" : "DE",
                                   stages: i % 2 == 0 ? [.shipping] : [.runningMarketplace]),
                    allowDuplicates: true, actor: Fixtures.system)
            }
            // act: walk all pages of 5
            var seen: [String] = []
            var query = FacilitatorQuery(limit: 5)
            while true {
                let page = try await store.list(query)
                seen += page.items.map { (try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any])["legal_name"] as! String }
                guard let next = page.nextCursor else { break }
                query = try FacilitatorQuery(parameters: ["limit": "5", "cursor": next], knownSectors: Set(Fixtures.shippedSectors))
            }
            // check
            #expect(seen.count == names.count)
            #expect(seen == seen.sorted { $0.lowercased() < $1.lowercased() })
            let couriersInAT = try await store.list(FacilitatorQuery(sector: "courier", country: "AT", limit: 50))
            #expect(couriersInAT.items.count == names.indices.filter { $0 % 2 == 0 && $0 % 3 == 0 }.count)
            let running = try await store.list(FacilitatorQuery(stage: .runningMarketplace, limit: 50))
            #expect(running.items.count == names.indices.filter { $0 % 2 == 1 }.count)
            let search = try await store.list(FacilitatorQuery(q: "kranich logistk", limit: 3))
            #expect(search.items.first?.contains("Kranich Logistik GmbH") == true)
            #expect(throws: StoreError.self) {
                try FacilitatorQuery(parameters: ["sector": "bikes", "stage": "x", "limit": "0", "cursor": "garbage", "colour": "red"], knownSectors: Set(Fixtures.shippedSectors))
            }
        }
    }
}
