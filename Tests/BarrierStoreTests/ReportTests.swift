import BarrierCore
import BarrierTestSupport
import Foundation
import Testing
@testable import BarrierStore

/// The reports over a small registry whose answers are worked out by hand.
@Suite("Reports")
struct ReportTests {
    static let officer = Actor(userID: nil, agencyID: nil, label: "cli:officer")

    struct Registry {
        let db: Database
        let today: String
        let ids: [String: UUID]
        let reports: ReportStore
    }

    /// A, B, C: couriers (B also sells); D, E: hosts (E archived).
    /// A: letter delivered and answered, then cooperating, a verified measure, a warning under appeal.
    /// B: letter returned, informed by an officer, then moved to parcel delivery; five shipping signals.
    /// C: never contacted, a fine proposed; five shipping signals, one corrected into last month.
    /// D: refusing.
    static func registry(_ body: @Sendable (Registry) async throws -> Void) async throws {
        try await TestDatabase.withFresh { db in
            let agency = try await Fixtures.letterheadAgency(db)
            let letters = try await Fixtures.letterStore(db)
            let suppliers = FacilitatorStore(db), cooperation = CooperationStore(db), signals = SignalStore(db)
            var ids: [String: UUID] = [:]
            for (key, name, sector, country, stages) in [
                ("A", "Alpha Kurier GmbH", "courier", "DE", [Stage.shipping]),
                ("B", "Beta Kurier GmbH", "courier", "DE", [.shipping, .selling]),
                ("C", "Gamma Koeriers BV", "courier", "NL", [.shipping]),
                ("D", "Delta Hosting BV", "hosting_provider", "NL", [.settingUpMarketplace]),
                ("E", "Epsilon Hosting GmbH", "hosting_provider", "DE", [.settingUpMarketplace]),
            ] {
                ids[key] = try await suppliers.create(Fixtures.patch(name, sector: sector, country: country, stages: stages),
                                                      allowDuplicates: true, actor: Fixtures.system).id
            }
            let today = try await TestDatabase.scalar(db, "SELECT current_date::text")!
            func letter(_ key: String) async throws -> LetterStore.Record {
                let draft = try await letters.createDraft(.init(facilitatorID: ids[key]!, kind: .informCallToAction), agencyID: agency, actor: officer)
                let approved = try await letters.approve(draft.id, expectedVersion: draft.version, actor: officer)
                return try await letters.record(draft.id, step: .sent(on: today, method: .post, trackingNumber: nil),
                                                expectedVersion: approved.version, actor: officer)
            }
            let a = try await letter("A")
            let delivered = try await letters.record(a.id, step: .delivered(on: today, proof: nil), expectedVersion: a.version, actor: officer)
            _ = try await letters.record(a.id, step: .responded(on: today, channel: .letter, summary: "Named a contact."),
                                         expectedVersion: delivered.version, actor: officer)
            let b = try await letter("B")
            _ = try await letters.record(b.id, step: .returned(on: today, reason: "Moved"), expectedVersion: b.version, actor: officer)
            _ = try await cooperation.change(ids["A"]!, to: .cooperating, reason: "Named a contact point.", expectedVersion: 1, actor: officer)
            _ = try await cooperation.change(ids["B"]!, to: .informed, reason: "Told at a meeting.", expectedVersion: 0, actor: officer)
            _ = try await cooperation.change(ids["D"]!, to: .refusing, reason: "Refused in writing.", expectedVersion: 0, actor: officer)
            let commitment = try await cooperation.commit(ids["A"]!, measure: "named_contact_point", committedOn: today,
                                                          dueOn: LetterStore.day(today, plus: 30), actor: officer)
            let commitmentID = UUID(uuidString: (try JSONSerialization.jsonObject(with: Data(commitment.json.utf8)) as! [String: Any])["id"] as! String)!
            _ = try await cooperation.record(commitmentID, status: .verified, on: today, method: "Called the contact point",
                                             expectedVersion: commitment.version, actor: officer)
            let e = try await suppliers.get(ids["E"]!)
            _ = try await suppliers.archive(ids["E"]!, expectedVersion: e.version, actor: officer)
            var moved = FacilitatorPatch()
            moved.sector = "parcel_delivery"
            _ = try await suppliers.update(ids["B"]!, moved, expectedVersion: try await suppliers.get(ids["B"]!).version, actor: officer)

            for key in ["B", "C"] {
                for n in 0..<5 {
                    let created = try await signals.create(SignalDraft(
                        type: .logistical, stage: .shipping, indicatorCode: "track_and_trace_off", indicatorText: nil, observedOn: today,
                        source: "Depot \(n)", reporter: "Inspector", description: "", facilitatorIDs: [ids[key]!.uuidString.lowercased()]),
                        actor: officer)
                    if key == "C" && n == 0 {
                        let lastMonth = try await TestDatabase.scalar(db, "SELECT (date_trunc('month', current_date) - interval '1 day')::date::text")!
                        let id = UUID(uuidString: (try JSONSerialization.jsonObject(with: Data(created.json.utf8)) as! [String: Any])["id"] as! String)!
                        _ = try await signals.correct(id, SignalDraft(
                            type: .logistical, stage: .shipping, indicatorCode: "track_and_trace_off", indicatorText: nil, observedOn: lastMonth,
                            source: "Depot 0", reporter: "Inspector", description: "", facilitatorIDs: [ids["C"]!.uuidString.lowercased()]),
                            reason: "Observed before the month turned.", expectedVersion: 1, actor: officer)
                    }
                }
            }

            let licensing = LicensingStore(db, letters: letters)
            let warning = try await licensing.propose(LicensingActionDraft(
                facilitatorID: ids["A"]!.uuidString.lowercased(), type: .warning, legalBasis: "§ 12 PostG", rationale: "Parcels without tracking."),
                agencyID: agency, actor: officer)
            let director = try await Fixtures.user(db, agency: agency, email: "director@ilt.example")
            let decided = try await licensing.decide(warning.id, .init(), expectedVersion: warning.version, actor: director)
            _ = try await licensing.appeal(warning.id, lodgedOn: today, grounds: "Disputed.", expectedVersion: decided.version, actor: officer)
            _ = try await licensing.propose(LicensingActionDraft(
                facilitatorID: ids["C"]!.uuidString.lowercased(), type: .fine, legalBasis: "§ 13 PostG", rationale: "Kept shipping.",
                amountMinor: 500_000, currency: "EUR"), agencyID: agency, actor: officer)
            try await body(Registry(db: db, today: today, ids: ids, reports: ReportStore(db)))
        }
    }

    @Test("report JSON escapes what JSON must and reads back to the same text")
    func jsonEscaping() throws {
        let text = "Kurier \"Ost\" \\ Söhne\nline\ttab\u{1}/€"
        let literal = jsonString(text)
        #expect(literal == "\"Kurier \\\"Ost\\\" \\\\ Söhne\\nline\\ttab\\u0001/€\"")
        let decoded = try JSONSerialization.jsonObject(with: Data("[\(literal)]".utf8)) as? [String]
        #expect(decoded == [text])
    }

    static func count(_ table: ReportTable, _ keys: [String: String], _ column: String) -> String? {
        let row = table.rows.first { row in keys.allSatisfy { key, value in row[table.columns.firstIndex { $0.name == key }!] == value } }
        return row.flatMap { $0[table.columns.firstIndex { $0.name == column }!] }
    }

    @Test("cooperation levels today by sector, country and stage, and month by month from the history")
    func cooperation() async throws {
        try await Self.registry { r in
            let bySector = try await r.reports.report(.cooperation, ReportFilter(), by: .sector).table("levels")!
            #expect(Self.count(bySector, ["sector": "courier", "level": "cooperating"], "suppliers") == "1")
            #expect(Self.count(bySector, ["sector": "courier", "level": "not_contacted"], "suppliers") == "1")
            #expect(Self.count(bySector, ["sector": "courier", "level": "cooperating"], "share") == "0.5000")
            #expect(Self.count(bySector, ["sector": "parcel_delivery", "level": "informed"], "total") == "1")
            #expect(Self.count(bySector, ["sector": "hosting_provider", "level": "refusing"], "total") == "1", "the archived host is left out")
            let byCountry = try await r.reports.report(.cooperation, ReportFilter(), by: .country).table("levels")!
            #expect(Self.count(byCountry, ["country": "DE", "level": "informed"], "total") == "2")
            #expect(Self.count(byCountry, ["country": "NL", "level": "refusing"], "suppliers") == "1")
            let byStage = try await r.reports.report(.cooperation, ReportFilter(), by: .stage).table("levels")!
            #expect(Self.count(byStage, ["stage": "shipping", "level": "cooperating"], "total") == "3")
            #expect(Self.count(byStage, ["stage": "selling", "level": "informed"], "suppliers") == "1")
            let germanCouriers = try await r.reports.report(.cooperation, ReportFilter(sector: "courier", country: "DE"), by: .sector).table("levels")!
            #expect(germanCouriers.rows.count == CooperationLevel.allCases.count)
            #expect(Self.count(germanCouriers, ["level": "cooperating"], "total") == "1")

            let monthly = try await r.reports.report(.cooperation, ReportFilter()).table("monthly")!
            let month = String(r.today.prefix(7))
            #expect(monthly.rows.count == 12 * CooperationLevel.allCases.count)
            #expect(Self.count(monthly, ["month": month, "level": "not_contacted"], "suppliers") == "2")
            #expect(Self.count(monthly, ["month": month, "level": "cooperating"], "suppliers") == "1")
            #expect(Self.count(monthly, ["month": month, "level": "informed"], "total") == "5", "the archived host was registered")
        }
    }

    @Test("the tallies agree with the rows they count, after inserts, changes of level, a change of sector and an archive")
    func talliesAgreeWithRows() async throws {
        try await Self.registry { r in
            @Sendable func check(_ when: String) async throws {
              // Each agency's view: the shared base rows plus its own.
              for agency in try await TestDatabase.scalar(r.db, "SELECT string_agg(id::text, ',') FROM agencies")!.split(separator: ",") {
                let seen = "agency_id IN ('00000000-0000-0000-0000-000000000000', '\(agency)')"
                let now = """
                    SELECT f.sector, f.country::text, s.stage, coalesce(l.level, 'not_contacted'), count(*)
                    FROM facilitators f LEFT JOIN cooperation_levels l ON l.facilitator_id = f.id AND l.agency_id = '\(agency)'
                    CROSS JOIN LATERAL unnest(f.stages || '{*}'::text[]) s (stage) WHERE f.status <> 'archived' GROUP BY 1, 2, 3, 4
                    """
                let tally = """
                    SELECT sector, country::text, stage, level, sum(suppliers) FROM cooperation_tally WHERE \(seen)
                    GROUP BY 1, 2, 3, 4 HAVING sum(suppliers) <> 0
                    """
                let diff1 = try await TestDatabase.scalar(r.db, "SELECT count(*)::text FROM ((\(now)) EXCEPT (\(tally))) d")
                #expect(diff1 == "0", "now minus tally, \(when)")
                let diff2 = try await TestDatabase.scalar(r.db, "SELECT count(*)::text FROM ((\(tally)) EXCEPT (\(now))) d")
                #expect(diff2 == "0", "tally minus now, \(when)")
                let history = """
                    SELECT h.month, f.sector, f.country::text, s.stage, h.level, sum(h.n)
                    FROM (SELECT id AS facilitator_id, date_trunc('month', created_at)::date AS month, 'not_contacted'::text AS level, 1 AS n FROM facilitators
                          UNION ALL SELECT facilitator_id, date_trunc('month', changed_at)::date, from_level, -1 FROM cooperation_changes
                                    WHERE agency_id = '\(agency)'
                          UNION ALL SELECT facilitator_id, date_trunc('month', changed_at)::date, to_level, 1 FROM cooperation_changes
                                    WHERE agency_id = '\(agency)') h
                    JOIN facilitators f ON f.id = h.facilitator_id CROSS JOIN LATERAL unnest(f.stages || '{*}'::text[]) s (stage)
                    GROUP BY 1, 2, 3, 4, 5 HAVING sum(h.n) <> 0
                    """
                let months = """
                    SELECT month, sector, country::text, stage, level, sum(delta) FROM cooperation_month_tally WHERE \(seen)
                    GROUP BY 1, 2, 3, 4, 5 HAVING sum(delta) <> 0
                    """
                let diff3 = try await TestDatabase.scalar(r.db, "SELECT count(*)::text FROM ((\(history)) EXCEPT (\(months))) d")
                #expect(diff3 == "0", "history minus months")
                let diff4 = try await TestDatabase.scalar(r.db, "SELECT count(*)::text FROM ((\(months)) EXCEPT (\(history))) d")
                #expect(diff4 == "0", "months minus history")
              }
                #expect(try await TestDatabase.scalar(r.db, "SELECT count(*)::text FROM cooperation_changes") == "4", "\(when)")

                // Signals: each current version once per (sector or '*', country or '*') of the suppliers it concerns.
                let signalRows = """
                    SELECT date_trunc('month', v.observed_on)::date, v.type, v.stage, k.sector, k.country, count(DISTINCT v.signal_id)
                    FROM signal_versions v CROSS JOIN LATERAL unnest(v.facilitator_ids) u (id) JOIN facilitators f ON f.id = u.id
                    CROSS JOIN LATERAL (VALUES ('*', '*'), (f.sector, '*'), ('*', f.country::text), (f.sector, f.country::text)) k (sector, country)
                    WHERE NOT EXISTS (SELECT 1 FROM signal_versions w WHERE w.signal_id = v.signal_id AND w.version > v.version)
                    GROUP BY 1, 2, 3, 4, 5
                    """
                let signalTally = "SELECT month, type, stage, sector, country, signals FROM signal_tally WHERE signals <> 0"
                let signalDiff1 = try await TestDatabase.scalar(r.db, "SELECT count(*)::text FROM ((\(signalRows)) EXCEPT (\(signalTally))) d")
                let signalDiff2 = try await TestDatabase.scalar(r.db, "SELECT count(*)::text FROM ((\(signalTally)) EXCEPT (\(signalRows))) d")
                #expect(signalDiff1 == "0" && signalDiff2 == "0")
                // Measures: verified and not yet verified, per stage, sector and country of their supplier.
                let measureRows = """
                    SELECT s.stage, f.sector, f.country::text, count(*) FILTER (WHERE c.status = 'verified'), count(*) FILTER (WHERE c.status <> 'verified')
                    FROM measure_commitments c JOIN facilitators f ON f.id = c.facilitator_id
                    CROSS JOIN LATERAL unnest(f.stages) s (stage) GROUP BY 1, 2, 3
                    """
                let measureTally = "SELECT stage, sector, country::text, verified, committed FROM measure_tally WHERE (verified, committed) <> (0, 0)"
                let measureDiff1 = try await TestDatabase.scalar(r.db, "SELECT count(*)::text FROM ((\(measureRows)) EXCEPT (\(measureTally))) d")
                let measureDiff2 = try await TestDatabase.scalar(r.db, "SELECT count(*)::text FROM ((\(measureTally)) EXCEPT (\(measureRows))) d")
                #expect(measureDiff1 == "0" && measureDiff2 == "0")
                #expect(try await TestDatabase.scalar(r.db, "SELECT sum(signals)::text FROM signal_tally WHERE sector = '*' AND country = '*'") == "10")
                let funnelRows = """
                    SELECT date_trunc('month', l.sent_on)::date, l.agency_id, coalesce(l.campaign_id::text, ''), f.sector, f.country::text,
                           count(*), count(*) FILTER (WHERE coalesce(l.delivered_on, l.responded_on) IS NOT NULL), count(l.responded_on),
                           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM measure_commitments m WHERE m.facilitator_id = l.facilitator_id
                                                          AND m.committed_on >= l.letter_date)),
                           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM measure_commitments m WHERE m.facilitator_id = l.facilitator_id
                                                          AND m.committed_on >= l.letter_date AND m.status = 'verified'))
                    FROM letters l JOIN facilitators f ON f.id = l.facilitator_id
                    WHERE l.kind = 'inform_call_to_action' AND l.sent_on IS NOT NULL GROUP BY 1, 2, 3, 4, 5
                    """
                let funnelTally = """
                    SELECT month, agency_id, campaign, sector, country::text, sent, reached, responded, committed, verified FROM funnel_tally
                    WHERE (sent, reached, responded, committed, verified) <> (0, 0, 0, 0, 0)
                    """
                let funnelDiff1 = try await TestDatabase.scalar(r.db, "SELECT count(*)::text FROM ((\(funnelRows)) EXCEPT (\(funnelTally))) d")
                let funnelDiff2 = try await TestDatabase.scalar(r.db, "SELECT count(*)::text FROM ((\(funnelTally)) EXCEPT (\(funnelRows))) d")
                #expect(funnelDiff1 == "0" && funnelDiff2 == "0", "funnel, \(when)")
                let dayRows = """
                    SELECT date_trunc('month', l.sent_on)::date, l.agency_id, coalesce(l.campaign_id::text, ''), f.sector, f.country::text,
                           l.responded_on - l.sent_on, count(*)
                    FROM letters l JOIN facilitators f ON f.id = l.facilitator_id
                    WHERE l.kind = 'inform_call_to_action' AND l.responded_on IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6
                    """
                let dayTally = "SELECT month, agency_id, campaign, sector, country::text, days, letters FROM funnel_response_days WHERE letters <> 0"
                let dayDiff1 = try await TestDatabase.scalar(r.db, "SELECT count(*)::text FROM ((\(dayRows)) EXCEPT (\(dayTally))) d")
                let dayDiff2 = try await TestDatabase.scalar(r.db, "SELECT count(*)::text FROM ((\(dayTally)) EXCEPT (\(dayRows))) d")
                #expect(dayDiff1 == "0" && dayDiff2 == "0", "response days, \(when)")
            }
            try await check("as built")
            // Suppliers that change sector, country and stages take their counts, history, signals and measures along.
            try await TestDatabase.sql(r.db, "UPDATE facilitators SET sector = 'postal_service', country = 'BE', stages = '{shipping,running_marketplace}' WHERE id = '\(r.ids["A"]!.uuidString.lowercased())'")
            try await TestDatabase.sql(r.db, "UPDATE facilitators SET country = 'FR' WHERE id IN ('\(r.ids["C"]!.uuidString.lowercased())', '\(r.ids["B"]!.uuidString.lowercased())')")
            try await check("after the moves")
            try await TestDatabase.sql(r.db, "UPDATE measure_commitments SET status = 'implemented', implemented_on = committed_on, verified_on = NULL, verifier = NULL, verification_method = NULL")
            try await TestDatabase.sql(r.db, "UPDATE letters SET responded_on = responded_on + 2 WHERE responded_on IS NOT NULL")
            try await check("after a verification is taken back and an answer re-dated")
        }
    }

    @Test("the outreach funnel by sector and campaign")
    func funnel() async throws {
        try await Self.registry { r in
            let report = try await r.reports.report(.funnel, ReportFilter())
            let bySector = report.table("by_sector")!
            // A's letter: sent, delivered, answered, a measure committed and verified; B's: sent, returned (B is now in parcel delivery).
            #expect(bySector.rows.count == 2)
            for (column, value) in [("sent", "1"), ("delivered", "1"), ("responded", "1"), ("committed", "1"), ("verified", "1"),
                                    ("response_rate", "1.0000"), ("median_days_to_respond", "0")] {
                #expect(Self.count(bySector, ["sector": "courier"], column) == value, "\(column)")
            }
            #expect(Self.count(bySector, ["sector": "parcel_delivery"], "delivered") == "0")
            #expect(Self.count(bySector, ["sector": "parcel_delivery"], "response_rate") == "0.0000")
            let byCampaign = report.table("by_campaign")!
            #expect(Self.count(byCampaign, ["campaign": "(no campaign)"], "sent") == "2")
            #expect(Self.count(byCampaign, ["campaign": "(no campaign)"], "delivery_rate") == "0.5000")
            // The median from the histogram of days: the mean of the two middle answers when their number is even.
            let agency = try await TestDatabase.scalar(r.db, "SELECT id::text FROM agencies LIMIT 1")!
            try await TestDatabase.sql(r.db, """
                INSERT INTO funnel_tally VALUES (date_trunc('month', current_date), '\(agency)', '', 'food_delivery', 'IT', 4, 4, 4, 0, 0),
                                                (date_trunc('month', current_date), '\(agency)', '', 'social_media', 'IT', 3, 3, 3, 0, 0)
                """)
            try await TestDatabase.sql(r.db, """
                INSERT INTO funnel_response_days VALUES (date_trunc('month', current_date), '\(agency)', '', 'food_delivery', 'IT', 2, 1),
                    (date_trunc('month', current_date), '\(agency)', '', 'food_delivery', 'IT', 4, 1),
                    (date_trunc('month', current_date), '\(agency)', '', 'food_delivery', 'IT', 10, 2),
                    (date_trunc('month', current_date), '\(agency)', '', 'social_media', 'IT', 1, 1),
                    (date_trunc('month', current_date), '\(agency)', '', 'social_media', 'IT', 5, 1),
                    (date_trunc('month', current_date), '\(agency)', '', 'social_media', 'IT', 9, 1)
                """)
            let medians = try await r.reports.report(.funnel, ReportFilter(country: "IT")).table("by_sector")!
            #expect(Self.count(medians, ["sector": "food_delivery"], "median_days_to_respond") == "7")
            #expect(Self.count(medians, ["sector": "social_media"], "median_days_to_respond") == "5")
            let future = try await r.reports.report(.funnel, ReportFilter(from: "2999-01-01", to: "2999-12-31"))
            #expect(future.table("by_sector")!.rows.isEmpty)
        }
    }

    @Test("the licensing summary: types, statuses, fines and appeals")
    func licensing() async throws {
        try await Self.registry { r in
            let report = try await r.reports.report(.licensing, ReportFilter())
            let byType = report.table("by_type_status")!
            #expect(Self.count(byType, ["type": "warning", "status": "appealed"], "actions") == "1")
            #expect(Self.count(byType, ["type": "fine", "status": "proposed"], "actions") == "1")
            #expect(report.table("fines")!.rows.isEmpty, "a fine only proposed is not counted")
            let appeals = report.table("appeals")!
            #expect(appeals.value(0, "decided") == "1" && appeals.value(0, "under_appeal") == "1" && appeals.value(0, "share_under_appeal") == "1.0000")
            #expect(Self.count(report.table("by_country")!, ["country": "NL", "type": "fine"], "actions") == "1")
            let dutch = try await r.reports.report(.licensing, ReportFilter(country: "NL"))
            #expect(dutch.table("by_type_status")!.rows.count == 1)
        }
    }

    @Test("the barrier matrix marks the cell with many signals and no cooperation as a gap")
    func matrix() async throws {
        try await Self.registry { r in
            let cells = try await r.reports.report(.matrix, ReportFilter()).table("cells")!
            #expect(cells.rows.count == Stage.allCases.count * Fixtures.shippedSectors.count)
            let parcel = ["stage": "shipping", "sector": "parcel_delivery"], courier = ["stage": "shipping", "sector": "courier"]
            #expect(Self.count(cells, parcel, "suppliers") == "1" && Self.count(cells, parcel, "open_signals") == "5")
            #expect(Self.count(cells, parcel, "gap") == "true")
            #expect(Self.count(cells, courier, "suppliers") == "2" && Self.count(cells, courier, "share_cooperating") == "0.5000")
            #expect(Self.count(cells, courier, "open_signals") == "5", "C's signal corrected into last month is still in the last twelve months")
            #expect(Self.count(cells, courier, "verified_measures") == "1" && Self.count(cells, courier, "gap") == "false")
            #expect(Self.count(cells, ["stage": "setting_up_marketplace", "sector": "hosting_provider"], "share_contacted") == "1.0000")
            let strict = try await r.reports.report(.matrix, ReportFilter(), gapRule: MatrixGapRule(minimumSignals: 6, maximumShareCooperating: 0.25))
            #expect(Self.count(strict.table("cells")!, parcel, "gap") == "false")
        }
    }

    @Test("a signal about a market actor with no supplier counts in the totals, in no sector, and is no evidence against a supplier")
    func marketActorSignals() async throws {
        try await Self.registry { r in
            let month = String(r.today.prefix(7))
            let before = try await r.reports.report(.signals, ReportFilter()).table("monthly")!
            #expect(Self.count(before, ["month": month, "type": "financial", "stage": "selling"], "signals") == nil)
            let signals = SignalStore(r.db)
            await #expect(throws: StoreError.self) {
                try await signals.create(SignalDraft(type: .financial, stage: .selling, indicatorText: "Vendor cashing out", observedOn: r.today,
                                                     source: "Forum", reporter: "Analyst", description: "", facilitatorIDs: [], marketActor: "  "),
                                         actor: Fixtures.system)
            }
            let created = try await signals.create(
                SignalDraft(type: .financial, stage: .selling, indicatorText: "Vendor cashing out through one exchange account", observedOn: r.today,
                            source: "Market forum", reporter: "Analyst Kaya", description: "", facilitatorIDs: [],
                            marketActor: "Vendor 'NordicCandy' on market Archetyp"), actor: Fixtures.system)
            #expect(created.json.contains("NordicCandy"))
            let after = try await r.reports.report(.signals, ReportFilter()).table("monthly")!
            #expect(Self.count(after, ["month": month, "type": "financial", "stage": "selling"], "signals") == "1")
            let couriers = try await r.reports.report(.signals, ReportFilter(sector: "courier")).table("monthly")!
            #expect(Self.count(couriers, ["month": month, "type": "financial", "stage": "selling"], "signals") == nil)
            // As evidence against a supplier it is refused: it concerns none.
            let id = try #require(created.json.range(of: #"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"#, options: .regularExpression))
            let draft = LicensingActionDraft(facilitatorID: r.ids["A"]!.uuidString.lowercased(), type: .warning, legalBasis: "§ 12 PostG",
                                             rationale: "Kept shipping.", signalIDs: [String(created.json[id])])
            do {
                let agency = try #require(try await TestDatabase.scalar(r.db, "SELECT id::text FROM agencies LIMIT 1").flatMap(UUID.init(uuidString:)))
                _ = try await LicensingStore(r.db, letters: try await Fixtures.letterStore(r.db)).propose(draft, agencyID: agency, actor: Fixtures.system)
                Issue.record("a signal about a market actor was linked as evidence against a supplier")
            } catch StoreError.invalid(let errors) {
                #expect(errors.map(\.field) == ["signal_ids"] && errors[0].message.contains("does not concern this supplier"))
            }
        }
    }

    @Test("the barrier model as the paper draws it: per stage the facilitators, opportunities, signals, partners and barriers, with gaps")
    func model() async throws {
        try await Self.registry { r in
            let model = try await r.reports.report(.matrix, ReportFilter()).table("model")!
            #expect(model.rows.map { $0[0] } == Stage.allCases.map(\.rawValue))
            let row = { (stage: Stage) in Dictionary(uniqueKeysWithValues: zip(model.columns.map(\.name), model.rows.first { $0[0] == stage.rawValue }!)) }
            let shipping = row(.shipping), setup = row(.settingUpMarketplace), running = row(.runningMarketplace)
            #expect(shipping["opportunities"] == "Sophisticated concealment; Increase of parcel shipment")
            #expect(setup["opportunities"] == "TOR encryption software; Decentralised markets")
            // A, C couriers and B (moved to parcel delivery) ship; B also sells; D hosts (E is archived).
            #expect(shipping["facilitators"] == "courier (2), parcel_delivery (1)" && row(.selling)["facilitators"] == "parcel_delivery (1)")
            #expect(setup["facilitators"] == "hosting_provider (1)")
            #expect(running["suppliers"] == "0" && running["signals"] == "0" && running["gap"] == "false")
            // The hand-built registry: A cooperating with a verified measure, ten shipping signals in the period.
            #expect(shipping["cooperating_suppliers"] == "1" && shipping["partners"] == "courier (1)")
            #expect(shipping["signals"] == "10" && shipping["measures_verified"] == "1" && shipping["gap"] == "false")
            // In the Netherlands only C ships: five signals, no verified measure, no action in effect: a gap.
            let dutch = try await r.reports.report(.matrix, ReportFilter(country: "NL")).table("model")!
            let dutchShipping = dutch.rows.first { $0[0] == "shipping" }!
            #expect(dutchShipping[4] == "5" && dutchShipping[9] == "0" && dutchShipping[11] == "true", "\(dutchShipping)")
            #expect(shipping["measures_committed"] == "0" && dutchShipping[8] == "0")

            // C (NL) commits to a measure not yet verified: committed, not a barrier, so the Dutch gap stays.
            let cooperation = CooperationStore(r.db)
            _ = try await cooperation.commit(r.ids["C"]!, measure: "named_contact_point", committedOn: r.today,
                                             dueOn: LetterStore.day(r.today, plus: 30), actor: Self.officer)
            let withCommitment = Dictionary(uniqueKeysWithValues: zip(
                model.columns.map(\.name),
                try await r.reports.report(.matrix, ReportFilter(country: "NL")).table("model")!.rows.first { $0[0] == "shipping" }!))
            #expect(withCommitment["measures_committed"] == "1" && withCommitment["measures_verified"] == "0" && withCommitment["gap"] == "true")

            // A second agency's commitments about the same supplier are its own: this agency's model does not count them,
            // and the second agency's counts only its own.
            let other = try await AccessStore(r.db).createAgency(name: "Second Inspectorate", country: "NL", actor: Fixtures.system)
            let otherOfficer = try await Fixtures.user(r.db, agency: other, email: "officer@second.example")
            try await AgencyScope.with(other) {
                for measure in ["named_contact_point", "enforce_track_and_trace"] {
                    _ = try await cooperation.commit(r.ids["C"]!, measure: measure, committedOn: r.today,
                                                     dueOn: LetterStore.day(r.today, plus: 30), actor: otherOfficer)
                }
            }
            let again = try await r.reports.report(.matrix, ReportFilter(country: "NL")).table("model")!.rows.first { $0[0] == "shipping" }!
            #expect(again[8] == "1", "\(again)")
            let theirs = try await AgencyScope.with(other) {
                try await r.reports.report(.matrix, ReportFilter(country: "NL")).table("model")!.rows.first { $0[0] == "shipping" }!
            }
            #expect(theirs[8] == "2" && theirs[9] == "0" && theirs[4] == "0", "\(theirs)")
        }
    }

    @Test("signals month by month, by type and stage, counting each signal's current version")
    func signals() async throws {
        try await Self.registry { r in
            let monthly = try await r.reports.report(.signals, ReportFilter()).table("monthly")!
            let month = String(r.today.prefix(7))
            #expect(Self.count(monthly, ["month": month, "type": "logistical", "stage": "shipping"], "signals") == "9")
            #expect(monthly.rows.count == 2)
            let couriers = try await r.reports.report(.signals, ReportFilter(sector: "courier")).table("monthly")!
            #expect(Self.count(couriers, ["month": month], "signals") == "4")
            await #expect(throws: StoreError.self) { try await r.reports.report(.signals, ReportFilter(from: "2026-13-01", sector: "bicycles")) }
        }
    }
}
