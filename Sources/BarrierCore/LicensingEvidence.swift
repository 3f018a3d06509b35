/// A signal named as evidence, as the agency sees it (its own, or shared with it).
public enum NamedSignal: Sendable, Equatable {
    /// Not a UUID.
    case malformed(String)
    /// No signal the agency sees has this id.
    case unknown(UUIDString)
    case seen(UUIDString, concernsSupplier: Bool)

    /// Every named signal that is not one the agency sees about this supplier, each with a sentence.
    static func problems(_ named: [NamedSignal]) -> [FieldError] {
        named.compactMap {
            switch $0 {
            case .malformed(let text): FieldError(field: "signal_ids", message: "'\(text)' is not a signal id (UUID)")
            case .unknown(let id): FieldError(field: "signal_ids", message: "no signal \(id)")
            case .seen(let id, false): FieldError(field: "signal_ids", message: "signal \(id) does not concern this supplier")
            case .seen: nil
            }
        }
    }
}

/// The state of the supplier a proposal names.
public enum ProposedSupplier: Sendable, Equatable {
    case malformedID, unknown, archived, registered
}

/// Proposing a licensing action as one pure decision: the draft's own fields, a
/// type the agency has the power for, a registered supplier that is not archived,
/// and evidence about it.
public enum LicensingProposal {
    public static func problems(_ draft: LicensingActionDraft, supplier: ProposedSupplier, evidence: [NamedSignal],
                                powers: Set<LicensingActionType> = Set(LicensingActionType.allCases)) -> [FieldError] {
        var problems = draft.problems()
        if let noPower = LicensingPowers.refusal(draft.type, powers: powers) { problems.append(noPower) }
        switch supplier {
        case .malformedID: problems.append(FieldError(field: "facilitator_id", message: "must be a supplier id (UUID)"))
        case .unknown: problems.append(FieldError(field: "facilitator_id", message: "no supplier with this id"))
        case .archived: problems.append(FieldError(field: "facilitator_id", message: "the supplier is archived"))
        case .registered: break
        }
        return problems + NamedSignal.problems(evidence)
    }
}

/// Linking more evidence to an action, as one pure decision: only before the
/// decision, at least one and at most 100 signals, each about the supplier.
public enum EvidenceLinking {
    public enum Refusal: Error, Sendable, Equatable {
        case decidedAlready(LicensingActionStatus)
        case invalid([FieldError])
    }

    public static let openStatuses: Set<LicensingActionStatus> = [.proposed, .noticeOfIntent]

    public static func refusal(status: LicensingActionStatus, evidence: [NamedSignal]) -> Refusal? {
        guard openStatuses.contains(status) else { return .decidedAlready(status) }
        var problems: [FieldError] = []
        if evidence.isEmpty { problems.append(FieldError(field: "signal_ids", message: "name at least one signal")) }
        if evidence.count > 100 { problems.append(FieldError(field: "signal_ids", message: "at most 100 signals can be linked at once")) }
        problems += NamedSignal.problems(evidence)
        return problems.isEmpty ? nil : .invalid(problems)
    }
}

/// What issuing a notice of intent reads: the action and its latest notice.
public struct NoticeOfIntentCase: Sendable, Equatable {
    public var type: LicensingActionType
    public var status: LicensingActionStatus
    /// The latest notice of intent of the action: its reference (nil while a draft) and status.
    public var latestNotice: (reference: String?, status: LetterStatus)?

    public init(type: LicensingActionType, status: LicensingActionStatus, latestNotice: (reference: String?, status: LetterStatus)?) {
        self.type = type; self.status = status; self.latestNotice = latestNotice
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.type == b.type && a.status == b.status && a.latestNotice?.reference == b.latestNotice?.reference
            && a.latestNotice?.status == b.latestNotice?.status
    }
}

/// Issuing a notice of intent as one pure decision: the lifecycle, a
/// restrictive action (a warning is itself a notice), the period, and no
/// notice outstanding (a new one only when the last came back undelivered).
public enum NoticeOfIntentIssue {
    public enum Refusal: Error, Sendable, Equatable {
        case transition(from: LicensingActionStatus, allowed: [LicensingActionStatus])
        /// A warning is itself a notice, and a referral announces nothing to the supplier: neither has a notice of intent.
        case notRestrictive(LicensingActionType)
        case outstanding(reference: String?, status: LetterStatus)
        case invalid([FieldError])
    }

    public static func refusal(_ c: NoticeOfIntentCase, responseDays: Int?) -> Refusal? {
        guard c.status.canMove(to: .noticeOfIntent) else { return .transition(from: c.status, allowed: c.status.allowedNext) }
        guard c.type.isRestrictive else { return .notRestrictive(c.type) }
        if let days = responseDays, !ResponsePeriod.allowedDays.contains(days) {
            return .invalid([FieldError(field: "response_days", message: "must be between 1 and 365")])
        }
        if let latest = c.latestNotice, latest.status != .returned { return .outstanding(reference: latest.reference, status: latest.status) }
        return nil
    }
}
