import BarrierCore
import BarrierLetters
@testable import BarrierStore
import BarrierTestSupport
import Foundation
import Testing

/// Appeals through the stages the procedure profile chains, outcomes that vary a
/// decision, interim relief, and referral to the competent authority, against
/// the real database: what the action's document, its history and the public
/// register say after each step.
@Suite("Appeal stages, varied outcomes, interim relief and referral")
struct LicensingAppealStoreTests {
    typealias Setting = LicensingStoreTests.Setting
    static let officer = LicensingStoreTests.officer

    static func object(_ record: LicensingStore.Record) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(record.json.utf8)) as? [String: Any])
    }

    /// A fine decided three days ago by the agency of the setting (NL: objection, then appeal to the court, neither suspensive).
    static func decidedFine(_ s: Setting) async throws -> LicensingStore.Record {
        let id = try #require(try await TestDatabase.scalar(s.db, """
            INSERT INTO licensing_actions (facilitator_id, agency_id, type, status, legal_basis, rationale, amount_minor, currency, effective_from,
                proposed_by_label, decided_on, decided_at, decided_by_label, suggested_type, appeal_suspends)
            VALUES ('\(s.supplier.uuidString.lowercased())', '\(s.agency.uuidString.lowercased())', 'fine', 'decided', 'Art. 12 Test Licensing Act',
                'Kept shipping.', 2500000, 'EUR', current_date - 3, 'cli:officer', current_date - 3, now(), 'cli:director', 'warning', false)
            RETURNING id::text
            """))
        return try await s.store.get(UUID(uuidString: id)!)
    }

    @Test("objection, then the court: a varied outcome keeps the old terms, relief suspends the effect, and the register waits for the last period")
    func stages() async throws {
        try await LicensingStoreTests.setting { s in
            let today = try #require(try await TestDatabase.scalar(s.db, "SELECT current_date::text"))
            let profile = try await ProcedureProfileStore(s.db).current(s.agency).profile
            let first = try #require(profile.rule(for: .fine)?.remedy)
            let second = try #require(profile.remedies[first]?.next, "the NL profile chains bezwaar → beroep")
            var record = try await Self.decidedFine(s)
            let id = record.id

            record = try await s.store.appeal(id, lodgedOn: today, grounds: "The amount is disproportionate.", expectedVersion: record.version,
                                              actor: Self.officer)
            var doc = try Self.object(record)
            var stages = try #require(doc["appeals"] as? [[String: Any]])
            #expect(stages.count == 1 && stages[0]["remedy"] as? String == first && stages[0]["period_judged_by_agency"] as? Bool == true)
            // Neither Dutch remedy suspends the decision: it stays in effect while the objection runs.
            #expect(doc["in_effect"] as? Bool == true && doc["effect_suspended"] as? Bool == false)

            // The court orders interim relief: the fine is suspended until the objection is decided; a second order is refused.
            record = try await s.store.interimRelief(id, orderedOn: today, orderedBy: "Rechtbank Den Haag, voorzieningenrechter",
                                                     reason: "Voorlopige voorziening, zaak 26/1234", expectedVersion: record.version, actor: Self.officer)
            doc = try Self.object(record)
            #expect(doc["status"] as? String == "appealed" && doc["in_effect"] as? Bool == false && doc["effect_suspended"] as? Bool == true)
            await #expect(throws: StoreError.self) {
                _ = try await s.store.interimRelief(id, orderedOn: today, orderedBy: "Rechtbank Den Haag", reason: "Again.",
                                                    expectedVersion: record.version, actor: Self.officer)
            }

            // Varied: a lower fine; the terms it replaced stay on the stage, and the action takes effect again.
            await #expect(throws: StoreError.self) {
                _ = try await s.store.decideAppeal(id, outcome: .varied, on: today, reason: "Lowered.", terms: VariedTerms(conditions: "Check IDs."),
                                                   expectedVersion: record.version, actor: s.director)
            }
            record = try await s.store.decideAppeal(id, outcome: .varied, on: today, reason: "The amount is lowered to EUR 10,000.",
                                                    terms: VariedTerms(amountMinor: 1_000_000), expectedVersion: record.version, actor: s.director)
            doc = try Self.object(record)
            stages = try #require(doc["appeals"] as? [[String: Any]])
            #expect(doc["status"] as? String == "varied" && doc["amount_minor"] as? Int == 1_000_000 && doc["in_effect"] as? Bool == true)
            #expect((stages[0]["previous_terms"] as? [String: Any])?["amount_minor"] as? Int == 2_500_000)
            #expect((stages[0]["varied_terms"] as? [String: Any])?["amount_minor"] as? Int == 1_000_000)
            // Not final while the court can still be seized: six weeks from the outcome, moved to a working day.
            let courtEnds = ProcedureCalendar.end(of: profile.remedies[second]!.period, from: today, profile.deadlines)
            #expect(doc["appeal_ends_on"] as? String == courtEnds && doc["final"] as? Bool == false)
            let inRegister = { try await TestDatabase.scalar(s.db, "SELECT count(*)::text FROM public_register WHERE id = '\(id.uuidString.lowercased())'") }
            #expect(try await inRegister() == "0")

            // The court: lodged with it, so the agency does not judge its time; after its ruling nothing further is open.
            record = try await s.store.appeal(id, lodgedOn: today, grounds: "Still disproportionate.", expectedVersion: record.version, actor: Self.officer)
            stages = try #require(try Self.object(record)["appeals"] as? [[String: Any]])
            #expect(stages.count == 2 && stages[1]["remedy"] as? String == second && stages[1]["period_judged_by_agency"] as? Bool == false)
            record = try await s.store.decideAppeal(id, outcome: .upheld, on: today, reason: "Beroep ongegrond.", expectedVersion: record.version,
                                                    actor: s.director)
            doc = try Self.object(record)
            #expect(doc["status"] as? String == "upheld" && doc["final"] as? Bool == true && doc["appeal_ends_on"] is NSNull)
            #expect(try await inRegister() == "1")
            do {
                _ = try await s.store.appeal(id, lodgedOn: today, grounds: "Once more.", expectedVersion: record.version, actor: Self.officer)
                Issue.record("a third stage was recorded although the profile names none")
            } catch StoreError.invalid(let errors) {
                #expect(errors.map(\.field) == ["lodged_on"] && errors[0].message.contains("no further remedy"))
            }
            // The history names each step, and the audit log has one event per step.
            let events = try #require(doc["events"] as? [[String: Any]]).map { $0["status"] as? String ?? "" }
            #expect(events == ["appealed", "appealed", "varied", "appealed", "upheld"])
            let audited = try await TestDatabase.scalar(s.db, """
                SELECT string_agg(action, ',' ORDER BY seq) FROM audit_events WHERE entity_id = '\(id.uuidString.lowercased())'
                """)
            #expect(audited == "licensing_action.appeal,licensing_action.interim_relief,licensing_action.appeal_varied,licensing_action.appeal,licensing_action.appeal_upheld")
        }
    }

    @Test("a referral sends the file to the authority the profile names, in its language, addressed to it; its outcome concludes it")
    func referral() async throws {
        try await LicensingStoreTests.setting { s in
            // The agency's first letter reached the supplier, and a signal is linked.
            let letter = try await s.letters.createDraft(.init(facilitatorID: s.supplier, kind: .informCallToAction, language: .nl), agencyID: s.agency,
                                                         actor: Self.officer)
            let approved = try await s.letters.approve(letter.id, expectedVersion: letter.version, actor: Self.officer)
            let today = try #require(try await TestDatabase.scalar(s.db, "SELECT current_date::text"))
            let sent = try await s.letters.record(letter.id, step: .sent(on: today, method: .registeredPost, trackingNumber: nil),
                                                  expectedVersion: approved.version, actor: Self.officer)
            _ = try await s.letters.record(letter.id, step: .delivered(on: today, proof: nil), expectedVersion: sent.version, actor: Self.officer)
            let created = try await AgencyScope.with(s.agency) {
                try await SignalStore(s.db).create(SignalDraft(
                    type: .logistical, stage: .shipping, indicatorCode: "frequent_consignments", observedOn: today, source: "Sorting centre Utrecht",
                    reporter: "Inspector", description: "Forty parcels a day from one sender.", facilitatorIDs: [s.supplier.uuidString.lowercased()]),
                    actor: Fixtures.system)
            }
            let signalObject = try JSONSerialization.jsonObject(with: Data(created.json.utf8)) as? [String: Any]
            let signal = try #require(UUID(uuidString: signalObject?["id"] as? String ?? ""))
            let draft = LicensingActionDraft(facilitatorID: s.supplier.uuidString.lowercased(), type: .referral, legalBasis: "Art. 4 Postwet 2009",
                                             rationale: "Parcels with stealth packaging keep arriving from the same vendor.",
                                             signalIDs: [signal.uuidString.lowercased()])
            var record = try await s.store.propose(draft, agencyID: s.agency, actor: Self.officer)
            // A referral has no notice of intent: it restricts nothing.
            await #expect(throws: StoreError.self) {
                _ = try await s.store.issueNoticeOfIntent(record.id, responseDays: nil, language: nil, expectedVersion: record.version, actor: Self.officer)
            }
            record = try await s.store.decide(record.id, .init(), expectedVersion: record.version, actor: s.director)
            var doc = try Self.object(record)
            #expect(doc["status"] as? String == "decided" && doc["in_effect"] as? Bool == false && doc["final"] as? Bool == false)
            let referralLetter = try #require((doc["letters"] as? [[String: Any]])?.first { $0["kind"] as? String == "referral" })
            let letterID = UUID(uuidString: try #require(referralLetter["id"] as? String))!
            let preview = try await s.letters.preview(letterID)
            let profile = try await ProcedureProfileStore(s.db).current(s.agency).profile
            let body = try #require(profile.referral?.body)
            // Dutch for a Dutch authority, addressed to it, with the file: the agency's letter and the signal.
            #expect(preview.text.contains(body) && preview.text.contains("Geachte directie"))
            #expect(preview.text.contains("Paketblitz Logistik GmbH") && preview.text.contains(approved.reference ?? "?"))
            #expect(!preview.text.contains("Kopie"), "no copy to the supplier's contact point")
            // Nobody appeals a referral: the authority's own decision is what the supplier contests.
            await #expect(throws: StoreError.self) {
                _ = try await s.store.appeal(record.id, lodgedOn: today, grounds: "No.", expectedVersion: record.version, actor: Self.officer)
            }
            record = try await s.store.concludeReferral(record.id, outcome: .actionTaken, on: today, note: "ACM imposed conditions, ref. ACM/26/0042.",
                                                        expectedVersion: record.version, actor: Self.officer)
            doc = try Self.object(record)
            #expect(doc["status"] as? String == "concluded")
            #expect((doc["referral"] as? [String: Any])?["outcome"] as? String == "action_taken")
            #expect(try await TestDatabase.scalar(s.db, "SELECT count(*)::text FROM public_register") == "0", "a referral is nobody's sanction")
        }
    }

    @Test("the register withholds a natural person's name unless the deciding agency's profile publishes it; another agency's rule is its own")
    func naturalPersons() async throws {
        try await LicensingStoreTests.setting { s in
            // A sole trader and a company, each with a final fine of the setting's agency (NL profile: names of natural persons withheld).
            var sole = Fixtures.patch("Jan de Vries", sector: "parcel_delivery", country: "NL")
            sole.naturalPerson = true
            sole.registrationNumber = .some("KVK 12345678")
            let soleTrader = try await FacilitatorStore(s.db).create(sole, allowDuplicates: false, actor: Fixtures.system)
            #expect(soleTrader.json.contains("\"natural_person\" : true"))
            let other = try await AccessStore(s.db).createAgency(name: "Second Inspectorate", country: "NL", actor: Fixtures.system)
            for (supplier, agency) in [(soleTrader.id, s.agency), (s.supplier, s.agency), (soleTrader.id, other)] {
                try await TestDatabase.sql(s.db, """
                    INSERT INTO licensing_actions (facilitator_id, agency_id, type, status, legal_basis, rationale, amount_minor, currency,
                        effective_from, proposed_by_label, decided_on, decided_at, decided_by_label, suggested_type, appeal_ends_on)
                    VALUES ('\(supplier.uuidString.lowercased())', '\(agency.uuidString.lowercased())', 'fine', 'decided', 'Art. 12', 'Kept shipping.',
                        100000, 'EUR', current_date - 60, 'cli:officer', current_date - 60, now(), 'cli:director', 'warning', current_date - 1)
                    """)
            }
            func register() async throws -> [String] {
                try await s.store.publicRegister().map { row in
                    "\((row["authority"] ?? nil) ?? "")|\((row["supplier_name"] ?? nil) ?? "")|\((row["supplier_registration_number"] ?? nil) ?? "-")|\((row["supplier_name_withheld"] ?? nil) ?? "")"
                }.sorted()
            }
            #expect(try await register() == [
                "Inspectorate of Licensed Services|Paketblitz Logistik GmbH|-|false",
                "Inspectorate of Licensed Services|name withheld (natural person)|-|true",
                "Second Inspectorate|name withheld (natural person)|-|true",
            ])
            // The second agency's lawyer confirms that its law names natural persons: only its own entry shows the name.
            var profile = try await ProcedureProfileStore(s.db).current(other).profile
            profile.publication.naturalPersons = true
            _ = try await ProcedureProfileStore(s.db).replace(other, json: String(decoding: try JSONEncoder().encode(profile), as: UTF8.self),
                                                              reason: "publication of sole traders' names confirmed", expectedVersion: 0,
                                                              actor: Fixtures.system)
            #expect(try await register() == [
                "Inspectorate of Licensed Services|Paketblitz Logistik GmbH|-|false",
                "Inspectorate of Licensed Services|name withheld (natural person)|-|true",
                "Second Inspectorate|Jan de Vries|KVK 12345678|false",
            ])
            let csv = String(decoding: try await s.store.publicRegisterCSV(), as: UTF8.self)
            #expect(csv.components(separatedBy: "Jan de Vries").count == 2, "the name appears once, for the agency that publishes it")
        }
    }
}
