import Foundation
import Testing

@testable import BarrierCore

/// The decision of a licensing action over every combination of what it reads:
/// status, who decides, the type against the ladder, the justification, the
/// restated start date and the due-process record, against an oracle written
/// from the rules' words.
@Suite("Deciding a licensing action")
struct LicensingDecisionTests {
    static let proposer = FourEyes.Person(userID: "11111111-1111-1111-1111-111111111111", label: "k.weber@bnetza.example")
    static let colleague = FourEyes.Person(userID: "22222222-2222-2222-2222-222222222222", label: "dr.schulz@bnetza.example")
    static let operatorAtTheShell = FourEyes.Person(userID: nil, label: "cli:root")
    static let today = "2026-12-02"

    /// A record complete for due process, or one lacking a notice of intent.
    static func record(complete: Bool) -> (notices: [DueProcessNotice], signals: [String], intent: NoticeOfIntent?) {
        (notices: [DueProcessNotice(reference: "OUT-2026-000001", reachedOn: "2026-06-01")], signals: ["2026-07-01"],
         intent: complete ? NoticeOfIntent(reference: "OUT-2026-000002", deliveredOn: "2026-10-01", responseDeadline: "2026-10-31", respondedOn: nil) : nil)
    }

    enum Expected: Equatable { case decided(LetterKind), transition, fourEyes, dueProcess, invalid }

    /// Written from the rules: lifecycle, then four eyes, then the guard (which lists field
    /// problems beside it), then the fields (a past start, a harsher step without justification).
    static func oracle(status: LicensingActionStatus, actor: FourEyes.Person, type: LicensingActionType, priorWarning: Bool,
                       justified: Bool, startsInThePast: Bool, complete: Bool) -> Expected {
        guard [.proposed, .noticeOfIntent].contains(status) else { return .transition }
        guard actor.userID != nil, actor != proposer else { return .fourEyes }
        // The remedial ladder: warning, conditions, suspension, revocation; a fine is punitive and
        // needs a justification only with nothing on record.
        let remedial: [LicensingActionType] = [.warning, .conditions, .suspension, .revocation]
        let harsher = remedial.firstIndex(of: type).map { $0 > (priorWarning ? 1 : 0) } ?? !priorWarning
        let needsJustification = harsher && !justified
        // A referral decides nothing on the supplier: no guard, no ladder, no dates; its letter goes to the authority.
        if type == .referral { return .decided(.referral) }
        let pastStart = startsInThePast && type != .warning
        if type != .warning && !complete { return .dueProcess }
        if needsJustification || pastStart { return .invalid }
        return .decided(type == .warning ? .warning : .decisionNotice)
    }

    @Test("a referral needs the profile's authority, the agency's own letters and evidence: each missing one is named",
          arguments: [false, true], [false, true])
    func referral(hasBody: Bool, hasRecord: Bool) {
        let draft = LicensingActionDraft(facilitatorID: "33333333-3333-3333-3333-333333333333", type: .referral, legalBasis: "Art. 4 Postwet",
                                         rationale: "Keeps shipping.")
        for signals in [[], ["2026-07-01"]] as [[String]] {
            var c = LicensingCase(draft: draft, status: .proposed, proposer: Self.proposer, record: [],
                                  notices: hasRecord ? Self.record(complete: false).notices : [], linkedSignalDays: signals, noticeOfIntent: nil,
                                  today: Self.today)
            c.referralBody = hasBody ? "Autoriteit Consument & Markt" : nil
            c.powers = []
            let got = LicensingDecision.decide(c, DecisionRequest(), by: Self.colleague)
            var want: [String] = []
            if !hasBody { want.append("type") }
            if !hasRecord { want.append("type") }
            if signals.isEmpty { want.append("signal_ids") }
            switch got {
            case .success(let outcome): #expect(want.isEmpty && outcome.letter == .referral)
            case .failure(.invalid(let problems)): #expect(problems.map(\.field) == want, "\(problems)")
            default: Issue.record("unexpected \(got)")
            }
        }
    }

    @Test("every status, decider, type, record, justification and start date", arguments: LicensingActionType.allCases)
    func everyCombination(type: LicensingActionType) {
        for status in LicensingActionStatus.allCases {
            for actor in [Self.proposer, Self.colleague, Self.operatorAtTheShell] {
                for priorWarning in [false, true] {
                    for justified in [false, true] {
                        for startsInThePast in [false, true] {
                            for complete in [false, true] {
                                let record = Self.record(complete: complete)
                                var draft = LicensingActionDraft(
                                    facilitatorID: "33333333-3333-3333-3333-333333333333", type: type, legalBasis: "§ 12 PostG", rationale: "Kept shipping.",
                                    conditions: type == .conditions ? "Track every parcel." : nil, amountMinor: type == .fine ? 100_000 : nil,
                                    currency: type == .fine ? "EUR" : nil)
                                if type == .suspension { draft.effectiveFrom = "2027-01-01"; draft.effectiveTo = "2027-03-31" }
                                var c = LicensingCase(draft: draft, status: status, proposer: Self.proposer, record: priorWarning ? [.warning] : [],
                                                      notices: record.notices, linkedSignalDays: record.signals, noticeOfIntent: record.intent, today: Self.today)
                                c.referralBody = "Autoriteit Consument & Markt"
                                let request = DecisionRequest(effectiveFrom: startsInThePast && type.isRestrictive ? "2026-11-01" : nil,
                                                              ladderJustification: justified ? "Bulk shipments continued after the warning." : nil)
                                let expected = Self.oracle(status: status, actor: actor, type: type, priorWarning: priorWarning, justified: justified,
                                                           startsInThePast: startsInThePast, complete: complete)
                                let got: Expected
                                switch LicensingDecision.decide(c, request, by: actor) {
                                case .success(let outcome):
                                    got = .decided(outcome.letter)
                                    #expect(outcome.suggested == (priorWarning ? .conditions : .warning))
                                    if type.isRestrictive { #expect(outcome.draft.effectiveFrom == (type == .suspension ? "2027-01-01" : Self.today)) }
                                case .failure(.transition): got = .transition
                                case .failure(.fourEyes): got = .fourEyes
                                case .failure(.dueProcess(let gaps, _)):
                                    got = .dueProcess
                                    #expect(gaps.map(\.code) == [.noNoticeOfIntent])
                                case .failure(.invalid): got = .invalid
                                }
                                #expect(got == expected, "\(type) from \(status) by \(actor.label), warning before: \(priorWarning), justified: \(justified), past start: \(startsInThePast), complete: \(complete)")
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Calendar arithmetic on ISO days, as deadlines and appeal periods use it.
@Suite("ISO days")
struct ISODayTests {
    @Test("adding days crosses months, leap days and years; counting days is its inverse")
    func arithmetic() {
        #expect(ISODay.adding(30, to: "2026-12-02") == "2027-01-01")
        #expect(ISODay.adding(1, to: "2028-02-28") == "2028-02-29")
        #expect(ISODay.adding(1, to: "2100-02-28") == "2100-03-01")
        #expect(ISODay.adding(-1, to: "2000-03-01") == "2000-02-29")
        #expect(ISODay.adding(365, to: "1999-12-31") == "2000-12-30")
        #expect(ISODay.ordinal("1970-01-01") == 0)
        #expect(ISODay.ordinal("2026-12-02") == 20_789)
        #expect(ISODay.adding(5, to: "2026-02-30") == nil)
        var day = "1999-01-01"
        for step in [1, 28, 29, 31, 59, 365, 366, 1000] {
            let later = ISODay.adding(step, to: day)!
            #expect(ISODay.days(from: day, to: later) == step)
            #expect(ISODay.days(from: later, to: day) == -step)
            #expect(ISODay.isValid(later))
            day = later
        }
    }

    @Test("only digits make a day", arguments: ["2026-+1-05", "2026-1-05", "+026-01-05", "2026-01-5 ", "2026-13-01", "2026-02-29", "2026-00-10"])
    func refused(text: String) {
        #expect(!ISODay.isValid(text))
        #expect(ISODay.ordinal(text) == nil)
    }
}

/// Withdrawing, appealing at each stage, the appeal's outcome (upheld, varied,
/// overturned), interim relief, lifting and concluding a referral, over every
/// type, status, actor, day, suspensive effect and further remedy, against an
/// oracle written from the rules' words.
@Suite("Licensing steps after the proposal")
struct LicensingStepTests {
    static let proposer = FourEyes.Person(userID: "11111111-1111-1111-1111-111111111111", label: "k.weber@bnetza.example")
    static let decider = FourEyes.Person(userID: "22222222-2222-2222-2222-222222222222", label: "dr.schulz@bnetza.example")
    static let colleague = FourEyes.Person(userID: "33333333-3333-3333-3333-333333333333", label: "m.braun@bnetza.example")
    static let shell = FourEyes.Person(userID: nil, label: "cli:root")
    static let today = "2026-12-02"

    enum Expected: Equatable { case done(LicensingActionStatus, String), transition, fourEyes, invalid }

    /// The world of the table: a decision on 11-10 whose letter is dated 11-12, 30 days to lodge the
    /// objection with the agency (until 12-12); where an appeal exists, it was lodged on 11-20, and
    /// where it was decided, the outcome came on 11-25. Where the profile names a further remedy
    /// (a court), it can be lodged after that outcome; the court judges its own time limit.
    struct World { var type: LicensingActionType; var suspends: Bool; var furtherRemedy: Bool }

    static func oracle(_ w: World, _ status: LicensingActionStatus, _ step: LicensingStep, _ actor: FourEyes.Person) -> Expected {
        // The lifecycle in words: proposal → (notice →) decision → appeal → upheld | varied | overturned, and
        // from upheld or varied the next stage; a referral is decided (sent) and then concluded, nothing else.
        let sanctions: [LicensingActionStatus: [LicensingActionStatus]] = [
            .proposed: [.noticeOfIntent, .decided, .withdrawn], .noticeOfIntent: [.noticeOfIntent, .decided, .withdrawn],
            .decided: [.appealed, .lifted, .expired], .appealed: [.upheld, .varied, .overturned],
            .upheld: [.appealed, .lifted, .expired], .varied: [.appealed, .lifted, .expired],
        ]
        let referrals: [LicensingActionStatus: [LicensingActionStatus]] = [
            .proposed: [.decided, .withdrawn], .noticeOfIntent: [.decided, .withdrawn], .decided: [.concluded],
        ]
        let next = w.type == .referral ? referrals : sanctions
        let appealed = [.appealed, .upheld, .varied, .overturned].contains(status)
        let decidedAppeal = [.upheld, .varied, .overturned].contains(status)
        // Bad input first (whatever the state), then the lifecycle, then four eyes.
        func inRange(_ day: String, from: String?) -> Bool { ISODay.isValid(day) && day >= (from ?? "0000-00-00") && day <= today }
        let valid: Bool
        switch step {
        case .withdraw(let reason): valid = !reason.isEmpty
        case .appeal(let lodged, let grounds):
            // The objection is lodged with the agency within its period; a later stage after the last outcome.
            valid = !grounds.isEmpty && inRange(lodged, from: decidedAppeal ? "2026-11-25" : "2026-11-10") && (appealed || lodged <= "2026-12-12")
        case .appealOutcome(let outcome, let on, let reason, let terms, let notified):
            var ok = !reason.isEmpty && inRange(on, from: appealed ? "2026-11-20" : nil) && (notified.map { inRange($0, from: on) } ?? true)
            if outcome == .varied {
                // New terms, and the action with them still an action of its type: only a fine has an amount,
                // a warning or referral has no terms at all.
                guard let terms, !terms.isEmpty else { return .invalid }
                if terms.amountMinor != nil { ok = ok && w.type == .fine }
                if terms.effectiveTo != nil { ok = ok && [.conditions, .fine].contains(w.type) }
            } else if terms != nil {
                ok = false
            }
            valid = ok
        case .interimRelief(let on, let by, let reason): valid = !by.isEmpty && !reason.isEmpty && inRange(on, from: status == .appealed ? "2026-11-20" : nil)
        case .lift(let on, let reason): valid = !reason.isEmpty && inRange(on ?? today, from: "2026-11-10")
        case .concludeReferral(_, let on, let note): valid = !note.isEmpty && inRange(on, from: "2026-11-10")
        }
        guard valid else { return .invalid }
        switch step {
        case .interimRelief(let on, _, _):
            // Only while an appeal of a decision is pending, and only where lodging it did not suspend the decision already.
            guard status == .appealed, w.type != .referral else { return .transition }
            return w.suspends ? .invalid : .done(.appealed, on)
        case .appeal(let lodged, _):
            guard (next[status] ?? []).contains(.appealed) else { return .transition }
            // A second stage needs a further remedy in the profile.
            return decidedAppeal && !w.furtherRemedy ? .invalid : .done(.appealed, lodged)
        default:
            guard (next[status] ?? []).contains(step.next) else { return .transition }
        }
        switch step {
        case .withdraw: return .done(.withdrawn, today)
        case .appealOutcome(let outcome, let on, _, _, _): return .done(outcome.status, on)
        case .lift(let on, _): return actor.userID == nil || actor == decider ? .fourEyes : .done(.lifted, on ?? today)
        case .concludeReferral(_, let on, _): return .done(.concluded, on)
        case .appeal, .interimRelief: fatalError("answered above")
        }
    }

    static let steps: [LicensingStep] = [
        .withdraw(reason: "Settled."), .withdraw(reason: ""),
        .appeal(lodgedOn: "2026-11-20", grounds: "Disputed."), .appeal(lodgedOn: "2026-11-01", grounds: "Disputed."),
        .appeal(lodgedOn: "2026-11-27", grounds: "Disputed."), .appeal(lodgedOn: "2026-11-22", grounds: "Disputed."),
        .appeal(lodgedOn: "2026-12-24", grounds: "Disputed."), .appeal(lodgedOn: "2026-11-20", grounds: " "),
        .appealOutcome(.upheld, decidedOn: "2026-12-01", reason: "Stands."), .appealOutcome(.overturned, decidedOn: "2026-11-15", reason: "Quashed."),
        .appealOutcome(.overturned, decidedOn: "2026-12-01", reason: ""),
        .appealOutcome(.upheld, decidedOn: "2026-12-01", reason: "Stands.", notifiedOn: "2026-12-02"),
        .appealOutcome(.upheld, decidedOn: "2026-12-01", reason: "Stands.", notifiedOn: "2026-11-30"),
        .appealOutcome(.upheld, decidedOn: "2026-12-01", reason: "Stands.", terms: VariedTerms(amountMinor: 500_000)),
        .appealOutcome(.varied, decidedOn: "2026-12-01", reason: "Reduced.", terms: VariedTerms(amountMinor: 1_000_000)),
        .appealOutcome(.varied, decidedOn: "2026-12-01", reason: "Shortened.", terms: VariedTerms(effectiveTo: "2027-06-30")),
        .appealOutcome(.varied, decidedOn: "2026-12-01", reason: "Varied.", terms: nil),
        .appealOutcome(.varied, decidedOn: "2026-12-01", reason: "Varied.", terms: VariedTerms()),
        .interimRelief(orderedOn: "2026-11-28", orderedBy: "VG Köln", reason: "§80(5) VwGO, 1 L 12/26"),
        .interimRelief(orderedOn: "2026-11-15", orderedBy: "VG Köln", reason: "1 L 12/26"),
        .interimRelief(orderedOn: "2026-11-28", orderedBy: "", reason: "1 L 12/26"),
        .lift(on: nil, reason: "Measures taken."), .lift(on: "2026-11-01", reason: "Measures taken."), .lift(on: "2026-11-30", reason: ""),
        .concludeReferral(.actionTaken, on: "2026-11-30", note: "Licence conditions imposed, ref. 2026/114."),
        .concludeReferral(.declined, on: "2026-11-01", note: "Not competent."), .concludeReferral(.noAction, on: "2026-11-30", note: ""),
    ]

    /// Thirty calendar days from the decision's date, not moved off rest days.
    static let thirtyDays = AppealPeriod(period: .init(count: 30, unit: .days), starts: .decisionDate,
                                         rule: .init(rollToWorkingDay: false, saturdayIsRestDay: true, holidays: nil, extraHolidays: [], source: "test"),
                                         name: "appeal")

    static func draft(_ type: LicensingActionType) -> LicensingActionDraft {
        LicensingActionDraft(facilitatorID: "f", type: type, legalBasis: "§ 1", rationale: "Facts.", conditions: type == .conditions ? "Check IDs." : nil,
                             amountMinor: type == .fine ? 2_500_000 : nil, currency: type == .fine ? "EUR" : nil,
                             effectiveFrom: [.conditions, .fine].contains(type) ? "2026-11-10" : nil)
    }

    static func appeals(_ status: LicensingActionStatus) -> [AppealRecord] {
        switch status {
        case .appealed: [AppealRecord(remedy: "objection", lodgedOn: "2026-11-20")]
        case .upheld, .varied, .overturned: [AppealRecord(remedy: "objection", lodgedOn: "2026-11-20", outcomeOn: "2026-11-25")]
        default: []
        }
    }

    @Test("every type, status, step, actor, suspensive effect and further remedy", arguments: LicensingActionStatus.allCases)
    func everyCombination(status: LicensingActionStatus) {
        for type in [LicensingActionType.conditions, .fine, .warning, .referral] {
            for suspends in [false, true] {
                for further in [false, true] {
                    let w = World(type: type, suspends: suspends, furtherRemedy: further)
                    let appeals = Self.appeals(status)
                    let nextStage: AppealStages.Stage? = appeals.isEmpty
                        ? .init(number: 1, remedy: "objection", period: Self.thirtyDays, judgedByAgency: true)
                        : further ? .init(number: 2, remedy: "court", period: Self.thirtyDays, judgedByAgency: false) : nil
                    for step in Self.steps {
                        for actor in [Self.proposer, Self.decider, Self.colleague, Self.shell] {
                            let c = LicensingStepCase(type: type, status: status, proposer: Self.proposer, decider: Self.decider, decidedOn: "2026-11-10",
                                                      appealFrom: appeals.isEmpty ? "2026-11-12" : "2026-11-25", appealPeriod: Self.thirtyDays,
                                                      appeals: appeals, nextStage: nextStage, appealSuspends: suspends, draft: Self.draft(type),
                                                      today: Self.today)
                            let got: Expected
                            switch LicensingStepDecision.check(c, step, by: actor) {
                            case .success(let outcome): got = .done(outcome.next, outcome.day)
                            case .failure(.transition): got = .transition
                            case .failure(.fourEyes): got = .fourEyes
                            case .failure(.invalid): got = .invalid
                            }
                            var normalised = step
                            if case .withdraw(let r) = step, r.trimmingCharacters(in: .whitespaces).isEmpty { normalised = .withdraw(reason: "") }
                            if case .appeal(let d, let g) = step, g.trimmingCharacters(in: .whitespaces).isEmpty { normalised = .appeal(lodgedOn: d, grounds: "") }
                            #expect(got == Self.oracle(w, status, normalised, actor), "\(step) from \(status) of a \(type) \(w) by \(actor.label)")
                        }
                    }
                }
            }
        }
        #expect(LicensingStepCase(status: .decided, proposer: Self.proposer, decider: nil, decidedOn: nil, appealFrom: "2026-12-20",
                                  appealPeriod: Self.thirtyDays, today: Self.today).appealEndsOn == "2027-01-19")
    }

    @Test("a varied outcome carries the action with its new terms; a second order of relief in one appeal is refused")
    func variedTerms() throws {
        let c = LicensingStepCase(type: .fine, status: .appealed, proposer: Self.proposer, decider: Self.decider, decidedOn: "2026-11-10",
                                  appealFrom: "2026-11-12", appealPeriod: Self.thirtyDays, appeals: Self.appeals(.appealed), draft: Self.draft(.fine),
                                  today: Self.today)
        let outcome = try LicensingStepDecision.check(c, .appealOutcome(.varied, decidedOn: "2026-12-01", reason: "Reduced.",
                                                                        terms: VariedTerms(amountMinor: 1_000_000)), by: Self.colleague).get()
        #expect(outcome.varied?.amountMinor == 1_000_000 && outcome.varied?.currency == "EUR" && outcome.varied?.effectiveFrom == "2026-11-10")
        let same = LicensingStepDecision.check(c, .appealOutcome(.varied, decidedOn: "2026-12-01", reason: "Same.",
                                                                 terms: VariedTerms(amountMinor: 2_500_000)), by: Self.colleague)
        #expect(same == .failure(.invalid([FieldError(field: "terms", message: "are the action's terms already; an outcome that changes nothing is upheld")])))
        var relieved = c
        relieved.appeals[0].reliefOrderedOn = "2026-11-22"
        guard case .failure(.invalid(let problems)) = LicensingStepDecision.check(relieved, .interimRelief(orderedOn: "2026-11-28", orderedBy: "VG Köln",
                                                                                                          reason: "1 L 12/26"), by: Self.colleague) else {
            Issue.record("a second order was accepted"); return
        }
        #expect(problems.map(\.field) == ["ordered_on"])
    }

    @Test("the stages follow the profile's chain of remedies and end where it ends")
    func stages() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../templates/procedure-profiles/nl.json")
        let profile = try JSONDecoder().decode(ProcedureProfile.self, from: Data(contentsOf: file))
        var withPower = profile
        withPower.actions["fine"] = .init(legalBasis: ["en": "x"], competence: ["en": "x"], suspensiveEffect: false, effect: ["en": "x"],
                                          remedy: "bezwaar", source: "test")
        let first = try #require(AppealStages.next(type: .fine, profile: withPower, fallbackDays: 30, after: []))
        #expect(first.number == 1 && first.remedy == "bezwaar" && first.judgedByAgency && first.period.period == .init(count: 6, unit: .weeks))
        let second = try #require(AppealStages.next(type: .fine, profile: withPower, fallbackDays: 30,
                                                    after: [AppealRecord(remedy: "bezwaar", lodgedOn: "2026-11-20", outcomeOn: "2026-12-01")]))
        #expect(second.number == 2 && second.remedy == "beroep" && !second.judgedByAgency)
        let chain = second.remedy.flatMap { withPower.remedies[$0]?.next }
        let third = AppealStages.next(type: .fine, profile: withPower, fallbackDays: 30,
                                      after: [AppealRecord(remedy: "bezwaar", lodgedOn: "2026-11-20", outcomeOn: "2026-12-01"),
                                              AppealRecord(remedy: "beroep", lodgedOn: "2026-12-02", outcomeOn: "2027-03-01")])
        #expect((third == nil) == (chain == nil))
        // No power, no rule: the fallback period of the agency, one stage.
        let fallback = try #require(AppealStages.next(type: .suspension, profile: profile, fallbackDays: 21, after: []))
        #expect(fallback.remedy == nil && fallback.period.period == .init(count: 21, unit: .days))
        #expect(AppealStages.next(type: .suspension, profile: profile, fallbackDays: 21, after: [AppealRecord(remedy: nil, lodgedOn: "2026-11-20")]) == nil)
    }
}
