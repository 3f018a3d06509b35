/// The licensing actions an authority can take against a supplier.
public enum LicensingActionType: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "licensing action type"
    case warning, conditions, fine, suspension, revocation

    /// Restrictive actions need the due-process record; a warning is itself a notice.
    public var isRestrictive: Bool { self != .warning }

    /// The proportionality ladder: warning before conditions before fine before suspension before revocation.
    public var rung: Int { Self.allCases.firstIndex(of: self)! }
}

/// Something that told the supplier its service is misused: an outreach letter
/// (inform and call to action, reminder) or a warning, with the day it reached
/// the supplier (delivered, or acknowledged by an answer). Nil: it never did.
public struct DueProcessNotice: Sendable, Equatable {
    public var reference: String
    public var reachedOn: String?

    public init(reference: String, reachedOn: String?) {
        self.reference = reference
        self.reachedOn = reachedOn
    }
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
    }

    public var code: Code
    public var message: String
}

/// Licensing regulation reaches only suppliers who contribute *knowingly*. A
/// restrictive action may be decided only when the record shows
/// (1) a notice that reached the supplier before the evidence relied on,
/// (2) at least one signal dated after that notice linked to the action, and
/// (3) a notice of intent delivered whose response period has ended or whose
/// response is recorded. A warning needs none of it: it is a notice.
///
/// Days are ISO 8601 (`2026-11-29`), compared as text.
public enum DueProcess {
    public static func gaps(
        type: LicensingActionType, notices: [DueProcessNotice], linkedSignalDays: [String],
        noticeOfIntent: NoticeOfIntent?, today: String
    ) -> [DueProcessGap] {
        guard type.isRestrictive else { return [] }
        var gaps: [DueProcessGap] = []
        let reached = notices.compactMap(\.reachedOn).filter { $0 <= today }.min()
        if let reached {
            if !linkedSignalDays.contains(where: { $0 > reached }) {
                gaps.append(DueProcessGap(
                    code: .noEvidenceAfterNotice,
                    message: "No signal linked to this action was observed after the supplier was first informed on \(reached); "
                        + "link evidence of contribution after that day."))
            }
        } else {
            gaps.append(DueProcessGap(
                code: .noNoticeReached,
                message: "No outreach letter or warning is recorded as delivered to or acknowledged by the supplier; "
                    + "the supplier must have been informed before its contribution can count as knowing."))
            gaps.append(DueProcessGap(
                code: .noEvidenceAfterNotice,
                message: "No linked signal can count as evidence after a notice, because no notice reached the supplier; "
                    + "link evidence dated after the day it does."))
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
        } else {
            gaps.append(DueProcessGap(
                code: .noNoticeOfIntent,
                message: "No notice of intent was sent for this action; send one with a response period before deciding."))
        }
        return gaps
    }
}
