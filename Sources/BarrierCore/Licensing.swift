/// Where a licensing action is in its life. Only the steps in `allowedNext` exist.
///
/// `proposed → notice_of_intent → decided → (appealed → upheld | varied | overturned)… → lifted | expired`;
/// an appeal decided upheld or varied can be taken to the next stage the procedure
/// profile names (objection, then court), a proposal can be withdrawn before it is
/// decided, and a notice of intent that came back undelivered can be issued again.
/// A referral is `decided` when the file goes to the competent authority and
/// `concluded` when that authority's outcome is recorded.
public enum LicensingActionStatus: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "licensing action status"
    case proposed
    case noticeOfIntent = "notice_of_intent"
    case decided, appealed, upheld, varied, overturned, lifted, expired, withdrawn, concluded

    public var allowedNext: [LicensingActionStatus] {
        switch self {
        // A warning is decided straight from the proposal; a restrictive action
        // may be *asked* to be, and the due-process guard then names what is missing.
        case .proposed: return [.noticeOfIntent, .decided, .withdrawn]
        case .noticeOfIntent: return [.noticeOfIntent, .decided, .withdrawn]
        case .decided: return [.appealed, .lifted, .expired, .concluded]
        case .appealed: return [.upheld, .varied, .overturned]
        case .upheld, .varied: return [.appealed, .lifted, .expired]
        case .overturned, .lifted, .expired, .withdrawn, .concluded: return []
        }
    }

    /// The steps open to an action of `type` from here: a referral is no decision on
    /// the supplier (it cannot be appealed, lifted or expire, only concluded), and
    /// only a referral is concluded.
    public func allowedNext(for type: LicensingActionType) -> [LicensingActionStatus] {
        allowedNext.filter { type == .referral ? [.withdrawn, .decided, .concluded].contains($0) : $0 != .concluded }
    }

    public func canMove(to next: LicensingActionStatus) -> Bool { allowedNext.contains(next) }

    public func canMove(to next: LicensingActionStatus, for type: LicensingActionType) -> Bool { allowedNext(for: type).contains(next) }

    /// In effect and, once no further remedy is open (`appeal_ends_on` passed), final:
    /// decided and not under appeal, or upheld or varied on appeal.
    public var isFinal: Bool { [.decided, .upheld, .varied].contains(self) }

    /// The final statuses, for SQL that needs them as a bind.
    public static var finalStatuses: [String] { allCases.filter(\.isFinal).map(\.rawValue) }
    /// The statuses that count on a supplier's record, for SQL that needs them as a bind.
    public static var onRecordStatuses: [String] { allCases.filter(\.countsOnRecord).map(\.rawValue) }

    /// Counts on the supplier's record for the proportionality ladder: the
    /// action was decided and not annulled (an appeal still running does not count).
    public var countsOnRecord: Bool { [.decided, .upheld, .varied, .lifted, .expired].contains(self) }
}

/// The proportionality ladder, remedial and punitive steps kept apart. The
/// remedial ladder runs warning → conditions → suspension → revocation: the next
/// step is one above the harshest remedial action on the supplier's record (a
/// first action is a warning). A fine punishes and is no rung of it: it neither
/// raises the next remedial step nor stands in for one, and a fine before any
/// action on record (not even a warning) needs a written justification. Only the
/// actions within the profile's look-back period count (`recordYears`).
public enum ProportionalityLadder {
    public static func suggestion(after record: [LicensingActionType]) -> LicensingActionType {
        let rungs = record.compactMap(\.remedialRung)
        guard let harshest = rungs.max() else { return .warning }
        return LicensingActionType.remedialLadder[min(harshest + 1, LicensingActionType.remedialLadder.count - 1)]
    }

    /// Deciding a harsher remedial step than suggested, or a fine with nothing on record, needs a written justification.
    public static func needsJustification(_ type: LicensingActionType, suggested: LicensingActionType) -> Bool {
        if type == .referral { return false }
        guard let rung = type.remedialRung else { return suggested == .warning }
        return rung > (suggested.remedialRung ?? 0)
    }

    /// The first day an action must have been decided on to count on the record, `years` before `today`; nil: every action counts.
    public static func recordSince(today: String, years: Int?) -> String? {
        guard let years, let (year, month, day) = ISODay.parts(today) else { return nil }
        let y = year - years
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
        return String(format: "%04d-%02d-%02d", y, month, month == 2 && day == 29 && !leap ? 28 : day)
    }
}

/// The outcome of an appeal: the decision stands, stands with new terms, or is annulled.
public enum AppealOutcome: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "appeal outcome"
    case upheld, varied, overturned

    public var status: LicensingActionStatus {
        switch self {
        case .upheld: .upheld
        case .varied: .varied
        case .overturned: .overturned
        }
    }
}

/// What the competent authority did with a referred case.
public enum ReferralOutcome: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "referral outcome"
    /// It acted under its own powers (conditions, a sanction, a licence withdrawn).
    case actionTaken = "action_taken"
    /// It examined the case and took no action.
    case noAction = "no_action"
    /// It declined the case as not its own (not competent).
    case declined
}

/// The new terms an appeal's outcome `varied` sets: a lower fine, other dates,
/// other conditions. Each is optional; at least one is given, and the action with
/// them must still be a valid action of its type.
public struct VariedTerms: Sendable, Equatable, Codable {
    public var amountMinor: Int64?
    public var effectiveFrom: String?
    public var effectiveTo: String?
    public var conditions: String?

    public init(amountMinor: Int64? = nil, effectiveFrom: String? = nil, effectiveTo: String? = nil, conditions: String? = nil) {
        self.amountMinor = amountMinor; self.effectiveFrom = effectiveFrom; self.effectiveTo = effectiveTo; self.conditions = conditions
    }

    public var isEmpty: Bool { amountMinor == nil && effectiveFrom == nil && effectiveTo == nil && conditions == nil }

    /// `draft` with these terms in place of its own.
    public func applied(to draft: LicensingActionDraft) -> LicensingActionDraft {
        var d = draft
        if let amountMinor { d.amountMinor = amountMinor }
        if let effectiveFrom { d.effectiveFrom = effectiveFrom }
        if let effectiveTo { d.effectiveTo = effectiveTo }
        if let conditions { d.conditions = conditions }
        return d
    }

    enum CodingKeys: String, CodingKey {
        case conditions
        case amountMinor = "amount_minor", effectiveFrom = "effective_from", effectiveTo = "effective_to"
    }
}

/// A licensing action as proposed: what, on which legal basis, why, and from when.
public struct LicensingActionDraft: Sendable, Equatable {
    public var facilitatorID: UUIDString
    public var type: LicensingActionType
    public var legalBasis: String
    public var rationale: String
    public var conditions: String?
    /// A fine in minor units (cents) of `currency`.
    public var amountMinor: Int64?
    public var currency: String?
    public var effectiveFrom: String?
    public var effectiveTo: String?
    public var signalIDs: [UUIDString]
    public var ladderJustification: String?

    public init(facilitatorID: UUIDString, type: LicensingActionType, legalBasis: String, rationale: String, conditions: String? = nil,
                amountMinor: Int64? = nil, currency: String? = nil, effectiveFrom: String? = nil, effectiveTo: String? = nil,
                signalIDs: [UUIDString] = [], ladderJustification: String? = nil) {
        self.facilitatorID = facilitatorID; self.type = type; self.legalBasis = legalBasis; self.rationale = rationale
        self.conditions = conditions; self.amountMinor = amountMinor; self.currency = currency
        self.effectiveFrom = effectiveFrom; self.effectiveTo = effectiveTo; self.signalIDs = signalIDs
        self.ladderJustification = ladderJustification
    }

    /// Every rule the proposal breaks, by field.
    public func problems() -> [FieldError] {
        var errors = FieldErrors()
        errors.text("legal_basis", legalBasis, max: 500)
        errors.text("rationale", rationale, max: 20_000)
        errors.text("ladder_justification", ladderJustification, max: 5_000, required: false)
        if type == .conditions {
            errors.text("conditions", conditions, max: 10_000)
        } else if conditions != nil {
            errors.add("conditions", "only an action of type conditions has conditions")
        }
        if type == .fine {
            if let amountMinor {
                if amountMinor <= 0 || amountMinor > 1_000_000_000_000_000 {
                    errors.add("amount_minor", "must be a positive amount in minor units (cents), at most 10^15")
                }
            } else {
                errors.add("amount_minor", "is required for a fine (in minor units, e.g. 2500000 for EUR 25,000.00)")
            }
            if let currency {
                if !Currency.isKnown(currency) { errors.add("currency", "'\(currency)' is not an ISO 4217 currency code such as EUR") }
            } else {
                errors.add("currency", "is required for a fine (ISO 4217, such as EUR)")
            }
        } else {
            if amountMinor != nil { errors.add("amount_minor", "only a fine has an amount") }
            if currency != nil { errors.add("currency", "only a fine has a currency") }
        }
        for (field, day) in [("effective_from", effectiveFrom), ("effective_to", effectiveTo)] {
            if let day, !ISODay.isValid(day) { errors.add(field, "must be a day written YYYY-MM-DD") }
        }
        switch type {
        case .warning, .referral:
            if effectiveFrom != nil || effectiveTo != nil {
                errors.add(effectiveFrom != nil ? "effective_from" : "effective_to", "a \(type.rawValue) restricts nothing and has no effective dates")
            }
        case .suspension:
            if effectiveFrom == nil { errors.add("effective_from", "is required for a suspension") }
            if effectiveTo == nil { errors.add("effective_to", "is required for a suspension: say when it ends") }
        case .revocation:
            if effectiveTo != nil { errors.add("effective_to", "a revocation does not end; leave effective_to out") }
        case .conditions, .fine:
            break
        }
        if let from = effectiveFrom, let to = effectiveTo, ISODay.isValid(from), ISODay.isValid(to), to < from {
            errors.add("effective_to", "must not be before effective_from (\(from))")
        }
        if signalIDs.count > 100 { errors.add("signal_ids", "at most 100 signals can be linked at once") }
        return errors.errors
    }
}

/// ISO 4217 currency codes in use.
public enum Currency {
    public static let codes: Set<String> = [
        "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF", "BMD",
        "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE",
        "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF",
        "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS",
        "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD",
        "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR",
        "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK",
        "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD",
        "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XOF", "XPF", "YER", "ZAR",
        "ZMW", "ZWL",
    ]

    public static func isKnown(_ code: String) -> Bool { codes.contains(code) }
}

/// The four-eyes rule, defined once. Deciding an action and lifting one in force
/// change a supplier's rights, so each needs a person other than the one whose
/// act it completes or undoes: the proposer does not decide, and the decider does
/// not lift their own decision alone. Only a signed-in user counts as a pair of
/// eyes; the operator at the command line (no user) is nobody's second.
public enum FourEyes {
    /// Who acts or acted: a user's id, and a readable label (e-mail, or `cli:…`).
    public struct Person: Sendable, Equatable {
        public var userID: UUIDString?
        public var label: String

        public init(userID: UUIDString?, label: String) {
            self.userID = userID
            self.label = label
        }

        /// The same person: the same user, or, where either is no user, the same label.
        public func isSame(as other: Person) -> Bool {
            if let a = userID, let b = other.userID { return a == b }
            return label == other.label
        }
    }

    /// The steps the rule guards.
    public enum Step: String, Sendable, CaseIterable {
        case decide, lift
    }

    /// Nil when `actor` may take `step`; otherwise why not, in a sentence.
    public static func refusal(_ step: Step, actor: Person, proposer: Person, decider: Person?) -> String? {
        guard actor.userID != nil else {
            return "Four-eyes rule: \(actor.label) acts for no user, and only a signed-in officer or administrator can "
                + (step == .decide ? "decide" : "lift") + " an action; run the command with that user's BARRIER_TOKEN."
        }
        switch step {
        case .decide:
            if actor.isSame(as: proposer) {
                return "Four-eyes rule: \(actor.label) proposed this action, so another officer or administrator must decide it."
            }
        case .lift:
            if let decider, actor.isSame(as: decider) {
                return "Four-eyes rule: \(actor.label) decided this action, so another officer or administrator must lift it."
            }
        }
        return nil
    }
}
