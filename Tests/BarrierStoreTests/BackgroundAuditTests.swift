import BarrierCore
import BarrierLetters
@testable import BarrierStore
import BarrierTestSupport
import Crypto
import Foundation
import Testing

/// Issue 15: a letter's printed PDF, campaign and job status changes and e-mail
/// state changes are audited, in the transaction that makes them.
@Suite("Auditing PDFs, campaigns, jobs and e-mails", .serialized)
struct BackgroundAuditTests {
    /// One audit event of `action` about `entity`, as `actor|agency|before|after` (before and after as text).
    static func events(_ db: Database, _ action: String, entity: String) async throws -> [String] {
        let text = try await TestDatabase.scalar(db, """
            SELECT string_agg(actor_label || '|' || coalesce(agency_id::text, '') || '|' || coalesce(before::text, '') || '|'
                              || coalesce(after::text, ''), E'\\n' ORDER BY seq)
            FROM audit_events WHERE action = '\(action)' AND entity_id = '\(entity)'
            """)
        return text.map { $0.split(separator: "\n").map(String.init) } ?? []
    }

    static func json(_ db: Database, _ sql: String) async throws -> String? { try await TestDatabase.scalar(db, sql) }

    /// A letter to a supplier with an e-mail address, approved by `actor` for the task's agency.
    static func approvedLetter(_ db: Database, _ letters: LetterStore, agency: UUID, name: String, actor: Actor = Fixtures.system) async throws -> LetterStore.Record {
        var patch = Fixtures.patch(name, sector: "parcel_delivery", country: "DE")
        patch.email = .some("compliance@\(name.lowercased().filter(\.isLetter)).example")
        let supplier = try await FacilitatorStore(db).create(patch, allowDuplicates: true, actor: actor)
        let draft = try await letters.createDraft(.init(facilitatorID: supplier.id, kind: .informCallToAction), agencyID: agency, actor: actor)
        return try await letters.approve(draft.id, expectedVersion: draft.version, actor: actor)
    }

    @Test("approving a letter audits the PDF it stored: its SHA-256 and length are those of the bytes served, once; the chain holds")
    func approvedPDF() async throws {
        try await TestDatabase.withFresh { db in
            let letters = try await Fixtures.letterStore(db)
            let agency = try await Fixtures.letterheadAgency(db)
            let officer = try await Fixtures.user(db, agency: agency, email: "officer@ilt.example")
            let letter = try await Self.approvedLetter(db, letters, agency: agency, name: "Paketblitz Logistik GmbH", actor: officer)
            let id = letter.id.uuidString.lowercased()
            let stored = try await letters.pdf(of: letter.id)
            #expect(stored.starts(with: Data("%PDF".utf8)))
            _ = try await letters.file(letter.id, format: .pdf)

            let events = try await Self.events(db, "letter.pdf_frozen", entity: id)
            try #require(events.count == 1, "one event for the one PDF stored, none for reading it again: \(events)")
            let after = try #require(try await Self.json(db, "SELECT after::text FROM audit_events WHERE action = 'letter.pdf_frozen' AND entity_id = '\(id)'"))
            #expect(field(after, "pdf_sha256") == Data(SHA256.hash(data: stored)).hex)
            #expect(after.contains("\"pdf_bytes\": \(stored.count)"))
            #expect(field(after, "reference") == letter.reference)
            #expect(field(letter.json, "pdf_sha256") == Data(SHA256.hash(data: stored)).hex)
            // The approver printed it, for their agency, in the approval's wake.
            #expect(events[0].hasPrefix("officer@ilt.example|\(agency.uuidString.lowercased())|"))
            #expect(try await Self.json(db, """
                SELECT string_agg(action, ',' ORDER BY seq) FROM audit_events WHERE entity_id = '\(id)'
                """) == "letter.create,letter.approve,letter.pdf_frozen")
            #expect(try await AuditLog(db).verify().holds)
        }
    }

    @Test("a campaign's status, its jobs' states and every PDF its job prints are audited with before and after; a job that fails is retried, then failed, and so is its campaign")
    func campaignAndJobs() async throws {
        try await TestDatabase.withFresh { db in
            let letters = try await Fixtures.letterStore(db)
            let agency = try await Fixtures.letterheadAgency(db)
            let agencyID = agency.uuidString.lowercased()
            for name in ["Alpha", "Bravo", "Charlie"] {
                _ = try await FacilitatorStore(db).create(Fixtures.patch("\(name) Paketdienst GmbH", sector: "parcel_delivery"),
                                                         allowDuplicates: true, actor: Fixtures.system)
            }
            let campaigns = CampaignStore(db, letters: letters, batchSize: 2)
            let draft = try await campaigns.create(.init(name: "Parcels DE", filter: ["sector": "parcel_delivery"]), agencyID: agency, actor: Fixtures.system)
            let campaign = draft.id.uuidString.lowercased()
            _ = try await campaigns.approve(draft.id, expectedVersion: draft.version, actor: Fixtures.system)
            #expect(try await Self.json(db, "SELECT before->>'status' || '>' || (after->>'status') FROM audit_events WHERE action = 'campaign.approve'")
                    == "draft>generating")

            #expect(try await campaigns.runNextJob(only: "campaign_letters"))
            let lettersJob = try #require(try await Self.json(db, "SELECT id::text FROM jobs WHERE kind = 'campaign_letters'"))
            let claimed = try await Self.events(db, "job.claimed", entity: lettersJob)
            try #require(claimed.count == 1)
            #expect(claimed[0].hasPrefix("system:jobs|\(agencyID)|"))
            #expect(try await Self.json(db, """
                SELECT (before->>'state') || '>' || (after->>'state') || ' ' || (after->>'attempts') || ' ' || (after->>'kind') || ' ' || (after->>'subject_id')
                FROM audit_events WHERE action = 'job.claimed' AND entity_id = '\(lettersJob)'
                """) == "queued>running 1 campaign_letters \(campaign)")
            #expect(try await Self.json(db, """
                SELECT (before->>'state') || '>' || (after->>'state') FROM audit_events WHERE action = 'job.finished' AND entity_id = '\(lettersJob)'
                """) == "running>done")
            let generated = try await Self.events(db, "campaign.generated", entity: campaign)
            try #require(generated.count == 1)
            #expect(generated[0].hasPrefix("system:campaign|\(agencyID)|"))
            #expect(try await Self.json(db, """
                SELECT (before->>'status') || '>' || (after->>'status') || ' ' || (after->>'letters_done') FROM audit_events WHERE action = 'campaign.generated'
                """) == "generating>generated 3")
            // The campaign's events in order: approved, letters written in two batches, generated.
            #expect(try await Self.json(db, "SELECT string_agg(action, ',' ORDER BY seq) FROM audit_events WHERE entity_type = 'campaign' AND entity_id = '\(campaign)'")
                    == "campaign.create,campaign.approve,campaign.letters,campaign.letters,campaign.generated")

            // One PDF is printed by its first download, the rest by the job.
            let first = try #require(try await Self.json(db, "SELECT id::text FROM letters ORDER BY reference LIMIT 1"))
            _ = try await letters.pdf(of: UUID(uuidString: first)!)
            #expect(try await campaigns.runNextJob(only: "campaign_pdfs"))
            let pdfJob = try #require(try await Self.json(db, "SELECT id::text FROM jobs WHERE kind = 'campaign_pdfs'"))
            #expect(try await Self.json(db, """
                SELECT string_agg(action || ':' || (before->>'state') || '>' || (after->>'state'), ',' ORDER BY seq) FROM audit_events WHERE entity_type = 'job' AND entity_id = '\(pdfJob)'
                """) == "job.claimed:queued>running,job.finished:running>done")
            // Every stored PDF has its one event, whose hash and length are those of the stored bytes.
            #expect(try await Self.json(db, """
                SELECT count(*)::text FROM letters l JOIN audit_events a ON a.action = 'letter.pdf_frozen' AND a.entity_id = l.id::text
                WHERE l.campaign_id = '\(campaign)' AND a.after->>'pdf_sha256' = encode(sha256(l.pdf), 'hex')
                  AND a.after->>'pdf_sha256' = encode(l.pdf_sha256, 'hex') AND (a.after->>'pdf_bytes')::int = length(l.pdf)
                  AND a.after->>'reference' = l.reference AND a.agency_id::text = '\(agencyID)'
                """) == "3")
            #expect(try await Self.json(db, "SELECT count(*)::text FROM audit_events WHERE action = 'letter.pdf_frozen'") == "3")
            #expect(try await Self.json(db, "SELECT actor_label FROM audit_events WHERE action = 'letter.pdf_frozen' AND entity_id = '\(first)'") == "system:pdf")
            #expect(try await Self.json(db, "SELECT string_agg(DISTINCT actor_label, ',') FROM audit_events WHERE action = 'letter.pdf_frozen' AND entity_id <> '\(first)'")
                    == "system:campaign")
            for (reference, stored) in try await pdfs(db, campaign: campaign) {
                let hash = try await Self.json(db, """
                    SELECT a.after->>'pdf_sha256' FROM audit_events a JOIN letters l ON a.entity_id = l.id::text
                    WHERE a.action = 'letter.pdf_frozen' AND l.reference = '\(reference)'
                    """)
                #expect(hash == Data(SHA256.hash(data: stored)).hex, "\(reference)")
            }

            // A second campaign whose job cannot run: retried with its error, then failed, and the campaign with it.
            _ = try await FacilitatorStore(db).create(Fixtures.patch("Delta Kurier GmbH", sector: "courier"), allowDuplicates: true, actor: Fixtures.system)
            let broken = try await campaigns.create(.init(name: "Couriers", filter: ["sector": "courier"]), agencyID: agency, actor: Fixtures.system)
            _ = try await campaigns.approve(broken.id, expectedVersion: broken.version, actor: Fixtures.system)
            let brokenID = broken.id.uuidString.lowercased()
            try await TestDatabase.sql(db, "UPDATE campaigns SET filter = '{\"sector\": \"no_such_sector\"}' WHERE id = '\(brokenID)'")
            #expect(try await campaigns.runNextJob())
            let brokenJob = try #require(try await Self.json(db, "SELECT id::text FROM jobs WHERE subject_id = '\(brokenID)'"))
            #expect(try await Self.json(db, """
                SELECT (before->>'state') || '>' || (after->>'state') || ' ' || (after->>'attempts') || ' ' || (after->>'error' <> '')::text
                FROM audit_events WHERE action = 'job.retry' AND entity_id = '\(brokenJob)'
                """) == "running>queued 1 true")
            #expect(try await Self.json(db, "SELECT status FROM campaigns WHERE id = '\(brokenID)'") == "generating")
            // The fifth attempt is the last.
            try await TestDatabase.sql(db, "UPDATE jobs SET attempts = 4, run_after = now() WHERE id = \(brokenJob)")
            #expect(try await campaigns.runNextJob())
            #expect(try await Self.json(db, "SELECT state FROM jobs WHERE id = \(brokenJob)") == "failed")
            #expect(try await Self.json(db, """
                SELECT string_agg(action || ':' || (before->>'state') || '>' || (after->>'state'), ',' ORDER BY seq)
                FROM audit_events WHERE entity_type = 'job' AND entity_id = '\(brokenJob)'
                """) == "job.claimed:queued>running,job.retry:running>queued,job.claimed:queued>running,job.failed:running>failed")
            let failed = try await Self.events(db, "campaign.failed", entity: brokenID)
            try #require(failed.count == 1)
            #expect(failed[0].hasPrefix("system:campaign|\(agencyID)|"))
            #expect(try await Self.json(db, """
                SELECT (before->>'status') || '>' || (after->>'status') || ' ' || (after->>'job_id') FROM audit_events WHERE action = 'campaign.failed'
                """) == "generating>failed \(brokenJob)")
            #expect(try await Self.json(db, "SELECT status FROM campaigns WHERE id = '\(brokenID)'") == "failed")
            #expect(try await AuditLog(db).verify().holds)
        }
    }

    func pdfs(_ db: Database, campaign: String) async throws -> [(String, Data)] {
        var out: [(String, Data)] = []
        for try await row in try await db.client.query(
            "SELECT reference, pdf FROM letters WHERE campaign_id = \(UUID(uuidString: campaign)!)", logger: db.logger).decode((String, Data).self) {
            out.append(row)
        }
        return out
    }

    @Test("each e-mail state change is audited with its before and after: sending, retried, failed, uncertain, sent")
    func emailStates() async throws {
        try await TestDatabase.withFresh { db in
            let letters = try await Fixtures.letterStore(db)
            let agency = try await Fixtures.letterheadAgency(db)
            let agencyID = agency.uuidString.lowercased()
            let letter = try await Self.approvedLetter(db, letters, agency: agency, name: "Paketblitz Logistik GmbH")
            let id = letter.id.uuidString.lowercased()
            let down = LetterMail(db, letters: letters, relay: SMTPRelay(url: "smtp://127.0.0.1:9")!, sendTimeoutSeconds: 5)
            _ = try await down.queue(letter.id, to: nil, expectedVersion: letter.version, actor: Fixtures.system)
            #expect(try await down.sendDue() == 0)
            // The last attempt fails for good.
            try await TestDatabase.sql(db, "UPDATE letter_emails SET attempts = \(LetterMail.maxAttempts - 1), next_attempt_at = now()")
            #expect(try await down.sendDue() == 0)
            #expect(try await TestDatabase.scalar(db, "SELECT state FROM letter_emails") == "failed")
            let released = try await down.requeue(letter.id, .retry, reason: "the relay is back", byAdmin: true, actor: Fixtures.system)
            _ = released
            // A sender that died mid-send.
            #expect(try await TestDatabase.scalar(db, "SELECT state FROM letter_emails") == "pending")
            _ = try await down.claimNext()
            try await TestDatabase.sql(db, "UPDATE letter_emails SET claimed_at = now() - interval '1 hour'")
            #expect(try await down.markLostSends() == 1)
            _ = try await down.requeue(letter.id, .release, reason: "the relay's log shows it never arrived", byAdmin: true, actor: Fixtures.system)

            let smtp = try TestSMTPServer()
            defer { smtp.stop() }
            #expect(try await LetterMail(db, letters: letters, relay: smtp.relay).sendDue() == 1)

            let trail = try await TestDatabase.scalar(db, """
                SELECT string_agg(action || ':' || coalesce(before->>'state', '') || '>' || coalesce(after->>'state', '') || ':'
                                  || coalesce(after->>'attempts', ''), ',' ORDER BY seq)
                FROM audit_events WHERE entity_id = '\(id)' AND (action LIKE 'letter.email%' OR action = 'letter.sent')
                """)
            #expect(trail == [
                "letter.email_queued:>pending:",
                "letter.email_sending:pending>sending:1", "letter.email_retry:sending>pending:1",
                "letter.email_sending:pending>sending:\(LetterMail.maxAttempts)", "letter.email_failed:sending>failed:\(LetterMail.maxAttempts)",
                "letter.email_retry_requested:failed>pending:",
                "letter.email_sending:pending>sending:1", "letter.email_uncertain:sending>uncertain:1",
                "letter.email_released:uncertain>pending:",
                "letter.email_sending:pending>sending:1", "letter.email_sent:sending>sent:1", "letter.sent:>:",
            ].joined(separator: ","))
            // Every event of the background sender is the system's, for the letter's agency.
            #expect(try await TestDatabase.scalar(db, """
                SELECT string_agg(DISTINCT actor_label || ' ' || agency_id::text, ',') FROM audit_events
                WHERE entity_id = '\(id)' AND action IN ('letter.email_sending', 'letter.email_retry', 'letter.email_failed', 'letter.email_uncertain', 'letter.email_sent')
                """) == "system:mail \(agencyID)")
            #expect(try await TestDatabase.scalar(db, """
                SELECT after->>'to' FROM audit_events WHERE entity_id = '\(id)' AND action = 'letter.email_sent'
                """) == "compliance@paketblitzlogistikgmbh.example")
            #expect(try await AuditLog(db).verify().holds)
        }
    }

    @Test("background work for a second agency, run as the server's role, audits its PDFs, jobs, campaign and e-mails under that agency")
    func secondAgency() async throws {
        try await TestDatabase.withFresh { db in
            _ = try await Fixtures.letterStore(db)
            let first = try await Fixtures.letterheadAgency(db)
            let second = try await Fixtures.letterheadAgency(db, name: "Second Inspectorate")
            let secondID = second.uuidString.lowercased()
            for name in ["Alpha", "Bravo"] {
                _ = try await FacilitatorStore(db).create(Fixtures.patch("\(name) Paketdienst GmbH", sector: "parcel_delivery"),
                                                         allowDuplicates: true, actor: Fixtures.system)
            }
            let smtp = try TestSMTPServer()
            defer { smtp.stop() }
            try await TestDatabase.withAppRole(db) { app in
                let letters = LetterStore(app, renderer: try Fixtures.renderer(), pdfs: Fixtures.pdfs)
                let campaigns = CampaignStore(app, letters: letters)
                let mail = LetterMail(app, letters: letters, relay: smtp.relay)
                let (letter, campaign) = try await AgencyScope.with(second) { () async throws -> (LetterStore.Record, UUID) in
                    let letter = try await Self.approvedLetter(app, letters, agency: second, name: "Zweite Logistik GmbH")
                    _ = try await mail.queue(letter.id, to: nil, expectedVersion: letter.version, actor: Fixtures.system)
                    let draft = try await campaigns.create(.init(name: "Parcels", filter: ["sector": "parcel_delivery"]), agencyID: second, actor: Fixtures.system)
                    _ = try await campaigns.approve(draft.id, expectedVersion: draft.version, actor: Fixtures.system)
                    return (letter, draft.id)
                }
                // The background loops, as the server runs them: every agency in turn.
                while try await campaigns.runNextJob() {}
                #expect(try await mail.sendDue() == 1)

                let actions = try await TestDatabase.scalar(db, """
                    SELECT string_agg(DISTINCT action, ',') FROM audit_events WHERE agency_id = '\(secondID)'
                      AND action IN ('letter.pdf_frozen', 'letter.email_sending', 'letter.email_sent', 'job.claimed', 'job.finished', 'campaign.generated')
                    """)
                #expect(actions == "campaign.generated,job.claimed,job.finished,letter.email_sending,letter.email_sent,letter.pdf_frozen")
                // None of the second agency's background events is put down to the first.
                #expect(try await TestDatabase.scalar(db, """
                    SELECT count(*)::text FROM audit_events WHERE agency_id IS DISTINCT FROM '\(secondID)'
                      AND (action LIKE 'job.%' OR action IN ('letter.pdf_frozen', 'campaign.generated') OR action LIKE 'letter.email%')
                    """) == "0")
                #expect(try await TestDatabase.scalar(db, """
                    SELECT count(*)::text FROM audit_events a JOIN letters l ON a.entity_id = l.id::text
                    WHERE a.action = 'letter.pdf_frozen' AND a.agency_id = l.agency_id AND l.agency_id = '\(secondID)'
                      AND a.after->>'pdf_sha256' = encode(sha256(l.pdf), 'hex')
                    """) == "4", "the letter and the campaign's three (its filter takes the letter's supplier too)")
                #expect(try await TestDatabase.scalar(db, "SELECT agency_id::text FROM audit_events WHERE action = 'letter.email_sent' AND entity_id = '\(letter.id.uuidString.lowercased())'")
                        == secondID)
                #expect(try await TestDatabase.scalar(db, "SELECT agency_id::text FROM audit_events WHERE action = 'campaign.generated' AND entity_id = '\(campaign.uuidString.lowercased())'")
                        == secondID)
                // The first agency's log shows none of them; the second's shows them.
                func visible(as agency: UUID) async throws -> String? {
                    try await AgencyScope.with(agency) { () async throws -> String? in
                        for try await count in try await app.query(
                            "SELECT count(*)::text FROM audit_events WHERE action IN ('letter.pdf_frozen', 'job.claimed', 'letter.email_sent')"
                        ).decode(String.self) { return count }
                        return nil
                    }
                }
                #expect(try await visible(as: first) == "0")
                #expect(try await visible(as: second) == "7")
            }
            #expect(try await AuditLog(db).verify().holds)
        }
    }
}
