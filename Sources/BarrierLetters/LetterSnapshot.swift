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

        public init(id: String, name: String, tradingName: String? = nil, sector: String, contactName: String? = nil,
                    contactRole: String? = nil, street: String? = nil, postalCode: String? = nil, city: String? = nil,
                    country: String, email: String? = nil, registrationNumber: String? = nil) {
            self.id = id; self.name = name; self.tradingName = tradingName; self.sector = sector
            self.contactName = contactName; self.contactRole = contactRole
            self.street = street; self.postalCode = postalCode; self.city = city; self.country = country
            self.email = email; self.registrationNumber = registrationNumber
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

        public init(type: String, legalBasis: String, rationale: String, conditions: String? = nil, amountMinor: Int64? = nil,
                    currency: String? = nil, effectiveFrom: String? = nil, effectiveTo: String? = nil,
                    responseDays: Int? = nil, appealDays: Int? = nil, decidedOn: String? = nil) {
            self.type = type; self.legalBasis = legalBasis; self.rationale = rationale; self.conditions = conditions
            self.amountMinor = amountMinor; self.currency = currency; self.effectiveFrom = effectiveFrom
            self.effectiveTo = effectiveTo; self.responseDays = responseDays; self.appealDays = appealDays
            self.decidedOn = decidedOn
        }
    }

    public var kind: LetterKind
    public var language: LetterLanguage
    public var agency: Agency
    public var supplier: Supplier
    public var letter: Letter
    public var original: Original?
    public var action: Action?

    public init(kind: LetterKind, language: LetterLanguage, agency: Agency, supplier: Supplier, letter: Letter,
                original: Original? = nil, action: Action? = nil) {
        self.kind = kind; self.language = language; self.agency = agency; self.supplier = supplier
        self.letter = letter; self.original = original; self.action = action
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
