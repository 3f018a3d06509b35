/// The licensing actions an authority can take against a supplier.
public enum LicensingActionType: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "licensing action type"
    case warning, conditions, fine, suspension, revocation
    /// The case sent to the authority the procedure profile names as competent
    /// (it holds the licence); the agency itself decides nothing about the supplier.
    case referral

    /// Restrictive actions need the due-process record; a warning is itself a
    /// notice, and a referral restricts nothing (the authority it goes to decides).
    public var isRestrictive: Bool { self != .warning && self != .referral }

    /// Whether the action decides on the supplier's rights (a warning and the
    /// restrictive types), so the supplier can appeal it; a referral does not.
    public var isDecisionOnSupplier: Bool { self != .referral }

    /// The order the types are listed in, mildest first.
    public var rung: Int { Self.allCases.firstIndex(of: self)! }

    /// A fine punishes; the other restrictive types remedy (they restrict the licence
    /// until the supplier stops contributing). The ladder keeps the two apart.
    public var isPunitive: Bool { self == .fine }

    /// The remedial ladder, mildest first: warning, conditions, suspension, revocation.
    public static let remedialLadder: [LicensingActionType] = [.warning, .conditions, .suspension, .revocation]

    /// The type's step on the remedial ladder; nil for a fine and a referral.
    public var remedialRung: Int? { Self.remedialLadder.firstIndex(of: self) }
}

/// Something that told the supplier its service is misused: an outreach letter
/// (inform and call to action, reminder) or a warning, with the day it reached
/// the supplier (delivered, or acknowledged by an answer). Nil: it never did.
public struct DueProcessNotice: Sendable, Equatable {
    public var reference: String
    public var reachedOn: String?
    /// Sent by the deciding agency. Another agency's letter tells the supplier
    /// nothing about what this agency expects of it, so it does not count.
    public var ownAgency: Bool

    public init(reference: String, reachedOn: String?, ownAgency: Bool = true) {
        self.reference = reference
        self.reachedOn = reachedOn
        self.ownAgency = ownAgency
    }
}

/// Where the supplier stands with the deciding agency: a supplier that cooperates,
/// or whose measures were verified, may be sanctioned only with a written reason
/// why that does not suffice.
public struct SupplierStanding: Sendable, Equatable {
    /// The agency's current cooperation level of the supplier.
    public var level: CooperationLevel?
    /// Measures the supplier committed to and the agency verified.
    public var verifiedMeasures: Int

    public init(level: CooperationLevel?, verifiedMeasures: Int) {
        self.level = level
        self.verifiedMeasures = verifiedMeasures
    }

    public static let unknown = SupplierStanding(level: nil, verifiedMeasures: 0)

    /// Cooperating (fully or in part) or with verified measures.
    public var weighsAgainstSanction: Bool {
        level == .cooperating || level == .partiallyCooperating || verifiedMeasures > 0
    }
}

/// One linked signal: the day observed (its current version), and whether the
/// signal was corrected after the action pinned the version it relies on.
public struct LinkedEvidence: Sendable, Equatable {
    public var signalID: String
    public var observedOn: String
    public var changedSinceLinked: Bool

    public init(signalID: String, observedOn: String, changedSinceLinked: Bool = false) {
        self.signalID = signalID
        self.observedOn = observedOn
        self.changedSinceLinked = changedSinceLinked
    }
}

/// What the deciding officer wrote to show the record was weighed.
public struct DecisionReasons: Sendable, Equatable {
    /// How the supplier's response to the notice of intent was considered.
    public var consideration: String?
    /// Why the supplier's cooperation or verified measures do not suffice.
    public var cooperationReason: String?

    public init(consideration: String? = nil, cooperationReason: String? = nil) {
        self.consideration = consideration
        self.cooperationReason = cooperationReason
    }

    static func written(_ text: String?) -> Bool { text.map { !$0.allSatisfy(\.isWhitespace) } ?? false }
}

/// The notice of intent sent for the action being decided.
public struct NoticeOfIntent: Sendable, Equatable {
    public var reference: String
    /// The day it was delivered; nil while it has not reached the supplier.
    public var deliveredOn: String?
    /// The last day the supplier may respond.
    public var responseDeadline: String
    /// The day the supplier's response was recorded, if it answered.
    public var respondedOn: String?

    public init(reference: String, deliveredOn: String?, responseDeadline: String, respondedOn: String?) {
        self.reference = reference
        self.deliveredOn = deliveredOn
        self.responseDeadline = responseDeadline
        self.respondedOn = respondedOn
    }
}

/// One element the record lacks before a restrictive action can be decided.
public struct DueProcessGap: Sendable, Equatable, Codable {
    public enum Code: String, Sendable, Codable, CaseIterable {
        case noNoticeReached = "no_notice_reached"
        case noEvidenceAfterNotice = "no_evidence_after_notice"
        case noNoticeOfIntent = "no_notice_of_intent"
        case noticeOfIntentNotDelivered = "notice_of_intent_not_delivered"
        case responsePeriodRunning = "response_period_running"
        case noticeNotOwnAgency = "notice_not_own_agency"
        case cooperationNotConsidered = "cooperation_not_considered"
        case evidenceChanged = "evidence_changed"
        case responseNotConsidered = "response_not_considered"
    }

    public var code: Code
    public var message: String
}

/// Licensing regulation reaches only suppliers who contribute *knowingly*. A
/// restrictive action may be decided only when the record shows
/// (1) a notice of the deciding agency that reached the supplier before the evidence relied on,
/// (2) at least one signal dated after that notice linked to the action, each
///     in the version the action relies on (a later correction must be confirmed),
/// (3) a notice of intent delivered whose response period has ended or whose
///     response is recorded, and, when a response is recorded, how it was considered,
/// (4) where the supplier cooperates or has verified measures, why that does not suffice.
/// A warning needs none of it: it is a notice.
///
/// Days are ISO 8601 (`2026-11-29`), compared as text.
public enum DueProcess {
    /// The guard over the first elements alone (no standing, no reasons, no corrected evidence).
    public static func gaps(
        type: LicensingActionType, notices: [DueProcessNotice], linkedSignalDays: [String],
        noticeOfIntent: NoticeOfIntent?, today: String
    ) -> [DueProcessGap] {
        gaps(type: type, notices: notices, evidence: linkedSignalDays.enumerated().map { LinkedEvidence(signalID: "s\($0.offset)", observedOn: $0.element) },
             noticeOfIntent: noticeOfIntent, standing: .unknown, reasons: DecisionReasons(), today: today)
    }

    public static func gaps(
        type: LicensingActionType, notices: [DueProcessNotice], evidence: [LinkedEvidence],
        noticeOfIntent: NoticeOfIntent?, standing: SupplierStanding, reasons: DecisionReasons, today: String
    ) -> [DueProcessGap] {
        guard type.isRestrictive else { return [] }
        var gaps: [DueProcessGap] = []
        let reached = notices.filter(\.ownAgency).compactMap(\.reachedOn).filter { $0 <= today }.min()
        if let reached {
            if !evidence.contains(where: { $0.observedOn > reached }) {
                gaps.append(DueProcessGap(
                    code: .noEvidenceAfterNotice,
                    message: "No signal linked to this action was observed after the supplier was first informed on \(reached); "
                        + "link evidence of contribution after that day."))
            }
        } else {
            if let other = notices.first(where: { !$0.ownAgency && ($0.reachedOn ?? "9999") <= today }) {
                gaps.append(DueProcessGap(
                    code: .noticeNotOwnAgency,
                    message: "Letter \(other.reference) reached the supplier but was sent by another agency; "
                        + "only this agency's own letter or warning tells the supplier what this agency expects of it."))
            }
            gaps.append(DueProcessGap(
                code: .noNoticeReached,
                message: "No outreach letter or warning is recorded as delivered to or acknowledged by the supplier; "
                    + "the supplier must have been informed before its contribution can count as knowing."))
            gaps.append(DueProcessGap(
                code: .noEvidenceAfterNotice,
                message: "No linked signal can count as evidence after a notice, because no notice reached the supplier; "
                    + "link evidence dated after the day it does."))
        }
        let changed = evidence.filter(\.changedSinceLinked).map(\.signalID)
        if !changed.isEmpty {
            gaps.append(DueProcessGap(
                code: .evidenceChanged,
                message: "Linked signal(s) \(changed.joined(separator: ", ")) were corrected after they were linked; "
                    + "read the new version and link the signal again to confirm it, or decide without it."))
        }
        if standing.weighsAgainstSanction && !DecisionReasons.written(reasons.cooperationReason) {
            let what = [standing.level.map { "is rated \($0.rawValue)" }, standing.verifiedMeasures > 0 ? "has \(standing.verifiedMeasures) verified measure(s)" : nil]
                .compactMap { $0 }.filter { !$0.hasSuffix("not_contacted") }.joined(separator: " and ")
            gaps.append(DueProcessGap(
                code: .cooperationNotConsidered,
                message: "The supplier \(what); give cooperation_reason: why that cooperation does not suffice and a sanction is needed."))
        }
        if let noi = noticeOfIntent {
            if let delivered = noi.deliveredOn, delivered <= today {
                if noi.respondedOn == nil && today <= noi.responseDeadline {
                    gaps.append(DueProcessGap(
                        code: .responsePeriodRunning,
                        message: "The response period of notice of intent \(noi.reference) runs until \(noi.responseDeadline) "
                            + "and no response is recorded; decide after that day or record the response."))
                }
            } else {
                gaps.append(DueProcessGap(
                    code: .noticeOfIntentNotDelivered,
                    message: "Notice of intent \(noi.reference) is not recorded as delivered; the supplier must receive it and be able to respond."))
            }
            if let responded = noi.respondedOn, !DecisionReasons.written(reasons.consideration) {
                gaps.append(DueProcessGap(
                    code: .responseNotConsidered,
                    message: "The supplier responded to notice of intent \(noi.reference) on \(responded); "
                        + "give consideration: how its response was weighed, for the decision notice."))
            }
        } else {
            gaps.append(DueProcessGap(
                code: .noNoticeOfIntent,
                message: "No notice of intent was sent for this action; send one with a response period before deciding."))
        }
        return gaps
    }
}
