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
    /// A registration number without its spaces and punctuation: what the
    /// same-number rule compares ("HRB 12345" and "HRB-12345" are one number).
    /// PostgreSQL's `registration_key()` (migration 0022) is the same.
    public static func registrationKey(_ number: String) -> String {
        String(number.uppercased().unicodeScalars.filter { ("A"..."Z").contains($0) || ("0"..."9").contains($0) }.map(Character.init))
    }

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
    /// A natural person trading under their own name (a sole trader), whose name
    /// the public register withholds where the agency's procedure profile says so.
    public var naturalPerson: Bool

    public init(
        legalName: String, aliases: [String] = [], sector: String, stages: [Stage], markets: [Market] = [],
        country: String, registrationNumber: String? = nil, vatNumber: String? = nil, street: String? = nil,
        postalCode: String? = nil, city: String? = nil, website: String? = nil, email: String? = nil,
        phone: String? = nil, status: FacilitatorStatus = .active, notes: String = "", contacts: [ContactPoint] = [],
        naturalPerson: Bool = false
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
        self.naturalPerson = naturalPerson
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

    // The format checks work on UTF-8 bytes: an import checks a million rows, and
    // Character's Unicode properties made them the slowest part of it.

    static func isRegistrationNumber(_ s: String) -> Bool {
        let u = s.utf8
        guard let first = u.first, first.isASCIIAlphanumeric, u.count <= 40 else { return false }
        return u.allSatisfy { $0.isASCIIDigit || (0x41...0x5A).contains($0) || $0 == 0x20 || $0 == 0x2E || $0 == 0x2F || $0 == 0x2D }
    }

    static func isPostalCode(_ s: String) -> Bool {
        let u = s.utf8
        guard let first = u.first, first.isASCIIAlphanumeric, u.count <= 12 else { return false }
        return u.allSatisfy { $0.isASCIIAlphanumeric || $0 == 0x20 || $0 == 0x2D }
    }

    /// `local@domain.tld`: one @, something before it, a dotted domain without empty labels, no spaces.
    public static func isEmail(_ s: String) -> Bool {
        let u = s.utf8
        guard u.count <= 254, !u.contains(where: \.isASCIIWhitespace), let at = u.firstIndex(of: 0x40), at != u.startIndex else { return false }
        let domain = u[u.index(after: at)...]
        guard !domain.contains(0x40) else { return false }
        let labels = domain.split(separator: 0x2E, omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { !$0.isEmpty }
    }

    static func isPhone(_ s: String) -> Bool {
        var u = Substring(s).utf8
        guard u.count <= 30 else { return false }
        if u.first == 0x2B { u = u.dropFirst() }
        var digits = 0
        for b in u {
            if b.isASCIIDigit { digits += 1 } else if !(b == 0x20 || b == 0x28 || b == 0x29 || b == 0x2E || b == 0x2F || b == 0x2D) { return false }
        }
        return digits >= 5
    }

    static func isWebsite(_ s: String) -> Bool {
        let rest: Substring
        if s.hasPrefix("https://") { rest = s.dropFirst(8) } else if s.hasPrefix("http://") { rest = s.dropFirst(7) } else { return false }
        guard let first = rest.utf8.first, ![0x2F, 0x24, 0x2E, 0x3F, 0x23].contains(first), s.utf8.count <= 500 else { return false }
        let host = rest.utf8.prefix { $0 != 0x2F && $0 != 0x3F && $0 != 0x23 }
        return host.contains(0x2E) && !s.utf8.contains(where: \.isASCIIWhitespace)
    }
}

extension UInt8 {
    var isASCIIDigit: Bool { (0x30...0x39).contains(self) }
    var isASCIIAlphanumeric: Bool { isASCIIDigit || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self) }
    var isASCIIWhitespace: Bool { self == 0x20 || (0x09...0x0D).contains(self) }
}

private func collapseSpaces(_ s: String) -> String {
    // Most text is already tidy: no leading, trailing or doubled white space.
    var previousSpace = true
    var tidy = true
    for b in s.utf8 {
        let space = b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D
        if space && (previousSpace || b != 0x20) { tidy = false; break }
        previousSpace = space
    }
    if tidy && !previousSpace { return s }
    return s.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
}

extension String {
    var trimmed: String {
        guard let first = utf8.first, let last = utf8.last, first.isASCIIWhitespace || last.isASCIIWhitespace || first >= 0x80 || last >= 0x80
        else { return self }
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
