/// A partial change to a supplier: each field that is set replaces the stored one;
/// for the optional fields `.some(nil)` clears it. Creation is a patch applied to
/// an empty draft, so both paths validate identically.
public struct FacilitatorPatch: Equatable, Sendable {
    public var legalName: String?
    public var aliases: [String]?
    public var sector: String?
    public var stages: [Stage]?
    public var markets: [Market]?
    public var country: String?
    public var registrationNumber: String??
    public var vatNumber: String??
    public var street: String??
    public var postalCode: String??
    public var city: String??
    public var website: String??
    public var email: String??
    public var phone: String??
    public var status: FacilitatorStatus?
    public var notes: String?
    public var contacts: [ContactPoint]?
    public var naturalPerson: Bool?

    public init() {}

    /// The fields a create request must name.
    public var missingForCreate: [FieldError] {
        var e = FieldErrors()
        if legalName == nil { e.add("legal_name", "is required") }
        if sector == nil { e.add("sector", "is required") }
        if stages == nil { e.add("stages", "is required") }
        if country == nil { e.add("country", "is required") }
        return e.errors
    }

    public var isEmpty: Bool { self == FacilitatorPatch() }

    /// Everything wrong with registering this patch as a new supplier, one
    /// entry per field: a missing field is not also told it is empty.
    public func problemsForCreate(knownSectors: Set<String>) -> [FieldError] {
        let missing = missingForCreate
        let missingFields = Set(missing.map(\.field))
        return missing + applied(to: Self.blank).normalised().problems(knownSectors: knownSectors)
            .filter { !missingFields.contains($0.field) }
    }

    public func applied(to base: FacilitatorDraft) -> FacilitatorDraft {
        var d = base
        if let legalName { d.legalName = legalName }
        if let aliases { d.aliases = aliases }
        if let sector { d.sector = sector }
        if let stages { d.stages = stages }
        if let markets { d.markets = markets }
        if let country { d.country = country }
        if let registrationNumber { d.registrationNumber = registrationNumber }
        if let vatNumber { d.vatNumber = vatNumber }
        if let street { d.street = street }
        if let postalCode { d.postalCode = postalCode }
        if let city { d.city = city }
        if let website { d.website = website }
        if let email { d.email = email }
        if let phone { d.phone = phone }
        if let status { d.status = status }
        if let notes { d.notes = notes }
        if let contacts { d.contacts = contacts }
        if let naturalPerson { d.naturalPerson = naturalPerson }
        return d
    }

    /// An empty draft that a create patch fills in.
    public static let blank = FacilitatorDraft(legalName: "", sector: "", stages: [], country: "")
}

/// How alike two supplier names must be (pg_trgm similarity, 0…1) to be flagged
/// as a possible duplicate.
public enum DuplicatePolicy {
    public static let nameSimilarity = 0.5
}
