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
    /// The authority the profile names for referrals (nil: none).
    public var referralBody: String?
    /// The decision day (ISO).
    public var today: String

    public init(draft: LicensingActionDraft, status: LicensingActionStatus, proposer: FourEyes.Person, record: [LicensingActionType],
                notices: [DueProcessNotice], evidence: [LinkedEvidence], noticeOfIntent: NoticeOfIntent?,
                standing: SupplierStanding = .unknown, reasons: DecisionReasons = DecisionReasons(),
                powers: Set<LicensingActionType> = Set(LicensingActionType.allCases), referralBody: String? = nil, today: String) {
        self.draft = draft; self.status = status; self.proposer = proposer; self.record = record
        self.notices = notices; self.evidence = evidence; self.noticeOfIntent = noticeOfIntent
        self.standing = standing; self.reasons = reasons; self.powers = powers; self.referralBody = referralBody; self.today = today
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
        if draft.type == .referral {
            if c.referralBody == nil {
                problems.append(FieldError(field: "type", message: "the agency's procedure profile names no authority to refer to; an administrator adds "
                                           + "`referral` (body and address) to the profile"))
            }
            if c.notices.isEmpty {
                problems.append(FieldError(field: "type", message: "a referral encloses the agency's letters to the supplier, and it has sent none: "
                                           + "inform the supplier first"))
            }
            if c.evidence.isEmpty {
                problems.append(FieldError(field: "signal_ids", message: "a referral sends the file to the competent authority: link at least one signal it rests on"))
            }
        }
        var c = c
        c.reasons = DecisionReasons(consideration: request.consideration ?? c.reasons.consideration,
                                    cooperationReason: request.cooperationReason ?? c.reasons.cooperationReason)
        let gaps = c.gaps
        if !gaps.isEmpty { return .failure(.dueProcess(gaps: gaps, problems: problems)) }
        if !problems.isEmpty { return .failure(.invalid(problems)) }
        let letter: LetterKind = switch draft.type {
        case .warning: .warning
        case .referral: .referral
        default: .decisionNotice
        }
        return .success(Outcome(draft: draft, suggested: suggested, letter: letter))
    }
}

/// The steps after a proposal other than the decision: withdrawing it, an
/// appeal at each stage and its outcome, interim relief, lifting an action in
/// force, and the outcome of a referral.
public enum LicensingStep: Sendable, Equatable {
    case withdraw(reason: String)
    case appeal(lodgedOn: String, grounds: String)
    /// `terms`: the new terms of a `varied` outcome; `notifiedOn`: the day the
    /// outcome reached the supplier, where the next remedy's period runs from it.
    case appealOutcome(AppealOutcome, decidedOn: String, reason: String, terms: VariedTerms? = nil, notifiedOn: String? = nil)
    /// An order (of the court or the body hearing the appeal) suspending the decision's effect until the appeal is decided.
    case interimRelief(orderedOn: String, orderedBy: String, reason: String)
    /// `on` nil: today.
    case lift(on: String?, reason: String)
    case concludeReferral(ReferralOutcome, on: String, note: String)

    public var next: LicensingActionStatus {
        switch self {
        case .withdraw: .withdrawn
        case .appeal, .interimRelief: .appealed
        case .appealOutcome(let outcome, _, _, _, _): outcome.status
        case .lift: .lifted
        case .concludeReferral: .concluded
        }
    }
}

/// One stage of an appeal as recorded: the remedy of the profile it used, when it
/// was lodged, its outcome's day, and whether interim relief was ordered.
public struct AppealRecord: Sendable, Equatable, Codable {
    public var remedy: String?
    public var lodgedOn: String
    public var outcomeOn: String?
    public var reliefOrderedOn: String?

    public init(remedy: String?, lodgedOn: String, outcomeOn: String? = nil, reliefOrderedOn: String? = nil) {
        self.remedy = remedy; self.lodgedOn = lodgedOn; self.outcomeOn = outcomeOn; self.reliefOrderedOn = reliefOrderedOn
    }

    enum CodingKeys: String, CodingKey {
        case remedy
        case lodgedOn = "lodged_on", outcomeOn = "outcome_on", reliefOrderedOn = "relief_ordered_on"
    }
}

/// The remedy stages of the procedure profile, in order: the remedy against the
/// decision (`objection`, `bezwaar`, `Widerspruch`), then the one its `next` names
/// (`court`, `beroep`, `Klage`), and so on.
public enum AppealStages {
    /// The stage the next appeal would be, with its remedy and period.
    public struct Stage: Sendable, Equatable {
        /// 1 for the remedy against the decision, 2 for the one after it…
        public var number: Int
        /// The profile's key of the remedy (nil: the profile names none, the fallback period applies).
        public var remedy: String?
        public var period: AppealPeriod
        /// Whether the agency decides on the remedy's admissibility (stage 1, lodged with it):
        /// later stages are lodged with a court, which judges whether they are in time.
        public var judgedByAgency: Bool
    }

    /// The next stage after `appeals`, or nil when the profile names no further remedy.
    public static func next(type: LicensingActionType, profile: ProcedureProfile, fallbackDays: Int, after appeals: [AppealRecord]) -> Stage? {
        guard let last = appeals.last else {
            return Stage(number: 1, remedy: profile.rule(for: type)?.remedy, period: AppealPeriod.of(type, profile: profile, fallbackDays: fallbackDays),
                         judgedByAgency: true)
        }
        guard let key = last.remedy.flatMap({ profile.remedies[$0]?.next }), let remedy = profile.remedies[key] else { return nil }
        return Stage(number: appeals.count + 1, remedy: key, period: AppealPeriod(remedy, key: key, rule: profile.deadlines), judgedByAgency: false)
    }
}

/// What those steps read.
public struct LicensingStepCase: Sendable, Equatable {
    public var type: LicensingActionType
    public var status: LicensingActionStatus
    public var proposer: FourEyes.Person
    public var decider: FourEyes.Person?
    public var decidedOn: String?
    /// The day the appeal period runs from (for the first stage, the decision letter's
    /// delivery or date, as the profile says; for a later stage, the last outcome's
    /// notification or date); nil while it has not started (a decision not yet delivered).
    public var appealFrom: String?
    /// The period of the next appeal stage (the remedy against the decision, or the next one after an outcome).
    public var appealPeriod: AppealPeriod
    /// The appeal stages so far, oldest first.
    public var appeals: [AppealRecord]
    /// The stage an appeal lodged now would be; nil: the profile names no further remedy.
    public var nextStage: AppealStages.Stage?
    /// Whether lodging the remedy suspends the decision by law (the profile, at the decision).
    public var appealSuspends: Bool
    /// The action as it stands (for the terms an outcome `varied` sets).
    public var draft: LicensingActionDraft?
    public var today: String

    public init(type: LicensingActionType = .conditions, status: LicensingActionStatus, proposer: FourEyes.Person, decider: FourEyes.Person?,
                decidedOn: String?, appealFrom: String?, appealPeriod: AppealPeriod, appeals: [AppealRecord] = [],
                nextStage: AppealStages.Stage? = nil, appealSuspends: Bool = false, draft: LicensingActionDraft? = nil, today: String) {
        self.type = type; self.status = status; self.proposer = proposer; self.decider = decider; self.decidedOn = decidedOn
        self.appealFrom = appealFrom; self.appealPeriod = appealPeriod; self.appeals = appeals; self.appealSuspends = appealSuspends
        self.nextStage = nextStage ?? (appeals.isEmpty ? AppealStages.Stage(number: 1, remedy: nil, period: appealPeriod, judgedByAgency: true) : nil)
        self.draft = draft; self.today = today
    }

    /// The last day the next appeal can be lodged: the period after `appealFrom`, moved to a working day as the profile says.
    public var appealEndsOn: String? { appealFrom.flatMap { ProcedureCalendar.end(of: appealPeriod.period, from: $0, appealPeriod.rule) } }

    /// The stage under appeal now (lodged, no outcome yet).
    public var pendingAppeal: AppealRecord? { appeals.last.flatMap { $0.outcomeOn == nil ? $0 : nil } }
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

    /// The period of `remedy` (the profile's entry under `key`).
    public init(_ remedy: ProcedureProfile.Remedy, key: String, rule: ProcedureProfile.DeadlineRule) {
        self.init(period: remedy.period, starts: remedy.periodStarts, rule: rule, name: remedy.name["en"] ?? remedy.name.values.sorted().first ?? key)
    }

    /// The profile's remedy against `type`, or, where it names none, `fallbackDays` calendar days from the decision's date.
    public static func of(_ type: LicensingActionType, profile: ProcedureProfile, fallbackDays: Int) -> AppealPeriod {
        if let key = profile.rule(for: type)?.remedy, let remedy = profile.remedies[key] {
            return AppealPeriod(remedy, key: key, rule: profile.deadlines)
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
        /// The day the step took effect (lodged, decided, ordered, lifted, withdrawn, concluded).
        public var day: String
        /// The action with the new terms of a `varied` outcome.
        public var varied: LicensingActionDraft?
    }

    /// Each step's fields and days first (bad input is refused as such, whatever
    /// the record's state, and before its version is compared), then the
    /// lifecycle (for the action's type), then four eyes (lifting).
    public static func check(_ c: LicensingStepCase, _ step: LicensingStep, by actor: FourEyes.Person) -> Result<Outcome, Refusal> {
        var errors = FieldErrors()
        let day: String
        var varied: LicensingActionDraft?
        switch step {
        case .withdraw(let reason):
            errors.text("reason", reason, max: 5000, missing: "is required: say why the action is withdrawn")
            day = c.today
        case .appeal(let lodgedOn, let grounds):
            errors.text("grounds", grounds, max: 20_000, missing: "is required: say what the supplier contests")
            let earliest = c.appeals.last?.outcomeOn ?? c.decidedOn
            errors.pastDay("lodged_on", lodgedOn, today: c.today, earliest: earliest, earliestIs: c.appeals.isEmpty ? "the decision" : "the last appeal's outcome")
            // Only the remedy lodged with the agency itself is judged for time by it; a court judges its own.
            if !errors.errors.contains(where: { $0.field == "lodged_on" }), c.nextStage?.judgedByAgency ?? c.appeals.isEmpty,
               let from = c.appealFrom, let endsOn = c.appealEndsOn, lodgedOn > endsOn {
                errors.add("lodged_on", "the period of \(c.appealPeriod.period.count) \(c.appealPeriod.period.unit.rawValue) for the "
                           + "\(c.appealPeriod.name) from \(c.appealPeriod.starts == .delivery ? "delivery of the decision" : "the decision's date") "
                           + "(\(from)) ended on \(endsOn)")
            }
            day = lodgedOn
        case .appealOutcome(let outcome, let decidedOn, let reason, let terms, let notifiedOn):
            errors.pastDay("decided_on", decidedOn, today: c.today, earliest: c.pendingAppeal?.lodgedOn ?? c.appeals.last?.lodgedOn,
                           earliestIs: "the day the appeal was lodged")
            errors.text("reason", reason, max: 20_000, missing: "is required: give the grounds of the outcome")
            day = decidedOn
            if let notifiedOn { errors.pastDay("notified_on", notifiedOn, today: c.today, earliest: decidedOn, earliestIs: "the outcome") }
            if outcome == .varied {
                if let terms, !terms.isEmpty, let draft = c.draft {
                    let next = terms.applied(to: draft)
                    for problem in next.problems() where ["amount_minor", "effective_from", "effective_to", "conditions"].contains(problem.field) {
                        errors.add(problem.field, problem.message)
                    }
                    if next == draft { errors.add("terms", "are the action's terms already; an outcome that changes nothing is upheld") }
                    varied = next
                } else if c.draft?.type == .warning {
                    errors.add("outcome", "a warning has no terms to vary: record it upheld or overturned")
                } else {
                    errors.add("terms", "are required for a varied outcome: give the new amount_minor, effective_from, effective_to or conditions")
                }
            } else if let terms, !terms.isEmpty {
                errors.add("terms", "only a varied outcome sets new terms")
            }
        case .interimRelief(let orderedOn, let orderedBy, let reason):
            errors.pastDay("ordered_on", orderedOn, today: c.today, earliest: c.pendingAppeal?.lodgedOn, earliestIs: "the day the appeal was lodged")
            errors.text("ordered_by", orderedBy, max: 300, missing: "is required: name the court or body that ordered the relief")
            errors.text("reason", reason, max: 20_000, missing: "is required: give the order's grounds or reference")
            day = orderedOn
        case .lift(let on, let reason):
            day = on ?? c.today
            errors.pastDay("lifted_on", day, today: c.today, earliest: c.decidedOn, earliestIs: "the decision")
            errors.text("reason", reason, max: 5000, missing: "is required: say why the action is lifted")
        case .concludeReferral(_, let on, let note):
            errors.pastDay("concluded_on", on, today: c.today, earliest: c.decidedOn, earliestIs: "the referral")
            errors.text("note", note, max: 20_000, missing: "is required: say what the authority decided, with its reference")
            day = on
        }
        if !errors.isEmpty { return .failure(.invalid(errors.errors)) }
        let allowed = c.status.allowedNext(for: c.type)
        switch step {
        case .interimRelief:
            // Relief is ordered while an appeal is pending, and only where lodging it did not already suspend the decision.
            guard c.status == .appealed, c.type.isDecisionOnSupplier else { return .failure(.transition(from: c.status, allowed: allowed)) }
            if c.appealSuspends {
                return .failure(.invalid([FieldError(field: "ordered_on", message: "the appeal already suspends the decision by law (the procedure profile); no order is needed")]))
            }
            if c.pendingAppeal?.reliefOrderedOn != nil {
                return .failure(.invalid([FieldError(field: "ordered_on", message: "interim relief was already ordered on \(c.pendingAppeal!.reliefOrderedOn!) in this appeal")]))
            }
        case .appeal:
            guard c.status.canMove(to: .appealed, for: c.type) else { return .failure(.transition(from: c.status, allowed: allowed)) }
            if c.nextStage == nil {
                return .failure(.invalid([FieldError(field: "lodged_on", message: "the procedure profile names no further remedy after the "
                                                     + "\(c.appeals.last?.remedy ?? "appeal"); the outcome is final")]))
            }
        default:
            guard c.status.canMove(to: step.next, for: c.type) else { return .failure(.transition(from: c.status, allowed: allowed)) }
        }
        if case .lift = step, let refusal = FourEyes.refusal(.lift, actor: actor, proposer: c.proposer, decider: c.decider) {
            return .failure(.fourEyes(refusal))
        }
        return .success(Outcome(next: step.next, day: day, varied: varied))
    }
}
