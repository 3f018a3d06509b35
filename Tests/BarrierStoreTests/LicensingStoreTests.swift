import BarrierCore
@testable import BarrierStore
import BarrierTestSupport
import Foundation
import Testing
@testable import BarrierStore

@Suite("Licensing actions in the store")
struct LicensingStoreTests {
    static let officer = Actor(userID: nil, agencyID: nil, label: "cli:officer")

    struct Setting {
        let db: Database
        let letters: LetterStore
        let store: LicensingStore
        let agency: UUID
        let supplier: UUID
        /// The second pair of eyes: a user, not the proposer.
        let director: Actor
    }

    static func setting(_ body: @Sendable (Setting) async throws -> Void) async throws {
        try await TestDatabase.withFresh { db in
            let agency = try await Fixtures.letterheadAgency(db)
            let letters = try await Fixtures.letterStore(db)
            let supplier = try await FacilitatorStore(db).create(Fixtures.patch("Paketblitz Logistik GmbH", sector: "parcel_delivery"),
                                                                allowDuplicates: false, actor: Fixtures.system)
            let director = try await Fixtures.user(db, agency: agency, email: "director@ilt.example")
            try await body(Setting(db: db, letters: letters, store: LicensingStore(db, letters: letters), agency: agency, supplier: supplier.id,
                                   director: director))
        }
    }

    static func warning(_ s: Setting) async throws -> LicensingStore.Record {
        let draft = LicensingActionDraft(facilitatorID: s.supplier.uuidString.lowercased(), type: .warning, legalBasis: "§ 12 PostG",
                                         rationale: "Bulk consignments without tracking from a known vendor.")
        let proposed = try await s.store.propose(draft, agencyID: s.agency, actor: officer)
        return try await s.store.decide(proposed.id, .init(), expectedVersion: proposed.version, actor: s.director)
    }

    @Test("an appeal is accepted within the profile's period from the decision letter and refused after; the refusal changes nothing")
    func appealPeriod() async throws {
        try await Self.setting { s in
            let decided = try await Self.warning(s)
            // The remedy against a warning: 5 days from the decision's date, not moved off weekends.
            var profile = try Fixtures.empoweredProfile(country: "NL")
            let remedy = try #require(profile.rule(for: .warning)?.remedy)
            profile.remedies[remedy]!.period = .init(count: 5, unit: .days)
            profile.remedies[remedy]!.periodStarts = .decisionDate
            profile.deadlines.rollToWorkingDay = false
            _ = try await ProcedureProfileStore(s.db).replace(s.agency, json: String(decoding: try JSONEncoder().encode(profile), as: UTF8.self),
                                                              reason: "five days", expectedVersion: 1, actor: Fixtures.system)
            try await TestDatabase.sql(s.db, "UPDATE licensing_actions SET decided_on = current_date - 10")
            let today = try await TestDatabase.scalar(s.db, "SELECT current_date::text")!
            let ended = try await TestDatabase.scalar(s.db, "SELECT (current_date - 5)::text")!
            do {
                _ = try await s.store.appeal(decided.id, lodgedOn: today, grounds: "Too late.", expectedVersion: decided.version, actor: Self.officer)
                Issue.record("a late appeal was recorded")
            } catch StoreError.invalid(let errors) {
                #expect(errors.map(\.field) == ["lodged_on"] && errors[0].message.contains("ended on \(ended)"), "\(errors)")
            }
            #expect(try await s.store.get(decided.id).json.contains("\"status\" : \"decided\""))
            // Once the decision letter is dated, the period runs from the letter.
            let letter = try #require(try await TestDatabase.scalar(s.db, "SELECT id::text FROM letters WHERE licensing_action_id IS NOT NULL"))
            let approved = try await s.letters.approve(UUID(uuidString: letter)!, expectedVersion: 1, actor: s.director)
            #expect(approved.reference != nil)
            let appealed = try await s.store.appeal(decided.id, lodgedOn: today, grounds: "The facts are disputed.",
                                                    expectedVersion: decided.version, actor: Self.officer)
            // The remedy the NL profile names against a warning (a complaint) suspends nothing.
            #expect(appealed.json.contains("\"effect_suspended\" : false"))
            let overturned = try await s.store.decideAppeal(decided.id, outcome: .overturned, on: today, reason: "Facts not proven.",
                                                            expectedVersion: appealed.version, actor: s.director)
            #expect(overturned.json.contains("\"status\" : \"overturned\""))
            let ladder = try await s.store.ladder(facilitatorID: s.supplier)
            #expect(ladder.contains("\"suggested_type\":\"warning\""), "an overturned action does not count on the record")
        }
    }

    @Test("a notice of intent is issued again only after the first came back undelivered")
    func noticeReissue() async throws {
        try await Self.setting { s in
            let draft = LicensingActionDraft(facilitatorID: s.supplier.uuidString.lowercased(), type: .conditions, legalBasis: "§ 12 PostG",
                                             rationale: "Bulk consignments without tracking.", conditions: "Track-and-trace on every parcel.")
            let proposed = try await s.store.propose(draft, agencyID: s.agency, actor: Self.officer)
            let first = try await s.store.issueNoticeOfIntent(proposed.id, responseDays: 14, language: .de, expectedVersion: proposed.version,
                                                              actor: Self.officer)
            await #expect(throws: StoreError.self) {
                try await s.store.issueNoticeOfIntent(proposed.id, responseDays: nil, language: nil, expectedVersion: first.version, actor: Self.officer)
            }
            let letter = UUID(uuidString: try #require(try await TestDatabase.scalar(s.db, "SELECT id::text FROM letters")))!
            let approved = try await s.letters.approve(letter, expectedVersion: 1, actor: Self.officer)
            let day = try await TestDatabase.scalar(s.db, "SELECT current_date::text")!
            let sent = try await s.letters.record(letter, step: .sent(on: day, method: .registeredPost, trackingNumber: nil),
                                                  expectedVersion: approved.version, actor: Self.officer)
            _ = try await s.letters.record(letter, step: .returned(on: day, reason: "Addressee unknown"), expectedVersion: sent.version,
                                           actor: Self.officer)
            let second = try await s.store.issueNoticeOfIntent(proposed.id, responseDays: nil, language: nil, expectedVersion: first.version,
                                                               actor: Self.officer)
            #expect(try await TestDatabase.scalar(s.db, "SELECT count(*)::text FROM letters WHERE kind = 'notice_of_intent'") == "2")
            let gaps = try await s.store.dueProcess(proposed.id)
            #expect(gaps.contains("notice_of_intent_not_delivered") && gaps.contains("no_notice_reached"))
            #expect(second.json.contains("\"status\" : \"notice_of_intent\""))
            let text = try await s.letters.preview(letter).text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(text.contains("Track-and-trace on every parcel."))
        }
    }

    @Test("a withdrawn action's notice of intent is never approved and sent")
    func withdrawnNoticeStays() async throws {
        try await Self.setting { s in
            let draft = LicensingActionDraft(facilitatorID: s.supplier.uuidString.lowercased(), type: .fine, legalBasis: "§ 12 PostG",
                                             rationale: "Bulk consignments without tracking.", amountMinor: 1_000_000, currency: "EUR")
            let proposed = try await s.store.propose(draft, agencyID: s.agency, actor: Self.officer)
            let notice = try await s.store.issueNoticeOfIntent(proposed.id, responseDays: nil, language: nil, expectedVersion: proposed.version,
                                                               actor: Self.officer)
            _ = try await s.store.withdraw(proposed.id, reason: "The supplier stopped the bulk orders.", expectedVersion: notice.version,
                                           actor: s.director)
            let letter = UUID(uuidString: try #require(try await TestDatabase.scalar(s.db, "SELECT id::text FROM letters")))!
            await #expect(throws: StoreError.conflict("the licensing action of this letter was withdrawn; the letter is not sent")) {
                try await s.letters.approve(letter, expectedVersion: 1, actor: Self.officer)
            }
            #expect(try await TestDatabase.scalar(s.db, "SELECT status FROM letters") == "draft")
        }
    }

    @Test("the remedy period runs from the decision letter's delivery as the profile says; only a final restrictive action is published")
    func finality() async throws {
        try await Self.setting { s in
            var profile = try Fixtures.empoweredProfile(country: "NL")
            let remedy = try #require(profile.rule(for: .warning)?.remedy)
            profile.remedies[remedy]!.period = .init(count: 2, unit: .weeks)
            profile.remedies[remedy]!.periodStarts = .delivery
            _ = try await ProcedureProfileStore(s.db).replace(s.agency, json: String(decoding: try JSONEncoder().encode(profile), as: UTF8.self),
                                                              reason: "two weeks from delivery", expectedVersion: 1, actor: Fixtures.system)
            let decided = try await Self.warning(s)
            let id = decided.id.uuidString.lowercased()
            let endsOn = { try await TestDatabase.scalar(s.db, "SELECT appeal_ends_on::text FROM licensing_actions WHERE id = '\(id)'") }
            let letter = UUID(uuidString: try #require(try await TestDatabase.scalar(s.db, "SELECT id::text FROM letters WHERE licensing_action_id IS NOT NULL")))!
            let approved = try await s.letters.approve(letter, expectedVersion: 1, actor: s.director)
            #expect(try await endsOn() == nil, "the period from delivery has not started while the letter is only dated")
            let today = try #require(try await TestDatabase.scalar(s.db, "SELECT current_date::text"))
            let sent = try await s.letters.record(letter, step: .sent(on: today, method: .registeredPost, trackingNumber: nil),
                                                  expectedVersion: approved.version, actor: Self.officer)
            _ = try await s.letters.record(letter, step: .delivered(on: today, proof: nil), expectedVersion: sent.version, actor: Self.officer)
            let expected = ProcedureCalendar.end(of: .init(count: 2, unit: .weeks), from: today, profile.deadlines)
            #expect(try await endsOn() == expected)
            #expect(try await s.store.get(decided.id).json.contains("\"final\" : false"))

            // Restrictive actions in the register: only once the period is over, or the appeal upheld.
            let agency = s.agency.uuidString.lowercased(), supplier = s.supplier.uuidString.lowercased()
            for (ends, status) in [("NULL", "decided"), ("current_date", "decided"), ("current_date - 1", "decided"), ("NULL", "upheld"),
                                   ("current_date - 1", "appealed"), ("current_date - 1", "overturned"), ("current_date - 1", "lifted")] {
                try await TestDatabase.sql(s.db, """
                    INSERT INTO licensing_actions (facilitator_id, agency_id, type, status, legal_basis, rationale, effective_from,
                        proposed_by_label, decided_on, decided_at, decided_by_label, suggested_type, appeal_ends_on, ended_on)
                    VALUES ('\(supplier)', '\(agency)', 'revocation', '\(status)', '§ 12 PostG', 'Kept shipping.', current_date - 30,
                        'cli:officer', current_date - 40, now(), 'cli:director', 'warning', \(ends),
                        \(status == "lifted" ? "current_date" : "NULL"))
                    """)
            }
            let published = try await TestDatabase.scalar(s.db, "SELECT string_agg(a.status || ':' || coalesce((a.appeal_ends_on - current_date)::text, '-'), ',' ORDER BY a.status, a.appeal_ends_on) FROM public_register p JOIN licensing_actions a USING (id)")
            #expect(published == "decided:-1,upheld:-", "\(published ?? "nothing")")
        }
    }

    @Test("an action counts on the ladder for the profile's years; an older one no longer raises the step")
    func ladderLookBack() async throws {
        try await Self.setting { s in
            let agency = s.agency.uuidString.lowercased(), supplier = s.supplier.uuidString.lowercased()
            for (years, type) in [(7, "revocation"), (2, "warning")] {
                try await TestDatabase.sql(s.db, """
                    INSERT INTO licensing_actions (facilitator_id, agency_id, type, status, legal_basis, rationale, effective_from,
                        proposed_by_label, decided_on, decided_at, decided_by_label, suggested_type, appeal_ends_on)
                    VALUES ('\(supplier)', '\(agency)', '\(type)', 'decided', '§ 12 PostG', 'Kept shipping.',
                        \(type == "warning" ? "NULL" : "current_date - interval '\(years) years'"),
                        'cli:officer', current_date - interval '\(years) years', now(), 'cli:director', 'warning', current_date - 1)
                    """)
            }
            // The test profile counts five years: the revocation of seven years ago is out, the warning in.
            let five = try await s.store.ladder(facilitatorID: s.supplier)
            #expect(five.contains("\"suggested_type\":\"conditions\"") && !five.contains("revocation\",\"status"), "\(five)")
            var profile = try Fixtures.empoweredProfile(country: "NL")
            profile.recordYears = nil
            _ = try await ProcedureProfileStore(s.db).replace(s.agency, json: String(decoding: try JSONEncoder().encode(profile), as: UTF8.self),
                                                              reason: "every action counts", expectedVersion: 1, actor: Fixtures.system)
            let always = try await s.store.ladder(facilitatorID: s.supplier)
            #expect(always.contains("\"suggested_type\":\"revocation\"") && always.contains("\"record_since\":null"), "\(always)")
        }
    }

    @Test("the sweep marks final actions past their end date expired, once, and the register drops them")
    func expirySweep() async throws {
        try await Self.setting { s in
            let agency = s.agency.uuidString.lowercased(), supplier = s.supplier.uuidString.lowercased()
            for (end, status) in [("current_date - 1", "decided"), ("current_date - 3", "upheld"), ("current_date", "decided"),
                                  ("current_date - 2", "appealed")] {
                try await TestDatabase.sql(s.db, """
                    INSERT INTO licensing_actions (facilitator_id, agency_id, type, status, legal_basis, rationale, effective_from, effective_to,
                        proposed_by_label, decided_on, decided_at, decided_by_label, suggested_type, appeal_ends_on)
                    VALUES ('\(supplier)', '\(agency)', 'suspension', '\(status)', '§ 12 PostG', 'Kept shipping.', current_date - 30, \(end),
                        'cli:officer', current_date - 40, now(), 'cli:director', 'warning', current_date - 20)
                    """)
            }
            #expect(try await s.store.publicRegister().count == 3)
            let expired = try await s.store.sweepExpired()
            #expect(expired.count == 2)
            #expect(try await s.store.sweepExpired().isEmpty)
            #expect(try await s.store.publicRegister().count == 1, "only the action ending today is still in force")
            #expect(try await TestDatabase.scalar(s.db, "SELECT string_agg(status, ',' ORDER BY status) FROM licensing_action_events") == "expired,expired")
            #expect(try await TestDatabase.scalar(s.db, "SELECT count(*)::text FROM audit_events WHERE action = 'licensing_action.expire'") == "1")
        }
    }

    @Test("the database keeps the rules even against psql: four eyes, the fields of each type, frozen evidence and history")
    func databaseRules() async throws {
        try await Self.setting { s in
            let decided = try await Self.warning(s)
            let id = decided.id.uuidString.lowercased()
            for statement in [
                "UPDATE licensing_actions SET decided_by_label = proposed_by_label",
                "UPDATE licensing_actions SET amount_minor = 100, currency = 'EUR'",
                "UPDATE licensing_actions SET status = 'lifted'",
                "DELETE FROM licensing_action_events",
                "UPDATE letters SET licensing_action_id = NULL WHERE licensing_action_id = '\(id)'",
            ] {
                await #expect(throws: (any Error).self, "\(statement)") { try await TestDatabase.sql(s.db, statement) }
            }
        }
    }

    @Test("four eyes on lifting: the decider cannot lift their own decision alone, nor can the operator; another officer can")
    func liftingNeedsASecondOfficer() async throws {
        try await Self.setting { s in
            let draft = LicensingActionDraft(facilitatorID: s.supplier.uuidString.lowercased(), type: .warning, legalBasis: "§ 12 PostG",
                                             rationale: "Bulk consignments without tracking.")
            let proposer = try await Fixtures.user(s.db, agency: s.agency, email: "proposer@ilt.example")
            let proposed = try await s.store.propose(draft, agencyID: s.agency, actor: proposer)
            let decided = try await s.store.decide(proposed.id, .init(), expectedVersion: proposed.version, actor: s.director)
            for actor in [s.director, Actor(userID: nil, agencyID: nil, label: "cli:root")] {
                await #expect(throws: StoreError.self, "\(actor.label) lifts") {
                    try await s.store.lift(proposed.id, on: nil, reason: "Measures taken.", expectedVersion: decided.version, actor: actor)
                }
            }
            #expect(try await TestDatabase.scalar(s.db, "SELECT status FROM licensing_actions") == "decided")
            let lifted = try await s.store.lift(proposed.id, on: nil, reason: "Measures taken.", expectedVersion: decided.version, actor: proposer)
            #expect(field(lifted.json, "status") == "lifted")
        }
    }

    @Test("two deciders at once: one decision, one 412, one decision letter")
    func concurrentDecisions() async throws {
        try await Self.setting { s in
            let draft = LicensingActionDraft(facilitatorID: s.supplier.uuidString.lowercased(), type: .warning, legalBasis: "§ 12 PostG",
                                             rationale: "Bulk consignments without tracking.")
            let proposed = try await s.store.propose(draft, agencyID: s.agency, actor: Self.officer)
            let deciders = [s.director, try await Fixtures.user(s.db, agency: s.agency, email: "deputy@ilt.example")]
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for n in 0..<2 {
                    group.addTask {
                        let decider = deciders[n]
                        return (try? await s.store.decide(proposed.id, .init(), expectedVersion: proposed.version, actor: decider)) != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            #expect(try await TestDatabase.scalar(s.db, "SELECT count(*)::text FROM letters WHERE kind = 'warning'") == "1")
        }
    }
}
