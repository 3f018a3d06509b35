import BarrierCore
import Foundation

/// Everything a letter says about its sender, addressee and subject, as it was
/// when the letter was approved. It is stored with the letter, so the letter
/// can be rendered again to the same bytes whatever happens to the registry.
public struct LetterSnapshot: Codable, Sendable, Equatable {
    public struct Agency: Codable, Sendable, Equatable {
        public var name: String
        public var street: String?
        public var postalCode: String?
        public var city: String?
        public var country: String
        public var email: String?
        public var phone: String?
        public var website: String?
        public var signatoryName: String?
        public var signatoryTitle: String?

        public init(name: String, street: String? = nil, postalCode: String? = nil, city: String? = nil, country: String,
                    email: String? = nil, phone: String? = nil, website: String? = nil,
                    signatoryName: String? = nil, signatoryTitle: String? = nil) {
            self.name = name; self.street = street; self.postalCode = postalCode; self.city = city; self.country = country
            self.email = email; self.phone = phone; self.website = website
            self.signatoryName = signatoryName; self.signatoryTitle = signatoryTitle
        }
    }

    public struct Supplier: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var tradingName: String?
        public var sector: String
        public var contactName: String?
        public var contactRole: String?
        public var street: String?
        public var postalCode: String?
        public var city: String?
        public var country: String
        public var email: String?
        public var registrationNumber: String?
        /// The sector's name per language where an administrator added the sector (the shipped
        /// sectors are named by the layout's labels); nil for those.
        public var sectorNames: [String: String]?

        public init(id: String, name: String, tradingName: String? = nil, sector: String, contactName: String? = nil,
                    contactRole: String? = nil, street: String? = nil, postalCode: String? = nil, city: String? = nil,
                    country: String, email: String? = nil, registrationNumber: String? = nil, sectorNames: [String: String]? = nil) {
            self.id = id; self.name = name; self.tradingName = tradingName; self.sector = sector
            self.contactName = contactName; self.contactRole = contactRole
            self.street = street; self.postalCode = postalCode; self.city = city; self.country = country
            self.email = email; self.registrationNumber = registrationNumber; self.sectorNames = sectorNames
        }

        /// `names`: a sector's names as the catalogue stores them (JSON), or nil.
        public static func sectorNames(_ names: String?) -> [String: String]? {
            names.flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) }
        }

        /// A letter goes by post, so it needs somewhere to go.
        public var hasPostalAddress: Bool {
            !(street ?? "").isEmpty && !(city ?? "").isEmpty
        }
    }

    /// The letter itself. Dates are ISO 8601 days (`2026-11-29`).
    public struct Letter: Codable, Sendable, Equatable {
        public var reference: String?
        public var date: String
        public var deadline: String
        public var responseDays: Int

        public init(reference: String?, date: String, deadline: String, responseDays: Int) {
            self.reference = reference; self.date = date; self.deadline = deadline; self.responseDays = responseDays
        }
    }

    /// The letter a reminder follows up.
    public struct Original: Codable, Sendable, Equatable {
        public var reference: String
        public var date: String
        public var deadline: String

        public init(reference: String, date: String, deadline: String) {
            self.reference = reference; self.date = date; self.deadline = deadline
        }
    }

    /// The licensing action a warning, notice of intent or decision notice is about.
    public struct Action: Codable, Sendable, Equatable {
        public var type: String
        public var legalBasis: String
        public var rationale: String
        public var conditions: String?
        public var amountMinor: Int64?
        public var currency: String?
        public var effectiveFrom: String?
        public var effectiveTo: String?
        public var responseDays: Int?
        public var appealDays: Int?
        public var decidedOn: String?
        /// Why a harsher step than the ladder suggests was taken.
        public var ladderJustification: String?

        public init(type: String, legalBasis: String, rationale: String, conditions: String? = nil, amountMinor: Int64? = nil,
                    currency: String? = nil, effectiveFrom: String? = nil, effectiveTo: String? = nil,
                    responseDays: Int? = nil, appealDays: Int? = nil, decidedOn: String? = nil) {
            self.type = type; self.legalBasis = legalBasis; self.rationale = rationale; self.conditions = conditions
            self.amountMinor = amountMinor; self.currency = currency; self.effectiveFrom = effectiveFrom
            self.effectiveTo = effectiveTo; self.responseDays = responseDays; self.appealDays = appealDays
            self.decidedOn = decidedOn
        }
    }

    /// The law the letter states, taken from the agency's procedure profile in the
    /// letter's language when it was drafted; absent in letters written before profiles.
    public struct Law: Codable, Sendable, Equatable {
        /// Which profile: `shipped:DE 1a2b…` or `v3 1a2b…`.
        public var profile: String
        public var competence: String
        public var dataProtection: String
        public var fileAccess: String?
        public var postalSecrecy: String?
        public var action: ActionLaw?
        public var remedy: RemedyLaw?
        public var payment: ProcedureProfile.FinePayment?

        public struct ActionLaw: Codable, Sendable, Equatable {
            public var legalBasis: String
            public var competence: String
            public var effect: String
            public var suspensive: Bool
        }

        public struct RemedyLaw: Codable, Sendable, Equatable {
            public var name: String
            public var body: String
            public var address: String
            public var form: String
            public var period: ProcedureProfile.Period
            public var startsFrom: ProcedureProfile.PeriodStart
            /// The last day, when the period runs from the decision's date (the letter's date).
            public var endsOn: String?
            public var next: FurtherRemedy?
        }

        public struct FurtherRemedy: Codable, Sendable, Equatable {
            public var name: String
            public var body: String
            public var address: String
            public var period: ProcedureProfile.Period
        }
    }

    /// What the record says that a licensing letter cites: the earlier letter that
    /// reached the supplier, the signals relied on, the notice of intent, the
    /// supplier's response and how it was weighed.
    public struct Record: Codable, Sendable, Equatable {
        public struct Notice: Codable, Sendable, Equatable {
            public var reference: String
            public var date: String
            public var reachedOn: String

            public init(reference: String, date: String, reachedOn: String) { self.reference = reference; self.date = date; self.reachedOn = reachedOn }
        }

        public struct SignalLine: Codable, Sendable, Equatable {
            public var date: String
            public var type: String
            public var summary: String

            public init(date: String, type: String, summary: String) { self.date = date; self.type = type; self.summary = summary }
        }

        public struct IntentNotice: Codable, Sendable, Equatable {
            public var reference: String
            public var date: String
            public var deliveredOn: String?
            public var deadline: String

            public init(reference: String, date: String, deliveredOn: String?, deadline: String) {
                self.reference = reference; self.date = date; self.deliveredOn = deliveredOn; self.deadline = deadline
            }
        }

        public struct Response: Codable, Sendable, Equatable {
            public var receivedOn: String
            public var summary: String

            public init(receivedOn: String, summary: String) { self.receivedOn = receivedOn; self.summary = summary }
        }

        public var earlier: Notice?
        public var signals: [SignalLine]
        public var noticeOfIntent: IntentNotice?
        public var response: Response?
        public var consideration: String?

        public init(earlier: Notice? = nil, signals: [SignalLine] = [], noticeOfIntent: IntentNotice? = nil, response: Response? = nil,
                    consideration: String? = nil) {
            self.earlier = earlier; self.signals = signals; self.noticeOfIntent = noticeOfIntent; self.response = response
            self.consideration = consideration
        }
    }

    /// A referral's addressee (the authority the profile names as competent) and the
    /// file it encloses: the agency's letters to the supplier.
    public struct Referral: Codable, Sendable, Equatable {
        public struct FileLetter: Codable, Sendable, Equatable {
            public var kind: LetterKind
            public var reference: String
            public var date: String
            public var reachedOn: String?

            public init(kind: LetterKind, reference: String, date: String, reachedOn: String?) {
                self.kind = kind; self.reference = reference; self.date = date; self.reachedOn = reachedOn
            }
        }

        public var body: String
        public var address: String
        public var file: [FileLetter]

        public init(body: String, address: String, file: [FileLetter]) { self.body = body; self.address = address; self.file = file }
    }

    public var kind: LetterKind
    public var language: LetterLanguage
    public var agency: Agency
    public var supplier: Supplier
    public var letter: Letter
    public var original: Original?
    public var action: Action?
    public var law: Law?
    public var record: Record?
    public var referral: Referral?

    public init(kind: LetterKind, language: LetterLanguage, agency: Agency, supplier: Supplier, letter: Letter,
                original: Original? = nil, action: Action? = nil, law: Law? = nil, record: Record? = nil, referral: Referral? = nil) {
        self.kind = kind; self.language = language; self.agency = agency; self.supplier = supplier
        self.letter = letter; self.original = original; self.action = action; self.law = law; self.record = record
        self.referral = referral
    }

    /// The stored form: JSON with sorted keys, so equal snapshots are equal bytes.
    public func encoded() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    public static func decode(_ json: String) throws -> LetterSnapshot {
        try JSONDecoder().decode(LetterSnapshot.self, from: Data(json.utf8))
    }
}

extension LetterSnapshot.Law {
    /// The law a letter of `kind` in `language` states under `profile`, for an action of
    /// `actionType` (nil: an outreach letter) to a supplier of a `postal` sector (the
    /// catalogue says which) or not, dated `letterDate`.
    /// Every text the letter needs must be in the profile in that language: else the
    /// missing ones are returned by their JSON paths and no letter can be written.
    public static func resolve(_ profile: ProcedureProfile, label: String, kind: LetterKind, language: LetterLanguage,
                               actionType: LicensingActionType?, postal postalSector: Bool, letterDate: String) -> Result<Self, ValidationFailure> {
        // The postal-secrecy caveat answers the supplier's duty; a referral goes to an authority.
        let postal = kind != .referral && postalSector
        let missing = profile.missingTexts(for: kind, language: language, action: actionType, postal: postal)
        guard missing.isEmpty else {
            return .failure(ValidationFailure(missing.map {
                FieldError(field: "procedure_profile", message: "has no text for \($0); an admin adds it to the agency's procedure profile")
            }))
        }
        let lang = language.rawValue
        var law = Self(profile: label, competence: profile.competence[lang]!, dataProtection: profile.dataProtection[lang]!)
        if kind == .noticeOfIntent { law.fileAccess = profile.fileAccess[lang] }
        if postal { law.postalSecrecy = profile.postalSecrecy[lang] }
        if let actionType, let rule = profile.rule(for: actionType) {
            law.action = ActionLaw(legalBasis: rule.legalBasis[lang]!, competence: rule.competence[lang]!, effect: rule.effect[lang]!,
                                   suspensive: rule.suspensiveEffect)
            // The remedy is stated where a decision is notified, not in the notice announcing one.
            if kind != .noticeOfIntent, let remedy = profile.remedies[rule.remedy] {
                let endsOn = remedy.periodStarts == .decisionDate ? ProcedureCalendar.end(of: remedy.period, from: letterDate, profile.deadlines) : nil
                let next = remedy.next.flatMap { profile.remedies[$0] }.map {
                    FurtherRemedy(name: $0.name[lang] ?? "", body: $0.body, address: $0.address, period: $0.period)
                }
                law.remedy = RemedyLaw(name: remedy.name[lang]!, body: remedy.body, address: remedy.address, form: remedy.form[lang]!,
                                       period: remedy.period, startsFrom: remedy.periodStarts, endsOn: endsOn,
                                       next: next?.name.isEmpty == false ? next : nil)
            }
            if actionType == .fine, kind == .decisionNotice { law.payment = profile.finePayment }
        }
        return .success(law)
    }
}
