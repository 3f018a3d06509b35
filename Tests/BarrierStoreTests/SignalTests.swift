import BarrierCore
import BarrierStore
import BarrierTestSupport
import Foundation
import PostgresNIO
import Testing

@Suite("Signals and evidence")
struct SignalTests {
    @Test("a signal names its suppliers and indicator; a correction is a new version; evidence is kept with its SHA-256")
    func signals() async throws {
        try await TestDatabase.withFresh { db in
            _ = try await Fixtures.letterheadAgency(db)  // the signals' agency
            let store = SignalStore(db)
            let a = try await FacilitatorStore(db).create(Fixtures.patch("Paketpost Süd GmbH"), allowDuplicates: false, actor: Fixtures.system)
            let b = try await FacilitatorStore(db).create(Fixtures.patch("Vakuumbeutel Direkt GmbH", sector: "stealth_packaging"),
                                                         allowDuplicates: false, actor: Fixtures.system)
            let today = try #require(try await TestDatabase.scalar(db, "SELECT current_date::text"))
            do {
                _ = try await store.create(SignalDraft(type: .logistical, stage: .shipping, indicatorCode: "teleport", observedOn: "2999-01-01",
                                                       source: " ", reporter: "Inspector Smit", description: "", facilitatorIDs: []), actor: Fixtures.system)
                Issue.record("a bad signal was stored")
            } catch StoreError.invalid(let errors) {
                #expect(Set(errors.map(\.field)) == ["indicator", "observed_on", "source", "facilitator_ids"])
            }
            let draft = SignalDraft(type: .logistical, stage: .shipping, indicatorCode: "frequent_consignments", observedOn: today,
                                    source: "Depot manager, Hamburg hub", reporter: "Inspector Smit",
                                    description: "Forty small consignments a week to changing parcel lockers.",
                                    facilitatorIDs: [a.id.uuidString.lowercased(), b.id.uuidString.lowercased()])
            let created = try await store.create(draft, actor: Fixtures.system)
            let id = try #require(field(created.json, "id").flatMap(UUID.init(uuidString:)))
            #expect(field(created.json, "indicator_label") == "Frequent ordering of consignments")
            #expect(try await store.list(facilitatorID: b.id).count == 1)
            #expect(try await store.list(type: .financial).isEmpty)

            var corrected = draft
            corrected.facilitatorIDs = [a.id.uuidString.lowercased()]
            await #expect(throws: StoreError.self) { try await store.correct(id, corrected, reason: " ", expectedVersion: 1, actor: Fixtures.system) }
            let v2 = try await store.correct(id, corrected, reason: "The packaging supplier was named by mistake", expectedVersion: 1, actor: Fixtures.system)
            #expect(v2.version == 2 && field(v2.json, "correction_reason") != nil)
            #expect(try await store.list(facilitatorID: b.id).isEmpty)
            await #expect(throws: StoreError.versionConflict(current: 2)) {
                try await store.correct(id, draft, reason: "again", expectedVersion: 1, actor: Fixtures.system)
            }
            #expect(try await TestDatabase.scalar(db, "SELECT count(*)::text FROM signal_versions") == "2")
            await #expect(throws: PSQLError.self) { try await TestDatabase.sql(db, "DELETE FROM signal_versions") }
            await #expect(throws: PSQLError.self) { try await TestDatabase.sql(db, "UPDATE signal_versions SET description = 'nothing happened'") }

            await #expect(throws: StoreError.self) {
                try await store.attach(id, UploadedDocument(name: "photo.pdf", contentType: "application/pdf", bytes: Data("not a pdf".utf8)), actor: Fixtures.system)
            }
            let photo = UploadedDocument(name: "depot-log.txt", contentType: "text/plain", bytes: Data("08:10 40 parcels, lockers 12-51".utf8))
            let withFile = try await store.attach(id, photo, actor: Fixtures.system)
            #expect(withFile.json.contains(photo.sha256.map { String(format: "%02x", $0) }.joined()))
            let attachmentID = try #require(try await TestDatabase.scalar(db, "SELECT id::text FROM signal_attachments").flatMap(UUID.init(uuidString:)))
            #expect(try await store.attachment(id, attachmentID: attachmentID).bytes == photo.bytes)
            let actions = try await TestDatabase.scalar(db, "SELECT string_agg(action, ',' ORDER BY seq) FROM audit_events WHERE entity_type = 'signal'")
            #expect(actions == "signal.create,signal.correct,signal.attach")
        }
    }
}
