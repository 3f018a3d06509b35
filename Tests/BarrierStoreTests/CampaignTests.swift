import BarrierCore
import BarrierLetters
import BarrierTestSupport
import Foundation
import Testing

@testable import BarrierStore

@Suite("Campaigns")
struct CampaignTests {
    @Test("a campaign job cut off after one batch is resumed by the next worker: every supplier gets exactly one letter, numbers gapless")
    func resumesAfterACrash() async throws {
        try await TestDatabase.withFresh { db in
            let letters = try await Fixtures.letterStore(db)
            let agency = try await Fixtures.letterheadAgency(db)
            let names = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf"]
            for name in names {
                _ = try await FacilitatorStore(db).create(Fixtures.patch("\(name) Paketdienst GmbH", sector: "parcel_delivery"),
                                                         allowDuplicates: true, actor: Fixtures.system)
            }
            var homeless = Fixtures.patch("Hotel Paketdienst GmbH", sector: "parcel_delivery")
            homeless.city = .some(nil)
            _ = try await FacilitatorStore(db).create(homeless, allowDuplicates: true, actor: Fixtures.system)
            let campaigns = CampaignStore(db, letters: letters, batchSize: 3)
            let draft = try await campaigns.create(.init(name: "Parcels DE", filter: ["sector": "parcel_delivery"]), agencyID: agency, actor: Fixtures.system)
            let preview = try await campaigns.preview(draft.id, sample: 1)
            #expect(preview.contains("\"letters\": 7") && preview.contains("\"skipped_without_address\": 1"))
            _ = try await campaigns.approve(draft.id, expectedVersion: draft.version, actor: Fixtures.system)

            // A worker claims the job, writes one batch and dies: the job stays 'running' with an old heartbeat.
            let job = try #require(try await TestDatabase.scalar(db, "SELECT id::text FROM jobs WHERE kind = 'campaign_letters'"))
            try await TestDatabase.sql(db, "UPDATE jobs SET state = 'running', attempts = 1, heartbeat_at = now() WHERE id = \(job)")
            try await campaigns.generateLetters(draft.id, job: Int64(job)!, maxBatches: 1)
            #expect(try await TestDatabase.scalar(db, "SELECT count(*)::text FROM letters") == "3")
            // A live worker's job is not taken over…
            #expect(try await campaigns.runNextJob() == false)
            // …a dead one's is, after its heartbeat is old.
            try await TestDatabase.sql(db, "UPDATE jobs SET heartbeat_at = now() - interval '1 hour' WHERE id = \(job)")
            while try await campaigns.runNextJob() {}

            #expect(try await TestDatabase.scalar(db, "SELECT count(*)::text FROM letters") == "7")
            #expect(try await TestDatabase.scalar(db, "SELECT count(DISTINCT facilitator_id)::text FROM letters") == "7")
            let year = try #require(try await TestDatabase.scalar(db, "SELECT extract(year FROM current_date)::int::text"))
            let references = try #require(try await TestDatabase.scalar(db, "SELECT string_agg(reference, ',' ORDER BY reference) FROM letters"))
            #expect(references == (1...7).map { LetterReference.format(year: Int(year)!, number: $0) }.joined(separator: ","))
            #expect(try await TestDatabase.scalar(db, "SELECT count(*)::text FROM letters WHERE pdf IS NULL") == "0")
            let record = try await campaigns.get(draft.id)
            #expect(record.json.contains("\"letters_done\" : 7") || record.json.contains("\"letters_done\":7"))
            #expect(try await TestDatabase.scalar(db, "SELECT string_agg(state, ',' ORDER BY id) FROM jobs") == "done,done")
            #expect(try await AuditLog(db).verify().firstBroken == nil)
            // Campaign letters get their number after rendering; they read exactly as if rendered with it.
            for reference in ["\(references.prefix(15))", String(references.suffix(15))] {
                let snapshot = try LetterSnapshot.decode(try #require(try await TestDatabase.scalar(
                    db, "SELECT snapshot::text FROM letters WHERE reference = '\(reference)'")))
                let body = try #require(try await TestDatabase.scalar(
                    db, "SELECT t.body FROM letters l JOIN letter_templates t ON t.id = l.template_id WHERE l.reference = '\(reference)'"))
                let again = try letters.renderer.render(body: body, snapshot: snapshot)
                #expect(again.html == (try await TestDatabase.scalar(db, "SELECT html FROM letters WHERE reference = '\(reference)'")))
                #expect(again.text == (try await TestDatabase.scalar(db, "SELECT text_body FROM letters WHERE reference = '\(reference)'")))
                #expect(again.text.contains(reference))
            }
            // Each letter states the law from the agency's profile, in its language (German here), with the
            // postal-secrecy caveat for parcel firms, and asks for an answer on a working day.
            let profile = try await ProcedureProfileStore(db).current(agency).profile
            let text = try #require(try await TestDatabase.scalar(db, "SELECT text_body FROM letters ORDER BY reference LIMIT 1"))
                .split(whereSeparator: \.isWhitespace).joined(separator: " ")
            for law in [profile.competence["de"]!, profile.dataProtection["de"]!, profile.postalSecrecy["de"]!] {
                #expect(text.contains(law.split(whereSeparator: \.isWhitespace).joined(separator: " ")), "\(law.prefix(60))")
            }
            let deadline = try #require(try await TestDatabase.scalar(db, "SELECT DISTINCT response_deadline::text FROM letters"))
            #expect(ProcedureCalendar.isWorkingDay(deadline, profile.deadlines), "\(deadline)")
        }
    }
}

@Suite("Reference numbers past 999,999 in a year")
struct ReferencePastAMillionTests {
    @Test("a single approval and a campaign across the millionth letter keep numbering, and the long number reads in the letter as rendered")
    func pastAMillion() async throws {
        try await TestDatabase.withFresh { db in
            let letters = try await Fixtures.letterStore(db)
            let agency = try await Fixtures.letterheadAgency(db)
            let year = Int(try #require(try await TestDatabase.scalar(db, "SELECT extract(year FROM current_date)::int::text")))!
            try await TestDatabase.sql(db, "INSERT INTO letter_reference_counters (year, last_number) VALUES (\(year), 999998)")
            let single = try await FacilitatorStore(db).create(Fixtures.patch("Einzel Paketdienst GmbH", sector: "parcel_delivery"),
                                                              allowDuplicates: true, actor: Fixtures.system)
            let draft = try await letters.createDraft(.init(facilitatorID: single.id, kind: .informCallToAction), agencyID: agency, actor: Fixtures.system)
            let approved = try await letters.approve(draft.id, expectedVersion: draft.version, actor: Fixtures.system)
            #expect(approved.json.contains("OUT-\(year)-999999"))
            for name in ["Alpha", "Bravo"] {
                _ = try await FacilitatorStore(db).create(Fixtures.patch("\(name) Kurier GmbH", sector: "courier"), allowDuplicates: true, actor: Fixtures.system)
            }
            let campaigns = CampaignStore(db, letters: letters, batchSize: 10)
            let campaign = try await campaigns.create(.init(name: "Couriers", filter: ["sector": "courier"]), agencyID: agency, actor: Fixtures.system)
            _ = try await campaigns.approve(campaign.id, expectedVersion: campaign.version, actor: Fixtures.system)
            while try await campaigns.runNextJob() {}
            let jobs = try await TestDatabase.scalar(db, "SELECT string_agg(kind || ' ' || state || ' ' || coalesce(last_error, ''), '; ' ORDER BY id) FROM jobs")
            #expect(jobs == "campaign_letters done ; campaign_pdfs done ")
            let references = try await TestDatabase.scalar(db, "SELECT string_agg(reference, ',' ORDER BY length(reference), reference) FROM letters WHERE campaign_id IS NOT NULL")
            #expect(references == "OUT-\(year)-1000000,OUT-\(year)-1000001")
            for reference in ["OUT-\(year)-1000000", "OUT-\(year)-1000001"] {
                let snapshot = try LetterSnapshot.decode(try #require(try await TestDatabase.scalar(
                    db, "SELECT snapshot::text FROM letters WHERE reference = '\(reference)'")))
                let body = try #require(try await TestDatabase.scalar(
                    db, "SELECT t.body FROM letters l JOIN letter_templates t ON t.id = l.template_id WHERE l.reference = '\(reference)'"))
                let again = try letters.renderer.render(body: body, snapshot: snapshot)
                #expect(again.text == (try await TestDatabase.scalar(db, "SELECT text_body FROM letters WHERE reference = '\(reference)'")))
                #expect(again.text.contains(reference) && !again.text.contains("\u{E000}"))
            }
        }
    }
}
