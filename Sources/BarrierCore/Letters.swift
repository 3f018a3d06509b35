/// The kinds of letter the authority sends. First contact informs and calls to
/// action; the others follow it up or carry a licensing action.
public enum LetterKind: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "letter kind"
    case informCallToAction = "inform_call_to_action"
    case reminder
    case warning
    case noticeOfIntent = "notice_of_intent"
    case decisionNotice = "decision_notice"

    /// Whether the kind has one template per sector group rather than one for all.
    public var isPerSectorGroup: Bool { self == .informCallToAction }
}

/// The languages letters are written in.
public enum LetterLanguage: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "letter language"
    case en, fr, nl, de

    /// The language a supplier in `country` is written to unless a campaign or
    /// the officer says otherwise. Countries with several official languages get
    /// the one most of their suppliers answer in; anything else gets English.
    public static func forCountry(_ country: String) -> LetterLanguage {
        switch country.uppercased() {
        case "FR", "MC", "LU": return .fr
        case "BE", "NL", "SR": return .nl
        case "DE", "AT", "LI", "CH": return .de
        default: return .en
        }
    }
}

/// Sectors that share one first-contact letter, because the trade uses them the same way.
public enum SectorGroup: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "sector group"
    case delivery, packaging, internet, messaging, finance, general

    public static func forSector(_ sector: String) -> SectorGroup {
        switch sector {
        case "courier", "postal_service", "parcel_delivery", "food_delivery": return .delivery
        case "stealth_packaging": return .packaging
        case "internet_service_provider", "hosting_provider": return .internet
        case "encrypted_messaging", "social_media": return .messaging
        case "cryptocurrency_exchange", "payment_service": return .finance
        default: return .general
        }
    }
}

/// Where a letter is in its life. Only the transitions in `allowedNext` exist;
/// everything from `approved` on is frozen text.
public enum LetterStatus: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "letter status"
    case draft, approved, sent, delivered, responded, returned
    case noResponse = "no_response"

    public var allowedNext: [LetterStatus] {
        switch self {
        case .draft: return [.approved]
        case .approved: return [.sent]
        // An answer proves delivery, and the deadline runs whether or not
        // delivery was confirmed, so a sent letter can go straight to either.
        case .sent: return [.delivered, .returned, .responded, .noResponse]
        case .delivered: return [.responded, .noResponse]
        // A late answer is still an answer: it is recorded, not refused.
        case .noResponse: return [.responded]
        case .responded, .returned: return []
        }
    }

    public func canMove(to next: LetterStatus) -> Bool { allowedNext.contains(next) }

    /// Why `self → next` is refused, in one sentence naming what is allowed.
    public func refusal(to next: LetterStatus) -> String {
        let allowed = allowedNext.map(\.rawValue)
        let options = allowed.isEmpty ? "none: the letter's life has ended" : allowed.joined(separator: ", ")
        return "a \(rawValue) letter cannot become \(next.rawValue); allowed next: \(options)"
    }

    /// Whether the letter's text is fixed (approved or later).
    public var isFrozen: Bool { self != .draft }
}

/// How a sent letter went out.
public enum SendMethod: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "sending method"
    case registeredPost = "registered_post"
    case post
    case email
    case hand
    case courier
}

/// How a supplier answered.
public enum ResponseChannel: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "response channel"
    case letter, email, phone, meeting, portal
}

/// Reference numbers of approved letters: `OUT-2026-000123`.
public enum LetterReference {
    public static func format(year: Int, number: Int) -> String {
        let digits = String(number)
        return "OUT-\(year)-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }
}

/// The response period a letter gets unless the officer gives another.
public enum ResponsePeriod {
    public static let defaultDays = 30
    public static let allowedDays = 1...365
}
