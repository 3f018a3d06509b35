/// The kinds of letter the authority sends. First contact informs and calls to
/// action; the others follow it up or carry a licensing action.
public enum LetterKind: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "letter kind"
    case informCallToAction = "inform_call_to_action"
    case reminder
    case warning
    case noticeOfIntent = "notice_of_intent"
    case decisionNotice = "decision_notice"
    /// Sends a case to the authority the procedure profile names as competent; addressed to it, not to the supplier.
    case referral

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
}

/// How letters treat each sector, as the sectors catalogue says (an administrator
/// sets both for a sector they add): which first-contact letter its suppliers get,
/// and whether letters carry the postal-secrecy caveat (couriers and postal
/// services may not disclose consignments). A sector the rules do not name gets
/// the general letter and no caveat.
public struct SectorLetterRules: Sendable, Equatable {
    public var groups: [String: SectorGroup]
    public var postal: Set<String>

    public init(groups: [String: SectorGroup], postal: Set<String>) { self.groups = groups; self.postal = postal }

    public func group(of sector: String) -> SectorGroup { groups[sector] ?? .general }
    public func isPostal(_ sector: String) -> Bool { postal.contains(sector) }
}

/// Which template a letter is written from: its kind, its language and, for a
/// first contact, the sector group.
public struct TemplateKey: Hashable, Sendable, Codable, CustomStringConvertible {
    public var kind: LetterKind
    public var group: SectorGroup?
    public var language: LetterLanguage

    public init(kind: LetterKind, group: SectorGroup?, language: LetterLanguage) {
        self.kind = kind
        self.group = kind.isPerSectorGroup ? (group ?? .general) : nil
        self.language = language
    }

    /// The template for a letter of `kind` to a supplier of `sector`, as the catalogue's `rules` group it.
    public static func forLetter(kind: LetterKind, sector: String, language: LetterLanguage, rules: SectorLetterRules) -> TemplateKey {
        TemplateKey(kind: kind, group: rules.group(of: sector), language: language)
    }

    /// `inform_call_to_action.delivery.en.mustache`, `reminder.fr.mustache`.
    public var fileName: String {
        ([kind.rawValue] + (group.map { [$0.rawValue] } ?? []) + [language.rawValue, "mustache"]).joined(separator: ".")
    }

    /// The key a template file's name stands for, or nil when it names no letter template.
    public init?(fileName: String) {
        let parts = fileName.split(separator: ".").map(String.init)
        guard parts.last == "mustache", parts.count == 3 || parts.count == 4,
              let kind = LetterKind(rawValue: parts[0]), let language = LetterLanguage(rawValue: parts[parts.count - 2])
        else { return nil }
        if kind.isPerSectorGroup {
            guard parts.count == 4, let group = SectorGroup(rawValue: parts[1]) else { return nil }
            self.init(kind: kind, group: group, language: language)
        } else {
            guard parts.count == 3 else { return nil }
            self.init(kind: kind, group: nil, language: language)
        }
    }

    public var description: String { String(fileName.dropLast(".mustache".count)) }
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
    /// A stand-in as long as a real reference, made of a character no letter
    /// contains, so a text rendered with it and then given the number reads
    /// (and wraps) exactly as one rendered with the number.
    public static func placeholder(year: Int) -> String {
        String(repeating: "\u{E000}", count: format(year: year, number: 1).count)
    }

    /// `OUT-2026-000123`: at least six digits, more past 999,999 (`OUT-2026-1000000`).
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

/// A calendar day as ISO 8601 text (`2026-11-29`), which sorts as it reads.
public enum ISODay {
    /// Whether `text` is a real day of the Gregorian calendar in `YYYY-MM-DD` form.
    public static func isValid(_ text: String) -> Bool { parts(text) != nil }

    /// Year, month and day of a valid day; digits only (`2026-+1-05` is not one).
    static func parts(_ text: String) -> (year: Int, month: Int, day: Int)? {
        let fields = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 10, fields.count == 3, fields[0].count == 4, fields[1].count == 2, fields[2].count == 2,
              fields.allSatisfy({ $0.utf8.allSatisfy { (48...57).contains($0) } }),
              let year = Int(fields[0]), let month = Int(fields[1]), let day = Int(fields[2]),
              (1900...9999).contains(year), (1...12).contains(month) else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return (1...days).contains(day) ? (year, month, day) : nil
    }

    /// Days since 1970-01-01 (the proleptic Gregorian calendar; H. Hinnant's days_from_civil).
    public static func ordinal(_ text: String) -> Int? {
        guard let (year, month, day) = parts(text) else { return nil }
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The day `ordinal` days after 1970-01-01, as ISO text.
    public static func day(ordinal: Int) -> String {
        let z = ordinal + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ n: Int, _ width: Int) -> String { String(repeating: "0", count: max(0, width - String(n).count)) + String(n) }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// `text` plus `days` calendar days (deadlines, appeal periods); nil for a day that is not one.
    public static func adding(_ days: Int, to text: String) -> String? { ordinal(text).map { day(ordinal: $0 + days) } }

    /// Calendar days from `start` to `end` (negative when `end` comes first).
    public static func days(from start: String, to end: String) -> Int? {
        guard let a = ordinal(start), let b = ordinal(end) else { return nil }
        return b - a
    }
}

/// One step of a sent letter's tracking, as an officer records it.
public enum LetterTrackingStep: Sendable, Equatable {
    case sent(on: String, method: SendMethod, trackingNumber: String?)
    case delivered(on: String, proof: String?)
    case returned(on: String, reason: String)
    case responded(on: String, channel: ResponseChannel, summary: String?)

    public var status: LetterStatus {
        switch self {
        case .sent: return .sent
        case .delivered: return .delivered
        case .returned: return .returned
        case .responded: return .responded
        }
    }

    public var day: String {
        switch self {
        case .sent(let on, _, _), .delivered(let on, _), .returned(let on, _), .responded(let on, _, _): return on
        }
    }

    /// What is wrong with the step for a letter dated `letterDate`, recorded on `today`.
    public func problems(letterDate: String, today: String) -> [FieldError] {
        var errors = FieldErrors()
        if !ISODay.isValid(day) {
            errors.add("on", "must be a day written YYYY-MM-DD")
        } else if day > today {
            errors.add("on", "is in the future; record what has happened")
        } else if day < letterDate {
            errors.add("on", "is before the letter's date (\(letterDate))")
        }
        switch self {
        case .sent(_, _, let tracking):
            if let tracking, tracking.count > 100 { errors.add("tracking_number", "must be at most 100 characters") }
        case .delivered(_, let proof):
            if let proof, proof.count > 2000 { errors.add("proof", "must be at most 2000 characters") }
        case .returned(_, let reason):
            if reason.allSatisfy(\.isWhitespace) { errors.add("reason", "is required") }
            else if reason.count > 2000 { errors.add("reason", "must be at most 2000 characters") }
        case .responded(_, _, let summary):
            if let summary, summary.count > 10000 { errors.add("summary", "must be at most 10000 characters") }
        }
        return errors.errors
    }
}

/// What an agency's letters say about it: the letterhead, the signatory and
/// the response period its letters give unless the officer says otherwise.
public struct AgencyLetterhead: Sendable, Equatable {
    public var street: String?
    public var postalCode: String?
    public var city: String?
    public var email: String?
    public var phone: String?
    public var website: String?
    public var signatoryName: String?
    public var signatoryTitle: String?
    public var responseDays: Int
    /// Calendar days a supplier has to appeal a decision.
    public var appealDays: Int

    public init(street: String? = nil, postalCode: String? = nil, city: String? = nil, email: String? = nil, phone: String? = nil,
                website: String? = nil, signatoryName: String? = nil, signatoryTitle: String? = nil,
                responseDays: Int = ResponsePeriod.defaultDays, appealDays: Int = ResponsePeriod.defaultDays) {
        self.street = street; self.postalCode = postalCode; self.city = city; self.email = email; self.phone = phone
        self.website = website; self.signatoryName = signatoryName; self.signatoryTitle = signatoryTitle
        self.responseDays = responseDays
        self.appealDays = appealDays
    }

    /// The text fields by their API names, for reading a PATCH.
    public static let textFields = ["street", "postal_code", "city", "email", "phone", "website", "signatory_name", "signatory_title"]

    public subscript(field: String) -> String? {
        get {
            switch field {
            case "street": return street
            case "postal_code": return postalCode
            case "city": return city
            case "email": return email
            case "phone": return phone
            case "website": return website
            case "signatory_name": return signatoryName
            case "signatory_title": return signatoryTitle
            default: return nil
            }
        }
        set {
            let value = newValue.flatMap { $0.allSatisfy(\.isWhitespace) ? nil : $0 }
            switch field {
            case "street": street = value
            case "postal_code": postalCode = value
            case "city": city = value
            case "email": email = value?.lowercased()
            case "phone": phone = value
            case "website": website = value
            case "signatory_name": signatoryName = value
            case "signatory_title": signatoryTitle = value
            default: break
            }
        }
    }

    public func problems() -> [FieldError] {
        var errors = FieldErrors()
        let limits = ["street": 200, "postal_code": 20, "city": 100, "phone": 40, "signatory_name": 200, "signatory_title": 200, "email": 254, "website": 300]
        for field in Self.textFields {
            if let value = self[field], let limit = limits[field], value.count > limit { errors.add(field, "must be at most \(limit) characters") }
        }
        if let email, !FacilitatorDraft.isEmail(email) { errors.add("email", "must be an e-mail address such as info@example.eu") }
        if let website, !FacilitatorDraft.isWebsite(website) { errors.add("website", "must be an http(s) URL such as https://example.eu") }
        if !ResponsePeriod.allowedDays.contains(responseDays) { errors.add("response_days", "must be between 1 and 365") }
        if !ResponsePeriod.allowedDays.contains(appealDays) { errors.add("appeal_days", "must be between 1 and 365") }
        return errors.errors
    }
}

/// What recording a tracking step reads: the letter as it stands, and today.
public struct LetterTrackingCase: Sendable, Equatable {
    public var status: LetterStatus
    public var version: Int
    /// The letter's date (today while it has none).
    public var letterDate: String
    /// The state of its e-mail, when it was queued for the relay.
    public var emailState: String?
    public var today: String

    public init(status: LetterStatus, version: Int, letterDate: String, emailState: String?, today: String) {
        self.status = status; self.version = version; self.letterDate = letterDate; self.emailState = emailState; self.today = today
    }
}

/// Recording that a letter was sent, delivered, returned or answered, as one
/// pure decision: the version, the lifecycle step, a letter with the e-mail
/// relay (its sending is recorded when the relay accepts it), the step's own
/// fields, and whether it informs the supplier (a delivery, or an answer to a
/// letter whose delivery was never recorded).
public enum LetterTracking {
    public enum Refusal: Error, Sendable, Equatable {
        case versionConflict(current: Int)
        case transition(from: LetterStatus, allowed: [LetterStatus])
        case withTheRelay(state: String)
        case invalid([FieldError])
    }

    public struct Outcome: Sendable, Equatable {
        /// The letter reached the supplier: its cooperation level moves.
        public var informsSupplier: Bool
    }

    /// `documentProblems`: what is wrong with an attached response document (nil: none attached).
    public static func decide(_ c: LetterTrackingCase, _ step: LetterTrackingStep, expectedVersion: Int,
                              documentProblems: [FieldError]?) -> Result<Outcome, Refusal> {
        // What the request gets wrong on its own (a malformed day, a text too long,
        // a document that is not one or not for this step) is refused first (422),
        // whatever the version it names; then the version, the lifecycle, the relay,
        // and the day against the letter's date and today.
        // Once refused, every problem is named, the day's too.
        var own = step.problems(letterDate: "0000-01-01", today: "9999-12-31")
        var problems = step.problems(letterDate: c.letterDate, today: c.today)
        if let documentProblems {
            own += documentProblems
            if step.status != .responded { own.append(FieldError(field: "document", message: "only a response has a document")) }
            problems += documentProblems
            if step.status != .responded { problems.append(FieldError(field: "document", message: "only a response has a document")) }
        }
        if !own.isEmpty { return .failure(.invalid(problems)) }
        guard c.version == expectedVersion else { return .failure(.versionConflict(current: c.version)) }
        guard c.status.canMove(to: step.status) else { return .failure(.transition(from: c.status, allowed: c.status.allowedNext)) }
        if case .sent = step, let state = c.emailState { return .failure(.withTheRelay(state: state)) }
        if !problems.isEmpty { return .failure(.invalid(problems)) }
        return .success(Outcome(informsSupplier: step.status == .delivered || (step.status == .responded && c.status == .sent)))
    }
}
