import BarrierCore
import BarrierLetters
import BarrierStore
import BarrierTestSupport
import Foundation
import PostgresNIO
import Testing

@Suite("Cooperation")
struct CooperationTests {
    @Test("a delivered first letter informs the supplier; an unanswered one makes it unresponsive; officers change the rest with a reason")
    func levelsFollowLettersAndOfficers() async throws {
        try await TestDatabase.withFresh { db in
            let letters = try await Fixtures.letterStore(db)
            let cooperation = CooperationStore(db)
            let agency = try await Fixtures.letterheadAgency(db)
            let (supplier, draft) = try await draftLetter(db, letters, agency: agency, name: "Zustellblitz GmbH", country: "DE")
            #expect(field(try await cooperation.level(supplier).json, "level") == "not_contacted")
            let approved = try await letters.approve(draft.id, expectedVersion: draft.version, actor: Fixtures.system)
            let day = try #require(field(approved.json, "letter_date"))
            let sent = try await letters.record(draft.id, step: .sent(on: day, method: .post, trackingNumber: nil), expectedVersion: approved.version, actor: Fixtures.system)
            #expect(field(try await cooperation.level(supplier).json, "level") == "not_contacted")
            _ = try await letters.record(draft.id, step: .delivered(on: day, proof: nil), expectedVersion: sent.version, actor: Fixtures.system)
            let informed = try await cooperation.level(supplier)
            #expect(field(informed.json, "level") == "informed")
            #expect(informed.json.contains(draft.id.uuidString.lowercased()))

            // The deadline passes unanswered.
            try await TestDatabase.sql(db, "ALTER TABLE letters DISABLE TRIGGER letters_frozen")
            try await TestDatabase.sql(db, "UPDATE letters SET letter_date = letter_date - 40, response_deadline = response_deadline - 40, sent_on = sent_on - 40, delivered_on = delivered_on - 40")
            try await TestDatabase.sql(db, "ALTER TABLE letters ENABLE TRIGGER letters_frozen")
            _ = try await letters.sweepDeadlines()
            let unresponsive = try await cooperation.level(supplier)
            #expect(field(unresponsive.json, "level") == "unresponsive")

            // Officers: a reason is required, not_contacted is never a target, and stale versions are refused.
            do {
                _ = try await cooperation.change(supplier, to: .notContacted, reason: " ", expectedVersion: unresponsive.version, actor: Fixtures.system)
                Issue.record("an invalid change was stored")
            } catch StoreError.invalid(let errors) {
                #expect(Set(errors.map(\.field)) == ["level", "reason"])
            }
            await #expect(throws: StoreError.versionConflict(current: unresponsive.version)) {
                try await cooperation.change(supplier, to: .engaged, reason: "Met the security team", expectedVersion: 0, actor: Fixtures.system)
            }
            let contact = try await cooperation.addContact(supplier, kind: .meeting, on: day, participants: ["K. Wagner", "Inspector de Vries"],
                                                           notes: "Agreed to name a contact point and train depot staff.", actor: Fixtures.system)
            let contactID = try #require(field(contact, "id").flatMap(UUID.init(uuidString:)))
            let engaged = try await cooperation.change(supplier, to: .engaged, reason: "Met the security team", contactID: contactID,
                                                       expectedVersion: unresponsive.version, actor: Fixtures.system)
            #expect(field(engaged.json, "level") == "engaged")
            let history = try #require(try JSONSerialization.jsonObject(with: Data(engaged.json.utf8)) as? [String: Any])["history"] as? [[String: Any]]
            #expect(history?.map { "\($0["from"]!)→\($0["to"]!)" } == ["not_contacted→informed", "informed→unresponsive", "unresponsive→engaged"])
            #expect(history?.map { $0["automatic"] as? Bool } == [true, true, false])
            await #expect(throws: PSQLError.self) { try await TestDatabase.sql(db, "DELETE FROM cooperation_changes") }
            let audited = try await TestDatabase.scalar(db, "SELECT count(*)::text FROM audit_events WHERE action = 'cooperation.change'")
            #expect(audited == "3")
        }
    }

    @Test("measures: the catalogue per sector, a commitment past its due date shows as lapsed, verification records who and how")
    func measures() async throws {
        try await TestDatabase.withFresh { db in
            _ = try await Fixtures.letterheadAgency(db)  // the commitments' agency
            let cooperation = CooperationStore(db)
            let supplier = try await FacilitatorStore(db).create(Fixtures.patch("Vakuumtechnik Nord GmbH", sector: "stealth_packaging"),
                                                                allowDuplicates: false, actor: Fixtures.system)
            let catalogue = try await cooperation.catalogue(sector: "stealth_packaging")
            #expect(catalogue.contains("refuse_anonymous_bulk_stealth_orders") && catalogue.contains("named_contact_point"))
            #expect(!catalogue.contains("enforce_track_and_trace"))
            await #expect(throws: StoreError.self) {
                try await cooperation.commit(supplier.id, measure: "teleportation", committedOn: "2026-01-10", dueOn: "2026-01-01", actor: Fixtures.system)
            }
            let late = try await cooperation.commit(supplier.id, measure: "staff_awareness_training", committedOn: "2025-01-10",
                                                    dueOn: "2025-03-01", actor: Fixtures.system)
            #expect(field(late.json, "status") == "lapsed")
            let today = try #require(try await TestDatabase.scalar(db, "SELECT current_date::text"))
            let onTime = try await cooperation.commit(supplier.id, measure: "named_contact_point", committedOn: today, dueOn: "2099-01-01",
                                                      actor: Fixtures.system)
            #expect(field(onTime.json, "status") == "committed")
            await #expect(throws: StoreError.self) {
                try await cooperation.commit(supplier.id, measure: "named_contact_point", committedOn: today, dueOn: "2099-01-01", actor: Fixtures.system)
            }
            let id = try #require(field(onTime.json, "id").flatMap(UUID.init(uuidString:)))
            do {
                _ = try await cooperation.record(id, status: .verified, on: today, method: nil, expectedVersion: onTime.version, actor: Fixtures.system)
                Issue.record("verified without saying how")
            } catch StoreError.invalid(let errors) {
                #expect(errors.map(\.field) == ["method"])
            }
            let verified = try await cooperation.record(id, status: .verified, on: today, method: "Called the named contact on his direct line",
                                                        expectedVersion: onTime.version, actor: Fixtures.system)
            #expect(field(verified.json, "status") == "verified" && field(verified.json, "verification_method") != nil)
            await #expect(throws: StoreError.transition(entity: "measure commitment", from: "verified", to: "implemented", allowed: [])) {
                try await cooperation.record(id, status: .implemented, on: today, expectedVersion: verified.version, actor: Fixtures.system)
            }
            let all = try await cooperation.commitments(supplier.id)
            #expect(all.contains("lapsed") && all.contains("verified"))
        }
    }
}
