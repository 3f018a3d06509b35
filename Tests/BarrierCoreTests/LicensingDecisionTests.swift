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
        let pastStart = startsInThePast && type != .warning
        if type != .warning && !complete { return .dueProcess }
        if needsJustification || pastStart { return .invalid }
        return .decided(type == .warning ? .warning : .decisionNotice)
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
                                let c = LicensingCase(draft: draft, status: status, proposer: Self.proposer, record: priorWarning ? [.warning] : [],
                                                      notices: record.notices, linkedSignalDays: record.signals, noticeOfIntent: record.intent, today: Self.today)
                                let request = DecisionRequest(effectiveFrom: startsInThePast && type != .warning ? "2026-11-01" : nil,
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

/// Withdrawing, appealing, the appeal's outcome and lifting, over every status,
/// actor and day, against an oracle written from the rules' words.
@Suite("Licensing steps after the proposal")
struct LicensingStepTests {
    static let proposer = FourEyes.Person(userID: "11111111-1111-1111-1111-111111111111", label: "k.weber@bnetza.example")
    static let decider = FourEyes.Person(userID: "22222222-2222-2222-2222-222222222222", label: "dr.schulz@bnetza.example")
    static let colleague = FourEyes.Person(userID: "33333333-3333-3333-3333-333333333333", label: "m.braun@bnetza.example")
    static let shell = FourEyes.Person(userID: nil, label: "cli:root")
    static let today = "2026-12-02"

    enum Expected: Equatable { case done(LicensingActionStatus, String), transition, fourEyes, invalid }

    /// A decision on 11-10 whose letter is dated 11-12; 30 days to appeal (until 12-12); an appeal lodged on 11-20.
    static func oracle(_ status: LicensingActionStatus, _ step: LicensingStep, _ actor: FourEyes.Person) -> Expected {
        let next: [LicensingActionStatus: [LicensingActionStatus]] = [
            .proposed: [.noticeOfIntent, .decided, .withdrawn], .noticeOfIntent: [.noticeOfIntent, .decided, .withdrawn],
            .decided: [.appealed, .lifted, .expired], .appealed: [.upheld, .overturned], .upheld: [.lifted, .expired],
        ]
        // Bad input first (whatever the state), then the lifecycle, then four eyes.
        func inRange(_ day: String, from: String) -> Bool { ISODay.isValid(day) && day >= from && day <= today }
        let valid: Bool
        switch step {
        case .withdraw(let reason): valid = !reason.isEmpty
        case .appeal(let lodged, let grounds): valid = !grounds.isEmpty && inRange(lodged, from: "2026-11-10") && lodged <= "2026-12-12"
        case .appealOutcome(_, let on, let reason): valid = !reason.isEmpty && inRange(on, from: "2026-11-20")
        case .lift(let on, let reason): valid = !reason.isEmpty && inRange(on ?? today, from: "2026-11-10")
        }
        guard valid else { return .invalid }
        guard (next[status] ?? []).contains(step.next) else { return .transition }
        switch step {
        case .withdraw: return .done(.withdrawn, today)
        case .appeal(let lodged, _): return .done(.appealed, lodged)
        case .appealOutcome(let outcome, let on, _): return .done(outcome.status, on)
        case .lift(let on, _): return actor.userID == nil || actor == decider ? .fourEyes : .done(.lifted, on ?? today)
        }
    }

    static let steps: [LicensingStep] = [
        .withdraw(reason: "Settled."), .withdraw(reason: ""),
        .appeal(lodgedOn: "2026-11-20", grounds: "Disputed."), .appeal(lodgedOn: "2026-11-01", grounds: "Disputed."),
        .appeal(lodgedOn: "2026-12-24", grounds: "Disputed."), .appeal(lodgedOn: "2026-11-20", grounds: " "),
        .appealOutcome(.upheld, decidedOn: "2026-12-01", reason: "Stands."), .appealOutcome(.overturned, decidedOn: "2026-11-15", reason: "Quashed."),
        .appealOutcome(.overturned, decidedOn: "2026-12-01", reason: ""),
        .lift(on: nil, reason: "Measures taken."), .lift(on: "2026-11-01", reason: "Measures taken."), .lift(on: "2026-11-30", reason: ""),
    ]

    /// Thirty calendar days from the decision's date, not moved off rest days.
    static let thirtyDays = AppealPeriod(period: .init(count: 30, unit: .days), starts: .decisionDate,
                                         rule: .init(rollToWorkingDay: false, saturdayIsRestDay: true, holidays: nil, extraHolidays: [], source: "test"),
                                         name: "appeal")

    @Test("every status, step and actor", arguments: LicensingActionStatus.allCases)
    func everyCombination(status: LicensingActionStatus) {
        for step in Self.steps {
            for actor in [Self.proposer, Self.decider, Self.colleague, Self.shell] {
                let c = LicensingStepCase(status: status, proposer: Self.proposer, decider: Self.decider, decidedOn: "2026-11-10",
                                          appealFrom: "2026-11-12", appealPeriod: Self.thirtyDays, appealLodgedOn: "2026-11-20", today: Self.today)
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
                #expect(got == Self.oracle(status, normalised, actor), "\(step) from \(status) by \(actor.label)")
            }
        }
        #expect(LicensingStepCase(status: .decided, proposer: Self.proposer, decider: nil, decidedOn: nil, appealFrom: "2026-12-20",
                                  appealPeriod: Self.thirtyDays, appealLodgedOn: nil, today: Self.today).appealEndsOn == "2027-01-19")
    }
}
