/// A text in each language the letters speak. Law that a letter states comes
/// from here, in the letter's language; a language the profile lacks is a
/// letter that cannot be written (the store says which field is missing).
public typealias LocalizedText = [String: String]

/// The administrative law an agency acts under, as its lawyer confirms it:
/// what it may do (and on which basis), what a supplier can do against it,
/// by when, whether that suspends the decision, when a decision is final and
/// may be published, how a fine is paid, the data-protection notice, and how
/// deadlines are counted. Letters and the rules of finality read it; nothing
/// in a template states law of its own.
///
/// Stored as JSON (snake_case keys) in `procedure_profiles`, versioned and audited.
public struct ProcedureProfile: Codable, Sendable, Equatable {
    /// ISO country the profile is written for, or `default`.
    public var jurisdiction: String
    public var name: String
    /// Who reviewed the profile and when, or the reminder that nobody has yet.
    public var reviewNote: String
    /// The agency's task and competence towards suppliers in general (first contact letters).
    public var competence: LocalizedText
    /// For each action type: what the agency may decide and on which basis; nil: it cannot (warn or refer only).
    public var actions: [String: ActionRule?]
    /// The remedies the action rules name, by key (`objection`, `court`, `einspruch`…).
    public var remedies: [String: Remedy]
    public var deadlines: DeadlineRule
    public var publication: PublicationRule
    /// How a fine is paid; nil when the agency imposes no fines.
    public var finePayment: FinePayment?
    /// The GDPR Art. 13/14 notice for the contact data the registry keeps.
    public var dataProtection: LocalizedText
    /// The right to see the file before a decision (Charter Art. 41(2)(b)) and how to use it.
    public var fileAccess: LocalizedText
    /// The caveat letters to postal and courier firms carry: nothing asked overrides postal secrecy.
    public var postalSecrecy: LocalizedText
    /// Where a case goes when another body holds the licence; nil: no referral body is named.
    public var referral: Referral?
    /// Years a past action counts on the supplier's record for the ladder (nil: always).
    public var recordYears: Int?

    public init(jurisdiction: String, name: String, reviewNote: String, competence: LocalizedText, actions: [String: ActionRule?],
                remedies: [String: Remedy], deadlines: DeadlineRule, publication: PublicationRule, finePayment: FinePayment?,
                dataProtection: LocalizedText, fileAccess: LocalizedText, postalSecrecy: LocalizedText, referral: Referral?, recordYears: Int?) {
        self.jurisdiction = jurisdiction; self.name = name; self.reviewNote = reviewNote; self.competence = competence
        self.actions = actions; self.remedies = remedies; self.deadlines = deadlines; self.publication = publication
        self.finePayment = finePayment; self.dataProtection = dataProtection; self.fileAccess = fileAccess
        self.postalSecrecy = postalSecrecy; self.referral = referral; self.recordYears = recordYears
    }

    enum CodingKeys: String, CodingKey {
        case jurisdiction, name, competence, actions, remedies, deadlines, publication, referral
        case reviewNote = "review_note", finePayment = "fine_payment", dataProtection = "data_protection"
        case fileAccess = "file_access", postalSecrecy = "postal_secrecy", recordYears = "record_years"
    }

    public struct ActionRule: Codable, Sendable, Equatable {
        /// The provision the action rests on, as cited in letters.
        public var legalBasis: LocalizedText
        /// One sentence: the agency's power to take this action.
        public var competence: LocalizedText
        /// Whether lodging the remedy suspends the decision's effect by law.
        public var suspensiveEffect: Bool
        /// The letter's sentence on that effect (the law, in the letter's language).
        public var effect: LocalizedText
        /// The key in `remedies` that is open against the decision.
        public var remedy: String
        /// Where the rule comes from (article, section), for the reviewing lawyer.
        public var source: String

        public init(legalBasis: LocalizedText, competence: LocalizedText, suspensiveEffect: Bool, effect: LocalizedText, remedy: String, source: String) {
            self.legalBasis = legalBasis; self.competence = competence; self.suspensiveEffect = suspensiveEffect; self.effect = effect
            self.remedy = remedy; self.source = source
        }

        enum CodingKeys: String, CodingKey {
            case competence, effect, remedy, source
            case legalBasis = "legal_basis", suspensiveEffect = "suspensive_effect"
        }
    }

    public struct Remedy: Codable, Sendable, Equatable {
        /// What the remedy is called (`Widerspruch`, `bezwaar`, `recours gracieux`…).
        public var name: LocalizedText
        /// The body that hears it, and where to send it.
        public var body: String
        public var address: String
        public var period: Period
        public var periodStarts: PeriodStart
        /// How it is lodged (in writing, signed, grounds…), in each language.
        public var form: LocalizedText
        /// The remedy after this one, if any (`court` after `objection`).
        public var next: String?
        public var source: String

        public init(name: LocalizedText, body: String, address: String, period: Period, periodStarts: PeriodStart, form: LocalizedText,
                    next: String?, source: String) {
            self.name = name; self.body = body; self.address = address; self.period = period; self.periodStarts = periodStarts
            self.form = form; self.next = next; self.source = source
        }

        enum CodingKeys: String, CodingKey {
            case name, body, address, period, form, next, source
            case periodStarts = "period_starts"
        }
    }

    public struct Period: Codable, Sendable, Equatable {
        public var count: Int
        public var unit: PeriodUnit

        public init(count: Int, unit: PeriodUnit) { self.count = count; self.unit = unit }
    }

    public enum PeriodUnit: String, Codable, Sendable, CaseIterable {
        case days, weeks, months
    }

    /// Whether a period runs from the day the decision reaches the supplier or from its date.
    public enum PeriodStart: String, Codable, Sendable, CaseIterable {
        case delivery
        case decisionDate = "decision_date"
    }

    public struct DeadlineRule: Codable, Sendable, Equatable {
        /// A deadline on a rest day or public holiday moves to the next working day.
        public var rollToWorkingDay: Bool
        /// Saturday counts as a rest day (it does in all four shipped countries).
        public var saturdayIsRestDay: Bool
        /// The country whose public holidays count (`PublicHolidays`), or nil for none.
        public var holidays: String?
        /// Further days that count as holidays (regional ones, days the government equated).
        public var extraHolidays: [String]
        public var source: String

        public init(rollToWorkingDay: Bool, saturdayIsRestDay: Bool, holidays: String?, extraHolidays: [String], source: String) {
            self.rollToWorkingDay = rollToWorkingDay; self.saturdayIsRestDay = saturdayIsRestDay; self.holidays = holidays
            self.extraHolidays = extraHolidays; self.source = source
        }

        enum CodingKeys: String, CodingKey {
            case holidays, source
            case rollToWorkingDay = "roll_to_working_day", saturdayIsRestDay = "saturday_is_rest_day", extraHolidays = "extra_holidays"
        }
    }

    public struct PublicationRule: Codable, Sendable, Equatable {
        /// Whether names of natural persons (sole traders) appear in the public register.
        public var naturalPersons: Bool
        public var source: String

        public init(naturalPersons: Bool, source: String) { self.naturalPersons = naturalPersons; self.source = source }

        enum CodingKeys: String, CodingKey {
            case source
            case naturalPersons = "natural_persons"
        }
    }

    public struct FinePayment: Codable, Sendable, Equatable {
        public var beneficiary: String
        public var iban: String
        public var bic: String?
        /// Days after the decision becomes final within which the fine is paid.
        public var days: Int

        public init(beneficiary: String, iban: String, bic: String?, days: Int) {
            self.beneficiary = beneficiary; self.iban = iban; self.bic = bic; self.days = days
        }
    }

    public struct Referral: Codable, Sendable, Equatable {
        public var body: String
        public var address: String

        public init(body: String, address: String) { self.body = body; self.address = address }
    }
}

extension ProcedureProfile {
    /// The rule for an action type, or nil when the agency has no power to take it.
    public func rule(for type: LicensingActionType) -> ActionRule? { actions[type.rawValue] ?? nil }

    public func remedy(for type: LicensingActionType) -> Remedy? { rule(for: type).flatMap { remedies[$0.remedy] } }

    /// The action types the agency may decide under this profile.
    public var competentTypes: [LicensingActionType] { LicensingActionType.allCases.filter { rule(for: $0) != nil } }

    /// The profile's texts in `language` that a letter of `kind` needs, by their JSON path; the missing ones.
    public func missingTexts(for kind: LetterKind, language: LetterLanguage, action: LicensingActionType?, postal: Bool) -> [String] {
        var needed: [(String, LocalizedText)] = [("competence", competence), ("data_protection", dataProtection)]
        if postal { needed.append(("postal_secrecy", postalSecrecy)) }
        if kind == .noticeOfIntent { needed.append(("file_access", fileAccess)) }
        if let action, let rule = rule(for: action) {
            needed += [("actions.\(action.rawValue).legal_basis", rule.legalBasis), ("actions.\(action.rawValue).competence", rule.competence),
                       ("actions.\(action.rawValue).effect", rule.effect)]
            if let remedy = remedies[rule.remedy] {
                needed += [("remedies.\(rule.remedy).name", remedy.name), ("remedies.\(rule.remedy).form", remedy.form)]
            }
        }
        return needed.filter { ($0.1[language.rawValue] ?? "").allSatisfy(\.isWhitespace) }.map { "\($0.0).\(language.rawValue)" }
    }

    /// Every rule the profile breaks, by JSON path.
    public func problems() -> [FieldError] {
        var errors = FieldErrors()
        errors.text("jurisdiction", jurisdiction, max: 20)
        if jurisdiction != "default" && !Countries.isKnown(jurisdiction) {
            errors.add("jurisdiction", "must be an ISO 3166 country code such as DE, or default")
        }
        errors.text("name", name, max: 200)
        errors.text("review_note", reviewNote, max: 2_000)
        Self.check(&errors, "competence", competence, required: true)
        Self.check(&errors, "data_protection", dataProtection, required: true)
        Self.check(&errors, "file_access", fileAccess, required: true)
        Self.check(&errors, "postal_secrecy", postalSecrecy, required: true)
        for key in actions.keys.sorted() where LicensingActionType(rawValue: key) == nil {
            errors.add("actions.\(key)", "is not an action type (\(LicensingActionType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        for type in LicensingActionType.allCases {
            guard let rule = rule(for: type) else { continue }
            let path = "actions.\(type.rawValue)"
            Self.check(&errors, path + ".legal_basis", rule.legalBasis, required: true)
            Self.check(&errors, path + ".competence", rule.competence, required: true)
            Self.check(&errors, path + ".effect", rule.effect, required: true)
            errors.text(path + ".source", rule.source, max: 500)
            if remedies[rule.remedy] == nil { errors.add(path + ".remedy", "names no remedy of this profile ('\(rule.remedy)')") }
        }
        for (key, remedy) in remedies.sorted(by: { $0.key < $1.key }) {
            let path = "remedies.\(key)"
            Self.check(&errors, path + ".name", remedy.name, required: true)
            Self.check(&errors, path + ".form", remedy.form, required: true)
            errors.text(path + ".body", remedy.body, max: 300)
            errors.text(path + ".address", remedy.address, max: 500)
            errors.text(path + ".source", remedy.source, max: 500)
            let limit = ["days": 365, "weeks": 52, "months": 12][remedy.period.unit.rawValue]!
            if !(1...limit).contains(remedy.period.count) { errors.add(path + ".period.count", "must be between 1 and \(limit) \(remedy.period.unit.rawValue)") }
            if let next = remedy.next {
                if remedies[next] == nil { errors.add(path + ".next", "names no remedy of this profile ('\(next)')") }
                else if next == key { errors.add(path + ".next", "cannot name the remedy itself") }
            }
        }
        if let holidays = deadlines.holidays, !PublicHolidays.countries.contains(holidays) {
            errors.add("deadlines.holidays", "must be one of \(PublicHolidays.countries.sorted().joined(separator: ", ")) or null")
        }
        for (i, day) in deadlines.extraHolidays.enumerated() where !ISODay.isValid(day) {
            errors.add("deadlines.extra_holidays[\(i)]", "must be a day written YYYY-MM-DD")
        }
        if deadlines.extraHolidays.count > 500 { errors.add("deadlines.extra_holidays", "at most 500 days") }
        errors.text("deadlines.source", deadlines.source, max: 500)
        errors.text("publication.source", publication.source, max: 500)
        if let payment = finePayment {
            errors.text("fine_payment.beneficiary", payment.beneficiary, max: 200)
            if !IBAN.isValid(payment.iban) { errors.add("fine_payment.iban", "must be an IBAN with a valid check number") }
            if let bic = payment.bic, !IBAN.isBIC(bic) { errors.add("fine_payment.bic", "must be a BIC of 8 or 11 characters") }
            if !(1...365).contains(payment.days) { errors.add("fine_payment.days", "must be between 1 and 365") }
        } else if rule(for: .fine) != nil {
            errors.add("fine_payment", "is required when the profile allows fines: say how a fine is paid")
        }
        if let referral {
            errors.text("referral.body", referral.body, max: 300)
            errors.text("referral.address", referral.address, max: 500)
        }
        if let years = recordYears, !(1...50).contains(years) { errors.add("record_years", "must be between 1 and 50, or null") }
        return errors.errors
    }

    static func check(_ errors: inout FieldErrors, _ path: String, _ text: LocalizedText, required: Bool) {
        for key in text.keys.sorted() where LetterLanguage(rawValue: key) == nil {
            errors.add("\(path).\(key)", "is not a letter language (\(LetterLanguage.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if required && !text.values.contains(where: { !$0.allSatisfy(\.isWhitespace) }) {
            errors.add(path, "needs a text in at least one letter language")
        }
        for (key, value) in text.sorted(by: { $0.key < $1.key }) {
            if value.count > 5_000 { errors.add("\(path).\(key)", "must be at most 5000 characters") }
            if TextInput.hasControlCharacters(value) { errors.add("\(path).\(key)", TextInput.controlMessage) }
        }
    }
}

/// Counting periods as the profile says: a period in days, weeks or months
/// from a start day, ending on the same day number of the last month (or that
/// month's last day), moved to the next working day where the law says so.
public enum ProcedureCalendar {
    /// `count` units after `start`; months keep the day of the month or end on the last day of a shorter month.
    public static func add(_ period: ProcedureProfile.Period, to start: String) -> String? {
        switch period.unit {
        case .days: return ISODay.adding(period.count, to: start)
        case .weeks: return ISODay.adding(7 * period.count, to: start)
        case .months:
            guard let (year, month, day) = ISODay.parts(start) else { return nil }
            let total = year * 12 + (month - 1) + period.count
            let (y, m) = (total / 12, total % 12 + 1)
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
            let last = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
            func pad(_ n: Int, _ width: Int) -> String { String(repeating: "0", count: max(0, width - String(n).count)) + String(n) }
            return "\(pad(y, 4))-\(pad(m, 2))-\(pad(min(day, last), 2))"
        }
    }

    /// 0 for Monday … 6 for Sunday (day ordinal 0, 1970-01-01, was a Thursday).
    public static func weekday(_ ordinal: Int) -> Int { ((ordinal % 7) + 10) % 7 }

    /// Whether `day` is a working day under the rule.
    public static func isWorkingDay(_ day: String, _ rule: ProcedureProfile.DeadlineRule) -> Bool {
        guard let ordinal = ISODay.ordinal(day) else { return false }
        let weekday = Self.weekday(ordinal)
        if weekday == 6 || (weekday == 5 && rule.saturdayIsRestDay) { return false }
        if rule.extraHolidays.contains(day) { return false }
        if let country = rule.holidays, PublicHolidays.isHoliday(day, country: country) { return false }
        return true
    }

    /// The day a deadline falling on `day` really ends: the day itself, or the next working day when the rule moves it.
    public static func deadline(_ day: String, _ rule: ProcedureProfile.DeadlineRule) -> String {
        guard rule.rollToWorkingDay, var ordinal = ISODay.ordinal(day) else { return day }
        var current = day
        // A year has far fewer than 30 rest days in a row.
        for _ in 0..<30 where !isWorkingDay(current, rule) {
            ordinal += 1
            current = ISODay.day(ordinal: ordinal)
        }
        return current
    }

    /// The last day of `period` from `start`, counted as the rule says.
    public static func end(of period: ProcedureProfile.Period, from start: String, _ rule: ProcedureProfile.DeadlineRule) -> String? {
        add(period, to: start).map { deadline($0, rule) }
    }
}

/// The national public holidays of the four shipped jurisdictions, from the
/// statutes that fix them (regional holidays go in a profile's `extra_holidays`).
public enum PublicHolidays {
    public static let countries: Set<String> = ["BE", "DE", "FR", "NL"]

    /// Easter Sunday of `year` (the anonymous Gregorian computus), as a day ordinal.
    static func easter(_ year: Int) -> Int {
        let a = year % 19, b = year / 100, c = year % 100, d = b / 4, e = b % 4
        let f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30
        let i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7, m = (a + 11 * h + 22 * l) / 451
        let month = (h + l - 7 * m + 114) / 31, day = (h + l - 7 * m + 114) % 31 + 1
        return ISODay.ordinal(String(format: "%04d-%02d-%02d", year, month, day))!
    }

    /// The holidays of `country` in `year`, as ISO days.
    public static func days(country: String, year: Int) -> [String] {
        func fixed(_ month: Int, _ day: Int) -> String { String(format: "%04d-%02d-%02d", year, month, day) }
        let easter = easter(year)
        func fromEaster(_ offset: Int) -> String { ISODay.day(ordinal: easter + offset) }
        switch country {
        case "DE":
            // Federal: Einigungsvertrag Art. 2(2) (3 October); the rest by the laws of every Land.
            return [fixed(1, 1), fromEaster(-2), fromEaster(1), fixed(5, 1), fromEaster(39), fromEaster(50), fixed(10, 3), fixed(12, 25), fixed(12, 26)]
        case "NL":
            // Algemene termijnenwet art. 3: New Year, Easter Monday, Whit Monday, Christmas, Ascension, King's Day, 5 May.
            // King's Day is 27 April, or 26 April when the 27th is a Sunday.
            let kingsDay = ISODay.ordinal(fixed(4, 27)).map { ProcedureCalendar.weekday($0) == 6 } == true ? fixed(4, 26) : fixed(4, 27)
            return [fixed(1, 1), fromEaster(1), kingsDay, fixed(5, 5), fromEaster(39), fromEaster(50), fixed(12, 25), fixed(12, 26)]
        case "BE":
            // Arrêté royal du 18 avril 1974 / loi du 4 janvier 1974 relative aux jours fériés.
            return [fixed(1, 1), fromEaster(1), fixed(5, 1), fromEaster(39), fromEaster(50), fixed(7, 21), fixed(8, 15), fixed(11, 1), fixed(11, 11), fixed(12, 25)]
        case "FR":
            // Code du travail art. L3133-1.
            return [fixed(1, 1), fromEaster(1), fixed(5, 1), fixed(5, 8), fromEaster(39), fromEaster(50), fixed(7, 14), fixed(8, 15), fixed(11, 1), fixed(11, 11), fixed(12, 25)]
        default:
            return []
        }
    }

    public static func isHoliday(_ day: String, country: String) -> Bool {
        guard let (year, _, _) = ISODay.parts(day) else { return false }
        return days(country: country, year: year).contains(day)
    }
}

/// IBAN (ISO 13616) and BIC (ISO 9362) checks for payment details.
public enum IBAN {
    public static func isValid(_ text: String) -> Bool {
        let compact = text.filter { $0 != " " }.uppercased()
        guard (15...34).contains(compact.count), compact.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }),
              compact.prefix(2).allSatisfy(\.isLetter), compact.dropFirst(2).prefix(2).allSatisfy(\.isNumber) else { return false }
        let rearranged = compact.dropFirst(4) + compact.prefix(4)
        var remainder = 0
        for character in rearranged {
            let value = character.isNumber ? Int(String(character))! : Int(character.asciiValue! - 55)
            for digit in String(value) { remainder = (remainder * 10 + Int(String(digit))!) % 97 }
        }
        return remainder == 1
    }

    public static func isBIC(_ text: String) -> Bool {
        (text.count == 8 || text.count == 11) && text.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
            && text.prefix(6).allSatisfy(\.isLetter)
    }
}
