/// A contact point at a supplier: the person a letter or a call goes to.
public struct ContactPoint: Codable, Equatable, Sendable {
    public var name: String
    public var role: String?
    public var email: String?
    public var phone: String?

    public init(name: String, role: String? = nil, email: String? = nil, phone: String? = nil) {
        self.name = name
        self.role = role
        self.email = email
        self.phone = phone
    }
}

/// Everything a user can say about a supplier, as one value: what the API's
/// create and PATCH, the CSV import and the CLI all validate the same way.
public struct FacilitatorDraft: Equatable, Sendable {
    public var legalName: String
    public var aliases: [String]
    public var sector: String
    public var stages: [Stage]
    public var markets: [Market]
    public var country: String
    public var registrationNumber: String?
    public var vatNumber: String?
    public var street: String?
    public var postalCode: String?
    public var city: String?
    public var website: String?
    public var email: String?
    public var phone: String?
    public var status: FacilitatorStatus
    public var notes: String
    public var contacts: [ContactPoint]

    public init(
        legalName: String, aliases: [String] = [], sector: String, stages: [Stage], markets: [Market] = [],
        country: String, registrationNumber: String? = nil, vatNumber: String? = nil, street: String? = nil,
        postalCode: String? = nil, city: String? = nil, website: String? = nil, email: String? = nil,
        phone: String? = nil, status: FacilitatorStatus = .active, notes: String = "", contacts: [ContactPoint] = []
    ) {
        self.legalName = legalName
        self.aliases = aliases
        self.sector = sector
        self.stages = stages
        self.markets = markets
        self.country = country
        self.registrationNumber = registrationNumber
        self.vatNumber = vatNumber
        self.street = street
        self.postalCode = postalCode
        self.city = city
        self.website = website
        self.email = email
        self.phone = phone
        self.status = status
        self.notes = notes
        self.contacts = contacts
    }

    /// The stored form: trimmed text, empty optional text as nil, upper-case codes,
    /// registration and VAT numbers without cosmetic differences, stages and
    /// markets in canonical order without repeats, aliases without repeats.
    public func normalised() -> FacilitatorDraft {
        var d = self
        d.legalName = collapseSpaces(legalName)
        var seen: Set<String> = [d.legalName.lowercased()]
        d.aliases = aliases.map(collapseSpaces).filter { !$0.isEmpty && seen.insert($0.lowercased()).inserted }
        d.sector = sector.trimmed
        d.stages = Array(Set(stages)).sorted()
        d.markets = Array(Set(markets)).sorted()
        d.country = country.trimmed.uppercased()
        d.registrationNumber = registrationNumber.map { collapseSpaces($0).uppercased() }.nilIfEmpty
        d.vatNumber = vatNumber.map(VATNumber.normalise).nilIfEmpty
        d.street = street.map(collapseSpaces).nilIfEmpty
        d.postalCode = postalCode.map(collapseSpaces).map { $0.uppercased() }.nilIfEmpty
        d.city = city.map(collapseSpaces).nilIfEmpty
        d.website = website?.trimmed.nilIfEmpty
        d.email = email?.trimmed.lowercased().nilIfEmpty
        d.phone = phone.map(collapseSpaces).nilIfEmpty
        d.notes = notes.trimmed
        d.contacts = contacts.map {
            ContactPoint(
                name: collapseSpaces($0.name), role: $0.role.map(collapseSpaces).nilIfEmpty,
                email: $0.email?.trimmed.lowercased().nilIfEmpty, phone: $0.phone.map(collapseSpaces).nilIfEmpty)
        }
        return d
    }

    /// Every rule a supplier record must meet, checked on the normalised draft.
    /// `sectors` is the current content of the sectors table.
    public func problems(knownSectors sectors: Set<String>) -> [FieldError] {
        var e = FieldErrors()
        if legalName.isEmpty {
            e.add("legal_name", "is required")
        } else if legalName.count > 300 {
            e.add("legal_name", "must be at most 300 characters")
        }
        if aliases.count > 50 { e.add("aliases", "must list at most 50 names") }
        for (i, alias) in aliases.enumerated() {
            if alias.count > 300 { e.add("aliases[\(i)]", "must be at most 300 characters") }
            if alias.contains("|") { e.add("aliases[\(i)]", "must not contain '|' (it separates aliases in CSV files)") }
        }
        if sector.isEmpty {
            e.add("sector", "is required")
        } else if !sectors.contains(sector) {
            e.add("sector", "'\(sector)' is not a sector; use one of \(sectors.sorted().joined(separator: ", "))")
        }
        if stages.isEmpty { e.add("stages", "must name at least one stage") }
        if country.isEmpty {
            e.add("country", "is required")
        } else if !Countries.isKnown(country) {
            e.add("country", "'\(country)' is not an ISO 3166-1 alpha-2 country code")
        }
        if let reg = registrationNumber, !Self.isRegistrationNumber(reg) {
            e.add("registration_number", "must be 1 to 40 letters, digits, spaces, dots, slashes or dashes, starting with a letter or digit")
        }
        if let vat = vatNumber, Countries.isKnown(country), let why = VATNumber.problem(with: vat, country: country) {
            e.add("vat_number", why)
        }
        if let street, street.count > 300 { e.add("street", "must be at most 300 characters") }
        if let postalCode, !Self.isPostalCode(postalCode) {
            e.add("postal_code", "must be 1 to 12 letters, digits, spaces or dashes")
        }
        if let city, city.count > 120 { e.add("city", "must be at most 120 characters") }
        if let website, !Self.isWebsite(website) { e.add("website", "must be an http(s) URL such as https://example.eu") }
        if let email, !Self.isEmail(email) { e.add("email", "must be an e-mail address such as info@example.eu") }
        if let phone, !Self.isPhone(phone) { e.add("phone", "must be a phone number such as +31 20 123 4567") }
        if notes.count > 10_000 { e.add("notes", "must be at most 10000 characters") }
        if contacts.count > 50 { e.add("contacts", "must list at most 50 contact points") }
        for (i, c) in contacts.enumerated() {
            if c.name.isEmpty { e.add("contacts[\(i)].name", "is required") }
            if c.name.count > 200 { e.add("contacts[\(i)].name", "must be at most 200 characters") }
            if let role = c.role, role.count > 200 { e.add("contacts[\(i)].role", "must be at most 200 characters") }
            if let email = c.email, !Self.isEmail(email) { e.add("contacts[\(i)].email", "must be an e-mail address") }
            if let phone = c.phone, !Self.isPhone(phone) { e.add("contacts[\(i)].phone", "must be a phone number") }
        }
        return e.errors
    }

    static func isRegistrationNumber(_ s: String) -> Bool {
        guard let first = s.first, first.isASCII, first.isLetter || first.isNumber, s.count <= 40 else { return false }
        return s.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber || " ./-".contains($0)) }
    }

    static func isPostalCode(_ s: String) -> Bool {
        guard let first = s.first, first.isASCII, first.isLetter || first.isNumber, s.count <= 12 else { return false }
        return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == " " || $0 == "-") }
    }

    public static func isEmail(_ s: String) -> Bool {
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, s.count <= 254, !s.contains(where: \.isWhitespace) else { return false }
        let domain = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return domain.count >= 2 && domain.allSatisfy { !$0.isEmpty }
    }

    static func isPhone(_ s: String) -> Bool {
        let digits = s.filter(\.isNumber).count
        let body = s.hasPrefix("+") ? s.dropFirst() : Substring(s)
        return s.count <= 30 && digits >= 5 && body.allSatisfy { $0.isASCII && ($0.isNumber || " ()./-".contains($0)) }
    }

    static func isWebsite(_ s: String) -> Bool {
        let rest: Substring
        if s.hasPrefix("https://") { rest = s.dropFirst(8) } else if s.hasPrefix("http://") { rest = s.dropFirst(7) } else { return false }
        guard let first = rest.first, !"/$.?#".contains(first), s.count <= 500 else { return false }
        let host = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return host.contains(".") && !s.contains(where: \.isWhitespace)
    }
}

private func collapseSpaces(_ s: String) -> String {
    s.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}

extension Optional where Wrapped == String {
    var nilIfEmpty: String? {
        switch self {
        case .some(let s) where !s.isEmpty: return s
        default: return nil
        }
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
