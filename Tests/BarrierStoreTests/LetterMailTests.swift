import BarrierCore
import BarrierLetters
import BarrierStore
import BarrierTestSupport
import Foundation
import Testing

@Suite("Sending letters by e-mail", .serialized)
struct LetterMailTests {
    /// An approved letter to a supplier with an e-mail address.
    func approvedLetter(_ db: Database, _ letters: LetterStore) async throws -> LetterStore.Record {
        let agency = try await Fixtures.letterheadAgency(db)
        var patch = Fixtures.patch("Paketblitz Logistik GmbH", sector: "parcel_delivery", country: "DE")
        patch.email = .some("compliance@paketblitz.example")
        let supplier = try await FacilitatorStore(db).create(patch, allowDuplicates: true, actor: Fixtures.system)
        let draft = try await letters.createDraft(.init(facilitatorID: supplier.id, kind: .informCallToAction), agencyID: agency, actor: Fixtures.system)
        return try await letters.approve(draft.id, expectedVersion: draft.version, actor: Fixtures.system)
    }

    @Test("the relay receives the letter once, with its PDF; queuing it again is refused")
    func sendsOnce() async throws {
        let smtp = try TestSMTPServer()
        defer { smtp.stop() }
        try await TestDatabase.withFresh { db in
            let letters = try await Fixtures.letterStore(db)
            let mail = LetterMail(db, letters: letters, relay: smtp.relay)
            let letter = try await approvedLetter(db, letters)
            let queued = try await mail.queue(letter.id, to: nil, expectedVersion: letter.version, actor: Fixtures.system)
            await #expect(throws: StoreError.self) { try await mail.queue(letter.id, to: nil, expectedVersion: queued.version, actor: Fixtures.system) }
            #expect(try await mail.sendDue() == 1)
            #expect(try await mail.sendDue() == 0)
            let received = smtp.messages()
            #expect(received.count == 1)
            let message = try #require(received.first)
            #expect(message.contains("To: Paketblitz Logistik GmbH <compliance@paketblitz.example>"))
            #expect(message.contains("Message-ID: <\(letter.reference!)."))
            #expect(message.contains("Content-Type: application/pdf"))
            let sent = try await letters.get(letter.id)
            #expect(field(sent.json, "status") == "sent")
            #expect(field(sent.json, "send_method") == "email")
            // Sent: a second queue is a lifecycle error, not a second message.
            await #expect(throws: StoreError.self) { try await mail.queue(letter.id, to: nil, expectedVersion: sent.version, actor: Fixtures.system) }
            #expect(smtp.messages().count == 1)
        }
    }

    @Test("a relay that is down is retried later; a send cut off mid-way is never repeated by itself")
    func retriesAndCrashes() async throws {
        try await TestDatabase.withFresh { db in
            let letters = try await Fixtures.letterStore(db)
            let down = SMTPRelay(url: "smtp://127.0.0.1:9")!
            let letter = try await approvedLetter(db, letters)
            _ = try await LetterMail(db, letters: letters, relay: down).queue(letter.id, to: nil, expectedVersion: letter.version, actor: Fixtures.system)
            #expect(try await LetterMail(db, letters: letters, relay: down).sendDue() == 0)
            let id = letter.id.uuidString.lowercased()
            #expect(try await TestDatabase.scalar(db, "SELECT state || ':' || attempts FROM letter_emails WHERE letter_id = '\(id)'") == "pending:1")
            #expect(try await TestDatabase.scalar(db, "SELECT (next_attempt_at > now())::text FROM letter_emails WHERE letter_id = '\(id)'") == "true")
            #expect(try await TestDatabase.scalar(db, "SELECT (last_error LIKE '%msmtp%' OR last_error LIKE '%refused%' OR last_error LIKE '%connect%')::text FROM letter_emails WHERE letter_id = '\(id)'") == "true")

            let smtp = try TestSMTPServer()
            defer { smtp.stop() }
            let mail = LetterMail(db, letters: letters, relay: smtp.relay)
            // Not due yet: nothing is sent before the pause is over.
            #expect(try await mail.sendDue() == 0)
            try await TestDatabase.sql(db, "UPDATE letter_emails SET next_attempt_at = now()")
            // A sender that died after claiming: the message may or may not have left.
            try await TestDatabase.sql(db, "UPDATE letter_emails SET state = 'sending', claimed_at = now() - interval '1 hour'")
            #expect(try await mail.markLostSends() == 1)
            #expect(try await mail.sendDue() == 0)
            #expect(smtp.messages().isEmpty)
            #expect(try await TestDatabase.scalar(db, "SELECT state FROM letter_emails WHERE letter_id = '\(id)'") == "uncertain")
            // Once the failure was an honest refusal, the retry goes through, once.
            try await TestDatabase.sql(db, "UPDATE letter_emails SET state = 'pending'")
            #expect(try await mail.sendDue() == 1)
            #expect(try await mail.sendDue() == 0)
            #expect(smtp.messages().count == 1)
            let actions = try await TestDatabase.scalar(db, "SELECT string_agg(action, ',' ORDER BY seq) FROM audit_events WHERE action LIKE 'letter.email%' OR action = 'letter.sent'")
            #expect(actions == "letter.email_queued,letter.email_retry,letter.sent")
        }
    }
}
