import BarrierCore
import BarrierLetters
@testable import BarrierStore
import BarrierTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

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
            #expect(actions == "letter.email_queued,letter.email_sending,letter.email_retry,letter.email_uncertain,letter.email_sending,letter.email_sent,letter.sent")
        }
    }
}

@Suite("The relay's hand-over is bounded: a stalled relay, a hung program, credentials in clear")
struct RelayLimitsTests {
    @Test("SMTP_URL: credentials only with STARTTLS or TLS", arguments: [
        ("smtp://relay.example:25", true), ("smtp://user:secret@relay.example", false), ("smtp://user@relay.example", false),
        ("smtp+starttls://user:secret@relay.example:587", true), ("smtps://user:secret@relay.example", true), ("http://relay.example", false),
        ("smtp://", false),
    ])
    func url(_ text: String, _ usable: Bool) {
        #expect((SMTPRelay.problem(url: text) == nil) == usable, "\(text): \(SMTPRelay.problem(url: text) ?? "usable")")
    }

    @Test("a program past its time limit is killed and reported, and the caller's thread pool is not held")
    func timeout() async throws {
        let started = Date()
        let result = try await Subprocess.runDetached(["/bin/sleep", "30"], timeoutSeconds: 0.5)
        #expect(result.status == Subprocess.timedOut && result.output.contains("stopped after"))
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test("a relay that accepts the connection and never answers costs one bounded attempt; the message is retried later, not left sending")
    func stalledRelay() async throws {
        // A listening socket that never accepts: the kernel completes the connection, nobody ever greets.
        let (fd, port) = try #require(TestSMTPServer.loopbackSocket())
        defer { close(fd) }
        try #require(listen(fd, 8) == 0)
        try await TestDatabase.withFresh { db in
            let letters = try await Fixtures.letterStore(db)
            let stalled = try #require(SMTPRelay(url: "smtp://127.0.0.1:\(port)"))
            let mail = LetterMail(db, letters: letters, relay: stalled, sendTimeoutSeconds: 3)
            let letter = try await LetterMailTests().approvedLetter(db, letters)
            _ = try await mail.queue(letter.id, to: nil, expectedVersion: letter.version, actor: Fixtures.system)
            let started = Date()
            #expect(try await mail.sendDue() == 0)
            #expect(Date().timeIntervalSince(started) < 10)
            let id = letter.id.uuidString.lowercased()
            #expect(try await TestDatabase.scalar(db, "SELECT state || ':' || attempts FROM letter_emails WHERE letter_id = '\(id)'") == "pending:1")
            #expect(try await TestDatabase.scalar(db, "SELECT last_error FROM letter_emails WHERE letter_id = '\(id)'") != nil)
        }
    }
}

@Suite("Where a letter's e-mail may go")
struct EmailRecipientTests {
    @Test("the supplier's address or a contact point's; another only when an admin confirms it, and the audit event says so")
    func recipient() async throws {
        try await TestDatabase.withFresh { db in
            let letters = try await Fixtures.letterStore(db)
            let relay = try #require(SMTPRelay(url: "smtp://127.0.0.1:9"))
            let mail = LetterMail(db, letters: letters, relay: relay)
            let letter = try await LetterMailTests().approvedLetter(db, letters)
            let supplier = try #require(try await TestDatabase.scalar(db, "SELECT facilitator_id::text FROM letters WHERE id = '\(letter.id)'"))
            try await TestDatabase.sql(db, "INSERT INTO contact_points (facilitator_id, position, name, email) VALUES ('\(supplier)', 0, 'Legal', 'legal@paketblitz.example')")
            do {
                _ = try await mail.queue(letter.id, to: "someone@elsewhere.example", expectedVersion: letter.version, actor: Fixtures.system)
                Issue.record("an address that is not the supplier's was queued")
            } catch StoreError.invalid(let problems) {
                #expect(problems == [FieldError(field: "to", message: LetterEmailing.unknownAddress)])
            }
            #expect(try await TestDatabase.scalar(db, "SELECT count(*)::text FROM letter_emails") == "0")
            let queued = try await mail.queue(letter.id, to: "Legal@Paketblitz.example", expectedVersion: letter.version, actor: Fixtures.system)
            #expect(queued.json.contains("Legal@Paketblitz.example"))

            let agencyText = try #require(try await TestDatabase.scalar(db, "SELECT agency_id::text FROM letters LIMIT 1"))
            let agency = try #require(UUID(uuidString: agencyText))
            let second = try await letters.createDraft(.init(facilitatorID: UUID(uuidString: supplier)!, kind: .informCallToAction),
                                                       agencyID: agency, actor: Fixtures.system)
            let other = try await letters.approve(second.id, expectedVersion: second.version, actor: Fixtures.system)
            _ = try await mail.queue(other.id, to: "someone@elsewhere.example", otherAddressConfirmedByAdmin: true,
                                     expectedVersion: other.version, actor: Fixtures.system)
            #expect(try await TestDatabase.scalar(db, """
                SELECT after->>'other_address_confirmed' FROM audit_events WHERE action = 'letter.email_queued' AND entity_id = '\(other.id.uuidString.lowercased())'
                """) == "true")
        }
    }
}
