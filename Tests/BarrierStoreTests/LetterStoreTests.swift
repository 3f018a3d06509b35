import BarrierCore
import BarrierLetters
import BarrierStore
import BarrierTestSupport
import Foundation
import PostgresNIO
import Testing

/// Reads one string field of a JSON document.
func field(_ json: String, _ name: String) -> String? {
    guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return nil }
    switch object[name] {
    case let s as String: return s
    case let n as NSNumber: return n.stringValue
    default: return nil
    }
}

/// A supplier with an address, and a draft first-contact letter to it.
func draftLetter(_ db: Database, _ letters: LetterStore, agency: UUID, name: String = "Snelpost Logistiek B.V.",
                 country: String = "NL", language: LetterLanguage? = nil) async throws -> (supplier: UUID, letter: LetterStore.Record) {
    let supplier = try await FacilitatorStore(db).create(Fixtures.patch(name, sector: "parcel_delivery", country: country),
                                                        allowDuplicates: true, actor: Fixtures.system)
    let letter = try await letters.createDraft(.init(facilitatorID: supplier.id, kind: .informCallToAction, language: language),
                                               agencyID: agency, actor: Fixtures.system)
    return (supplier.id, letter)
}

@Suite("Outreach letters")
struct LetterStoreTests {
    @Test("a letter goes draft → approved → sent → delivered → responded, and each step is recorded and audited")
    func lifecycle() async throws {
        try await TestDatabase.withFresh { db in
            let letters = try await Fixtures.letterStore(db)
            let agency = try await Fixtures.letterheadAgency(db)
            let (supplier, draft) = try await draftLetter(db, letters, agency: agency)
            #expect(field(draft.json, "status") == "draft")
            #expect(field(draft.json, "language") == "nl")
            #expect(field(draft.json, "reference") == nil)

            let approved = try await letters.approve(draft.id, expectedVersion: draft.version, actor: Fixtures.system)
            let year = String(Calendar(identifier: .gregorian).component(.year, from: Date()))
            #expect(field(approved.json, "reference") == "OUT-\(year)-000001")
            #expect(field(approved.json, "pdf_sha256")?.count == 64)
            let text = String(decoding: try await letters.file(draft.id, format: .txt), as: UTF8.self)
            #expect(text.contains("OUT-\(year)-000001") && text.contains("Snelpost Logistiek B.V."))
            #expect(!text.contains("DRAFT"))

            // A second approval is not a lifecycle step.
            await #expect(throws: StoreError.transition(entity: "letter", from: "approved", to: "approved", allowed: ["sent"])) {
                try await letters.approve(draft.id, expectedVersion: approved.version, actor: Fixtures.system)
            }
            await #expect(throws: StoreError.transition(entity: "letter", from: "approved", to: "delivered", allowed: ["sent"])) {
                try await letters.record(draft.id, step: .delivered(on: "2026-01-01", proof: nil), expectedVersion: approved.version, actor: Fixtures.system)
            }
            let today = try #require(field(approved.json, "letter_date"))
            let sent = try await letters.record(draft.id, step: .sent(on: today, method: .registeredPost, trackingNumber: "RR123456785NL"),
                                                expectedVersion: approved.version, actor: Fixtures.system)
            // A stale version is refused, never overwritten.
            await #expect(throws: StoreError.versionConflict(current: sent.version)) {
                try await letters.record(draft.id, step: .delivered(on: today, proof: nil), expectedVersion: approved.version, actor: Fixtures.system)
            }
            let delivered = try await letters.record(draft.id, step: .delivered(on: today, proof: "PostNL signature S. de Vries"),
                                                     expectedVersion: sent.version, actor: Fixtures.system)
            let answer = UploadedDocument(name: "antwoord.pdf", contentType: "application/pdf", bytes: Data("%PDF-1.4 answer".utf8))
            let responded = try await letters.record(
                draft.id, step: .responded(on: today, channel: .letter, summary: "Named a security officer; will train depot staff."),
                attachment: answer, expectedVersion: delivered.version, actor: Fixtures.system)
            #expect(field(responded.json, "status") == "responded")
            #expect(responded.json.contains(answer.sha256.map { String(format: "%02x", $0) }.joined()))
            await #expect(throws: StoreError.transition(entity: "letter", from: "responded", to: "returned", allowed: [])) {
                try await letters.record(draft.id, step: .returned(on: today, reason: "x"), expectedVersion: responded.version, actor: Fixtures.system)
            }

            let timeline = try await letters.timeline(facilitatorID: supplier)
            for status in ["draft", "approved", "sent", "delivered", "responded"] { #expect(timeline.contains("\"status\" : \"\(status)\"") || timeline.contains("\"status\":\"\(status)\"")) }
            let audited = try await TestDatabase.scalar(db, "SELECT string_agg(action, ',' ORDER BY seq) FROM audit_events WHERE entity_type = 'letter'")
            #expect(audited == "letter.create,letter.approve,letter.pdf_frozen,letter.sent,letter.delivered,letter.responded")
        }
    }

    @Test("bad tracking input is refused, every field named, and nothing changes")
    func trackingValidation() async throws {
        try await TestDatabase.withFresh { db in
            let letters = try await Fixtures.letterStore(db)
            let agency = try await Fixtures.letterheadAgency(db)
            let (_, draft) = try await draftLetter(db, letters, agency: agency)
            let approved = try await letters.approve(draft.id, expectedVersion: draft.version, actor: Fixtures.system)
            do {
                _ = try await letters.record(draft.id, step: .sent(on: "2999-01-01", method: .post, trackingNumber: String(repeating: "9", count: 101)),
                                             expectedVersion: approved.version, actor: Fixtures.system)
                Issue.record("a send in the future was recorded")
            } catch StoreError.invalid(let errors) {
                #expect(Set(errors.map(\.field)) == ["on", "tracking_number"])
            }
            let sent = try await letters.record(draft.id, step: .sent(on: field(approved.json, "letter_date")!, method: .post, trackingNumber: nil),
                                                expectedVersion: approved.version, actor: Fixtures.system)
            let exe = UploadedDocument(name: "reply.pdf", contentType: "application/pdf", bytes: Data("MZ\u{90}".utf8))
            await #expect(throws: StoreError.self) {
                try await letters.record(draft.id, step: .responded(on: field(approved.json, "letter_date")!, channel: .email, summary: nil),
                                         attachment: exe, expectedVersion: sent.version, actor: Fixtures.system)
            }
            #expect(try await letters.get(draft.id).version == sent.version)
        }
    }

    @Test("drafts need an addressable supplier, a template, a future deadline; only first contacts and reminders are drafted by hand")
    func draftValidation() async throws {
        try await TestDatabase.withFresh { db in
            let letters = try await Fixtures.letterStore(db)
            let agency = try await Fixtures.letterheadAgency(db)
            var noAddress = Fixtures.patch("Nowhere Couriers GmbH", sector: "courier")
            noAddress.street = .some(nil)
            let homeless = try await FacilitatorStore(db).create(noAddress, allowDuplicates: true, actor: Fixtures.system)
            do {
                _ = try await letters.createDraft(.init(facilitatorID: homeless.id, kind: .warning, deadline: "2020-01-01"),
                                                  agencyID: agency, actor: Fixtures.system)
                Issue.record("an invalid draft was created")
            } catch StoreError.invalid(let errors) {
                #expect(errors.contains { $0.field == "kind" && $0.message.contains("licensing action") })
                #expect(errors.contains { $0.field == "deadline" && $0.message.contains("after today") })
                #expect(errors.contains { $0.field == "facilitator_id" && $0.message.contains("postal address") })
            }
            let (supplier, _) = try await draftLetter(db, letters, agency: agency, name: "Kurier Nord GmbH", country: "DE")
            await #expect(throws: StoreError.self) {
                try await letters.createDraft(.init(facilitatorID: supplier, kind: .reminder), agencyID: agency, actor: Fixtures.system)
            }
            #expect(try await TestDatabase.scalar(db, "SELECT count(*)::text FROM letters") == "1")
        }
    }

    @Test("approved letters are frozen: the database refuses edits, and the stored snapshot renders to the same bytes")
    func freezing() async throws {
        try await TestDatabase.withFresh { db in
            let letters = try await Fixtures.letterStore(db)
            let agency = try await Fixtures.letterheadAgency(db)
            let (supplier, draft) = try await draftLetter(db, letters, agency: agency, name: "Colis Express SAS", country: "FR")
            let approved = try await letters.approve(draft.id, expectedVersion: draft.version, actor: Fixtures.system)
            let id = draft.id.uuidString.lowercased()
            await #expect(throws: PSQLError.self) {
                try await TestDatabase.sql(db, "UPDATE letters SET html = 'forged' WHERE id = '\(id)'")
            }
            await #expect(throws: PSQLError.self) { try await TestDatabase.sql(db, "DELETE FROM letters WHERE id = '\(id)'") }
            await #expect(throws: PSQLError.self) { try await TestDatabase.sql(db, "UPDATE letter_templates SET body = 'x'") }
            // The registry moves on; the letter does not.
            var rename = FacilitatorPatch()
            rename.legalName = "Colis Express Groupe SAS"
            _ = try await FacilitatorStore(db).update(supplier, rename, expectedVersion: 1, actor: Fixtures.system)
            let html = String(decoding: try await letters.file(draft.id, format: .html), as: UTF8.self)
            #expect(html.contains("Colis Express SAS") && !html.contains("Groupe"))
            // Same template version + stored snapshot = same bytes.
            let snapshot = try LetterSnapshot.decode(try #require(try await TestDatabase.scalar(db, "SELECT snapshot::text FROM letters WHERE id = '\(id)'")))
            let body = try #require(try await TestDatabase.scalar(db, "SELECT t.body FROM letters l JOIN letter_templates t ON t.id = l.template_id WHERE l.id = '\(id)'"))
            let again = try letters.renderer.render(body: body, snapshot: snapshot)
            #expect(again.html == html)
            #expect(again.htmlSHA256.map { String(format: "%02x", $0) }.joined() == field(approved.json, "html_sha256"))
            #expect(snapshot.language == .fr)
        }
    }

    @Test("reference numbers stay unique and gapless under concurrent approvals, and a failed approval gives its number back")
    func concurrentReferences() async throws {
        try await TestDatabase.withFresh { db in
            let letters = try await Fixtures.letterStore(db)
            let agency = try await Fixtures.letterheadAgency(db)
            var drafts: [LetterStore.Record] = []
            for i in 0..<16 {
                drafts.append(try await draftLetter(db, letters, agency: agency, name: "Pakketdienst \(["Noord", "Zuid", "Oost", "West"][i % 4]) \(i) B.V.").letter)
            }
            // One draft will fail at approval, after taking a number: its requested deadline is today.
            try await TestDatabase.sql(db, "UPDATE letters SET requested_deadline = current_date WHERE id = '\(drafts[5].id.uuidString.lowercased())'")
            let results = await withTaskGroup(of: String?.self) { group in
                for draft in drafts {
                    group.addTask {
                        (try? await letters.approve(draft.id, expectedVersion: draft.version, actor: Fixtures.system)).flatMap { field($0.json, "reference") }
                    }
                }
                var references: [String] = []
                for await reference in group { if let reference { references.append(reference) } }
                return references
            }
            let year = String(Calendar(identifier: .gregorian).component(.year, from: Date()))
            #expect(results.count == 15)
            #expect(Set(results) == Set((1...15).map { LetterReference.format(year: Int(year)!, number: $0) }))
        }
    }

    @Test("the sweep marks letters whose deadline passed as no_response; the overdue list shows them before")
    func deadlineSweep() async throws {
        try await TestDatabase.withFresh { db in
            let letters = try await Fixtures.letterStore(db)
            let agency = try await Fixtures.letterheadAgency(db)
            let (supplier, draft) = try await draftLetter(db, letters, agency: agency)
            let approved = try await letters.approve(draft.id, expectedVersion: draft.version, actor: Fixtures.system)
            let day = try #require(field(approved.json, "letter_date"))
            let deadline = try #require(field(approved.json, "response_deadline"))
            _ = try await letters.record(draft.id, step: .sent(on: day, method: .post, trackingNumber: nil), expectedVersion: approved.version, actor: Fixtures.system)
            // Not yet due: the sweep on the deadline day leaves it.
            #expect(try await letters.sweepDeadlines(today: deadline).isEmpty)
            // Make the letter overdue as time would: move its dates back.
            try await TestDatabase.sql(db, "ALTER TABLE letters DISABLE TRIGGER letters_frozen")
            try await TestDatabase.sql(db, "UPDATE letters SET letter_date = letter_date - 40, response_deadline = response_deadline - 40, sent_on = sent_on - 40")
            try await TestDatabase.sql(db, "ALTER TABLE letters ENABLE TRIGGER letters_frozen")
            #expect(try await letters.list(overdue: true).count == 1)
            #expect(try await letters.sweepDeadlines() == [draft.id])
            let swept = try await letters.get(draft.id)
            #expect(field(swept.json, "status") == "no_response")
            #expect(try await letters.list(overdue: true).isEmpty)
            // A reminder follows it up and cites it.
            let reminder = try await letters.createDraft(.init(facilitatorID: supplier, kind: .reminder, reminderOf: draft.id),
                                                         agencyID: agency, actor: Fixtures.system)
            let preview = try await letters.preview(reminder.id)
            #expect(preview.text.contains(try #require(field(approved.json, "reference"))))
            #expect(try await letters.get(draft.id).json.contains(reminder.id.uuidString.lowercased()))
        }
    }

    @Test("template versions: an admin adds one, equal bodies are one version, a body that does not compile is refused with its line")
    func templateVersions() async throws {
        try await TestDatabase.withFresh { db in
            _ = try await Fixtures.letterheadAgency(db)  // whose version it is
            let letters = try await Fixtures.letterStore(db)
            let key = TemplateKey(kind: .reminder, group: nil, language: .en)
            let shipped = try await letters.templates(key: key)
            #expect(shipped.count == 1)
            let body = "# Reminder: {{original.reference}}\n\nDear Sir or Madam,\n\nWe still await your answer.\n\nYours faithfully,\n"
            let added = try await letters.addTemplateVersion(key, body: body, actor: Fixtures.system)
            #expect(added.created && field(added.json, "version") == "2")
            let same = try await letters.addTemplateVersion(key, body: body, actor: Fixtures.system)
            #expect(!same.created && field(same.json, "id") == field(added.json, "id"))
            do {
                _ = try await letters.addTemplateVersion(key, body: "# Subject\n\nDear {{#supplier.contactName}}x\n", actor: Fixtures.system)
                Issue.record("a broken template was stored")
            } catch StoreError.invalid(let errors) {
                #expect(errors.first?.message.hasPrefix("line 3:") == true || errors.first?.message.hasPrefix("line 4:") == true)
            }
            #expect(try await letters.templates(key: key).count == 2)
            // Restarting (syncing the files again) does not undo the admin's version.
            #expect(try await letters.syncShippedTemplates() == 0)
            #expect(field(try await letters.templates(key: key)[0], "version") == "2")
        }
    }
}
