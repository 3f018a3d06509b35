/// Everything the rules of a decision read, loaded by the store in one go: the
/// action as proposed, who proposed it, the agency's record of the supplier,
/// the notices that reached it, the evidence linked, the notice of intent, where
/// the supplier stands with the agency, and what the agency's profile empowers it to do.
public struct LicensingCase: Sendable, Equatable {
    public var draft: LicensingActionDraft
    public var status: LicensingActionStatus
    public var proposer: FourEyes.Person
    /// The types of the agency's other actions on the supplier's record (for the ladder).
    public var record: [LicensingActionType]
    public var notices: [DueProcessNotice]
    public var evidence: [LinkedEvidence]
    public var noticeOfIntent: NoticeOfIntent?
    public var standing: SupplierStanding
    /// The reasons recorded so far; the decision request adds its own.
    public var reasons: DecisionReasons
    /// The action types the agency's procedure profile gives it a power to decide.
    public var powers: Set<LicensingActionType>
    /// The decision day (ISO).
    public var today: String

    public init(draft: LicensingActionDraft, status: LicensingActionStatus, proposer: FourEyes.Person, record: [LicensingActionType],
                notices: [DueProcessNotice], evidence: [LinkedEvidence], noticeOfIntent: NoticeOfIntent?,
                standing: SupplierStanding = .unknown, reasons: DecisionReasons = DecisionReasons(),
                powers: Set<LicensingActionType> = Set(LicensingActionType.allCases), today: String) {
        self.draft = draft; self.status = status; self.proposer = proposer; self.record = record
        self.notices = notices; self.evidence = evidence; self.noticeOfIntent = noticeOfIntent
        self.standing = standing; self.reasons = reasons; self.powers = powers; self.today = today
    }

    public init(draft: LicensingActionDraft, status: LicensingActionStatus, proposer: FourEyes.Person, record: [LicensingActionType],
                notices: [DueProcessNotice], linkedSignalDays: [String], noticeOfIntent: NoticeOfIntent?, today: String) {
        self.init(draft: draft, status: status, proposer: proposer, record: record, notices: notices,
                  evidence: linkedSignalDays.enumerated().map { LinkedEvidence(signalID: "s\($0.offset)", observedOn: $0.element) },
                  noticeOfIntent: noticeOfIntent, today: today)
    }

    /// What the due-process guard finds missing.
    public var gaps: [DueProcessGap] {
        DueProcess.gaps(type: draft.type, notices: notices, evidence: evidence, noticeOfIntent: noticeOfIntent,
                        standing: standing, reasons: reasons, today: today)
    }

    /// The step the ladder suggests from the agency's record.
    public var suggested: LicensingActionType { ProportionalityLadder.suggestion(after: record) }

    /// Why the agency cannot take this action at all, or nil.
    public var noPower: FieldError? { LicensingPowers.refusal(draft.type, powers: powers) }
}

/// What an agency may decide is what its procedure profile gives it a power for;
/// a warning needs none (it is a notice). Proposing, announcing and deciding an
/// action it has no power for are refused alike, so no letter claims that power.
public enum LicensingPowers {
    public static func refusal(_ type: LicensingActionType, powers: Set<LicensingActionType>) -> FieldError? {
        guard type.isRestrictive, !powers.contains(type) else { return nil }
        return FieldError(field: "type", message: "the agency's procedure profile gives it no power to decide a \(type.rawValue); "
                          + "warn the supplier, or refer the case to the authority that holds the power")
    }
}

/// What the deciding officer may restate at the decision.
public struct DecisionRequest: Sendable, Equatable {
    public var effectiveFrom: String?
    public var effectiveTo: String?
    public var ladderJustification: String?
    /// How the supplier's response was weighed (required when it responded).
    public var consideration: String?
    /// Why cooperation or verified measures do not suffice (required when the supplier has them).
    public var cooperationReason: String?

    public init(effectiveFrom: String? = nil, effectiveTo: String? = nil, ladderJustification: String? = nil,
                consideration: String? = nil, cooperationReason: String? = nil) {
        self.effectiveFrom = effectiveFrom; self.effectiveTo = effectiveTo; self.ladderJustification = ladderJustification
        self.consideration = consideration; self.cooperationReason = cooperationReason
    }
}

/// Deciding a licensing action, as one pure decision: the lifecycle step, four
/// eyes, the restated dates (a decision never acts on the past; a restrictive
/// one without a start takes effect on the decision day), the ladder's
/// justification and the due-process guard, in that order.
public enum LicensingDecision {
    public enum Refusal: Error, Sendable, Equatable {
        case transition(from: LicensingActionStatus, allowed: [LicensingActionStatus])
        case fourEyes(String)
        /// The guard's gaps, with any field problem found beside them.
        case dueProcess(gaps: [DueProcessGap], problems: [FieldError])
        case invalid([FieldError])
    }

    public struct Outcome: Sendable, Equatable {
        /// The action as decided (dates and justification restated).
        public var draft: LicensingActionDraft
        public var suggested: LicensingActionType
        /// The letter the decision sends: the warning itself, or the decision notice.
        public var letter: LetterKind
    }

    public static func decide(_ c: LicensingCase, _ request: DecisionRequest, by actor: FourEyes.Person) -> Result<Outcome, Refusal> {
        guard c.status.canMove(to: .decided) else { return .failure(.transition(from: c.status, allowed: c.status.allowedNext)) }
        if let refusal = FourEyes.refusal(.decide, actor: actor, proposer: c.proposer, decider: nil) { return .failure(.fourEyes(refusal)) }
        var draft = c.draft
        if let from = request.effectiveFrom { draft.effectiveFrom = from }
        if let to = request.effectiveTo { draft.effectiveTo = to }
        if let justification = request.ladderJustification { draft.ladderJustification = justification }
        var problems = draft.problems().filter { ["effective_from", "effective_to", "ladder_justification"].contains($0.field) }
        if draft.type.isRestrictive {
            if draft.effectiveFrom == nil { draft.effectiveFrom = c.today }
            if let from = draft.effectiveFrom, ISODay.isValid(from), from < c.today {
                problems.append(FieldError(field: "effective_from", message: "\(from) is before the decision day (\(c.today)); a decision does not act on the past"))
            }
        }
        let suggested = c.suggested
        if ProportionalityLadder.needsJustification(draft.type, suggested: suggested), draft.ladderJustification == nil {
            problems.append(FieldError(
                field: "ladder_justification",
                message: "the ladder suggests \(suggested.rawValue) for this supplier; deciding \(draft.type.rawValue), a harsher step, "
                    + "needs a written justification"))
        }
        for (field, text) in [("consideration", request.consideration), ("cooperation_reason", request.cooperationReason)] {
            if let text, text.allSatisfy(\.isWhitespace) { problems.append(FieldError(field: field, message: "must not be blank")) }
            else if let text, text.count > 20_000 { problems.append(FieldError(field: field, message: "must be at most 20000 characters")) }
        }
        if let noPower = c.noPower { problems.append(noPower) }
        var c = c
        c.reasons = DecisionReasons(consideration: request.consideration ?? c.reasons.consideration,
                                    cooperationReason: request.cooperationReason ?? c.reasons.cooperationReason)
        let gaps = c.gaps
        if !gaps.isEmpty { return .failure(.dueProcess(gaps: gaps, problems: problems)) }
        if !problems.isEmpty { return .failure(.invalid(problems)) }
        return .success(Outcome(draft: draft, suggested: suggested, letter: draft.type == .warning ? .warning : .decisionNotice))
    }
}

/// The steps after a proposal other than the decision: withdrawing it, an
/// appeal and its outcome, lifting an action in force.
public enum LicensingStep: Sendable, Equatable {
    case withdraw(reason: String)
    case appeal(lodgedOn: String, grounds: String)
    case appealOutcome(AppealOutcome, decidedOn: String, reason: String)
    /// `on` nil: today.
    case lift(on: String?, reason: String)

    public var next: LicensingActionStatus {
        switch self {
        case .withdraw: .withdrawn
        case .appeal: .appealed
        case .appealOutcome(let outcome, _, _): outcome.status
        case .lift: .lifted
        }
    }
}

/// What those steps read.
public struct LicensingStepCase: Sendable, Equatable {
    public var status: LicensingActionStatus
    public var proposer: FourEyes.Person
    public var decider: FourEyes.Person?
    public var decidedOn: String?
    /// The day the appeal period runs from (the decision letter's delivery or date, as
    /// the profile says); nil while it has not started (a decision not yet delivered).
    public var appealFrom: String?
    public var appealPeriod: AppealPeriod
    public var appealLodgedOn: String?
    public var today: String

    public init(status: LicensingActionStatus, proposer: FourEyes.Person, decider: FourEyes.Person?, decidedOn: String?, appealFrom: String?,
                appealPeriod: AppealPeriod, appealLodgedOn: String?, today: String) {
        self.status = status; self.proposer = proposer; self.decider = decider; self.decidedOn = decidedOn; self.appealFrom = appealFrom
        self.appealPeriod = appealPeriod; self.appealLodgedOn = appealLodgedOn; self.today = today
    }

    /// The last day an appeal can be lodged: the period after `appealFrom`, moved to a working day as the profile says.
    public var appealEndsOn: String? { appealFrom.flatMap { ProcedureCalendar.end(of: appealPeriod.period, from: $0, appealPeriod.rule) } }
}

/// The period for the remedy against a decision, as the agency's procedure profile sets it.
public struct AppealPeriod: Sendable, Equatable {
    public var period: ProcedureProfile.Period
    public var starts: ProcedureProfile.PeriodStart
    public var rule: ProcedureProfile.DeadlineRule
    /// The remedy's name, for messages (`bezwaar`, `Widerspruch`).
    public var name: String

    public init(period: ProcedureProfile.Period, starts: ProcedureProfile.PeriodStart, rule: ProcedureProfile.DeadlineRule, name: String) {
        self.period = period; self.starts = starts; self.rule = rule; self.name = name
    }

    /// The profile's remedy against `type`, or, where it names none, `fallbackDays` calendar days from the decision's date.
    public static func of(_ type: LicensingActionType, profile: ProcedureProfile, fallbackDays: Int) -> AppealPeriod {
        if let remedy = profile.remedy(for: type) {
            return AppealPeriod(period: remedy.period, starts: remedy.periodStarts, rule: profile.deadlines,
                                name: remedy.name["en"] ?? remedy.name.values.sorted().first ?? "appeal")
        }
        return AppealPeriod(period: .init(count: fallbackDays, unit: .days), starts: .decisionDate, rule: profile.deadlines, name: "appeal")
    }
}

public enum LicensingStepDecision {
    public enum Refusal: Error, Sendable, Equatable {
        case transition(from: LicensingActionStatus, allowed: [LicensingActionStatus])
        case fourEyes(String)
        case invalid([FieldError])
    }

    public struct Outcome: Sendable, Equatable {
        public var next: LicensingActionStatus
        /// The day the step took effect (lodged, decided, lifted, withdrawn).
        public var day: String
    }

    /// Each step's fields and days first (bad input is refused as such, whatever
    /// the record's state, and before its version is compared), then the
    /// lifecycle, then four eyes (lifting).
    public static func check(_ c: LicensingStepCase, _ step: LicensingStep, by actor: FourEyes.Person) -> Result<Outcome, Refusal> {
        var errors = FieldErrors()
        let day: String
        switch step {
        case .withdraw(let reason):
            errors.text("reason", reason, max: 5000, missing: "is required: say why the action is withdrawn")
            day = c.today
        case .appeal(let lodgedOn, let grounds):
            errors.text("grounds", grounds, max: 20_000, missing: "is required: say what the supplier contests")
            errors.pastDay("lodged_on", lodgedOn, today: c.today, earliest: c.decidedOn, earliestIs: "the decision")
            if !errors.errors.contains(where: { $0.field == "lodged_on" }), let from = c.appealFrom, let endsOn = c.appealEndsOn, lodgedOn > endsOn {
                errors.add("lodged_on", "the period of \(c.appealPeriod.period.count) \(c.appealPeriod.period.unit.rawValue) for the "
                           + "\(c.appealPeriod.name) from \(c.appealPeriod.starts == .delivery ? "delivery of the decision" : "the decision's date") "
                           + "(\(from)) ended on \(endsOn)")
            }
            day = lodgedOn
        case .appealOutcome(_, let decidedOn, let reason):
            errors.pastDay("decided_on", decidedOn, today: c.today, earliest: c.appealLodgedOn, earliestIs: "the day the appeal was lodged")
            errors.text("reason", reason, max: 20_000, missing: "is required: give the grounds of the outcome")
            day = decidedOn
        case .lift(let on, let reason):
            day = on ?? c.today
            errors.pastDay("lifted_on", day, today: c.today, earliest: c.decidedOn, earliestIs: "the decision")
            errors.text("reason", reason, max: 5000, missing: "is required: say why the action is lifted")
        }
        if !errors.isEmpty { return .failure(.invalid(errors.errors)) }
        guard c.status.canMove(to: step.next) else { return .failure(.transition(from: c.status, allowed: c.status.allowedNext)) }
        if case .lift = step, let refusal = FourEyes.refusal(.lift, actor: actor, proposer: c.proposer, decider: c.decider) {
            return .failure(.fourEyes(refusal))
        }
        return .success(Outcome(next: step.next, day: day))
    }
}
