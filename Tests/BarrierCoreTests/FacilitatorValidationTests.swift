import Testing
@testable import BarrierCore

@Suite("Supplier validation")
struct FacilitatorValidationTests {
    /// The sectors table as a fresh database holds it (Core reads whatever the catalogue says).
    static let sectors: Set<String> = [
        "courier", "postal_service", "parcel_delivery", "food_delivery", "parcel_locker_operator", "stealth_packaging",
        "internet_service_provider", "hosting_provider", "encrypted_messaging", "social_media", "online_marketplace",
        "cryptocurrency_exchange", "crypto_atm_operator", "payment_service", "other",
    ]

    func valid() -> FacilitatorDraft {
        FacilitatorDraft(
            legalName: "Nordwind Paketdienst GmbH", aliases: ["Nordwind"], sector: "parcel_delivery", stages: [.shipping],
            markets: [.drugs], country: "DE", registrationNumber: "HRB 12345", vatNumber: "DE123456789",
            street: "Hafenstraße 12", postalCode: "20457", city: "Hamburg", website: "https://nordwind.example",
            email: "info@nordwind.example", phone: "+49 40 123456",
            contacts: [ContactPoint(name: "Anna Weber", role: "Security", email: "a.weber@nordwind.example", phone: "+49 40 1234")])
    }

    @Test func aCompleteRecordIsValid() {
        #expect(valid().normalised().problems(knownSectors: Self.sectors) == [])
    }

    /// Sets one field of a valid draft to `value`.
    func broken(_ field: String, _ given: String) -> FacilitatorDraft {
        var d = valid()
        let value = given == "LONG" ? String(repeating: "n", count: 10_001) : given
        switch field {
        case "legal_name": d.legalName = value
        case "aliases[0]": d.aliases = [value]
        case "sector": d.sector = value
        case "stages": d.stages = []
        case "country": d.country = value
        case "registration_number": d.registrationNumber = value
        case "vat_number": d.vatNumber = value
        case "postal_code": d.postalCode = value
        case "website": d.website = value
        case "email": d.email = value
        case "phone": d.phone = value
        case "notes": d.notes = value
        case "contacts[0].name": d.contacts = [ContactPoint(name: value)]
        case "contacts[0].email": d.contacts = [ContactPoint(name: "A", email: value)]
        case "contacts[0].phone": d.contacts = [ContactPoint(name: "A", phone: value)]
        default: Issue.record("no such field \(field)")
        }
        return d
    }

    /// Each rule, one bad value at a time: the field that must be named, and the bad value.
    @Test(arguments: [
        ("legal_name", ""), ("legal_name", "LONG"),
        ("aliases[0]", "A|B"), ("sector", ""), ("sector", "bicycle_repair"), ("stages", ""),
        ("country", ""), ("country", "XX"), ("country", "de"),
        ("registration_number", "#123"), ("registration_number", String(repeating: "1", count: 41)),
        ("vat_number", "DE12345678"), ("vat_number", "FR12345678901"),
        ("postal_code", "#20457"), ("website", "nordwind.example"), ("website", "ftp://nordwind.example"),
        ("email", "info.nordwind.example"), ("email", "info@nordwind"), ("phone", "call us"), ("phone", "+49"),
        ("notes", "LONG"),
        ("contacts[0].name", ""), ("contacts[0].email", "nope"), ("contacts[0].phone", "x"),
    ])
    func eachRuleNamesItsField(field: String, value: String) {
        let problems = broken(field, value).problems(knownSectors: Self.sectors)
        #expect(problems.map(\.field) == [field])
        #expect(problems.allSatisfy { !$0.message.isEmpty })
    }

    @Test func everyBrokenFieldIsListedAtOnce() {
        var d = valid()
        d.legalName = ""
        d.sector = "nope"
        d.country = "ZZ"
        d.email = "bad"
        d.stages = []
        let fields = Set(d.problems(knownSectors: Self.sectors).map(\.field))
        #expect(fields == ["legal_name", "sector", "country", "email", "stages"])
    }

    @Test func normalisingTidiesWhatUsersType() {
        var d = valid()
        d.legalName = "  Nordwind   Paketdienst GmbH "
        d.aliases = ["NORDWIND paketdienst gmbh", "nordwind", "NW Paket", "nw paket", " "]
        d.country = " de"
        d.registrationNumber = " hrb  12345 "
        d.vatNumber = "de 123.456-789"
        d.stages = [.shipping, .selling, .shipping]
        d.email = " Info@Nordwind.Example "
        d.website = "  "
        let n = d.normalised()
        #expect(n.legalName == "Nordwind Paketdienst GmbH")
        #expect(n.aliases == ["nordwind", "NW Paket"])  // the legal name and repeats are dropped, case-insensitively
        #expect(n.country == "DE")
        #expect(n.registrationNumber == "HRB 12345")
        #expect(n.vatNumber == "DE123456789")
        #expect(n.stages == [.selling, .shipping])
        #expect(n.email == "info@nordwind.example")
        #expect(n.website == nil)
        #expect(n.problems(knownSectors: Self.sectors) == [])
    }

    @Test(arguments: [
        ("AT", "ATU12345678", true), ("AT", "AT12345678", false),
        ("BE", "BE0123456789", true), ("BE", "BE2123456789", false),
        ("DE", "DE123456789", true), ("DE", "DE1234567890", false),
        ("FR", "FRXX123456789", true), ("FR", "FRIO123456789", false),
        ("NL", "NL123456789B01", true), ("NL", "NL123456789", false),
        ("IE", "IE1234567T", true), ("IE", "IE1234567TW", false),
        ("ES", "ESX1234567X", true), ("IT", "IT12345678901", true), ("PL", "PL1234567890", true),
        ("GR", "EL123456789", true), ("GR", "GR123456789", false),
        ("SE", "SE123456789012", true), ("LU", "LU12345678", true),
        ("US", "US12AB", true), ("DE", "FR12345678901", false),
    ])
    func vatNumbersFollowTheirCountrysFormat(country: String, vat: String, ok: Bool) {
        #expect((VATNumber.problem(with: vat, country: country) == nil) == ok)
    }

    @Test func countriesAreTheISOList() {
        #expect(Countries.codes.count == 249)
        #expect(Countries.isKnown("NL") && Countries.isKnown("GR") && !Countries.isKnown("EL") && !Countries.isKnown("UK"))
    }

    @Test func createNeedsTheRequiredFieldsAndAPatchKeepsTheRest() {
        #expect(Set(FacilitatorPatch().missingForCreate.map(\.field)) == ["legal_name", "sector", "stages", "country"])
        var patch = FacilitatorPatch()
        patch.city = .some(nil)
        patch.notes = "Moved"
        let after = patch.applied(to: valid())
        #expect(after.city == nil && after.notes == "Moved" && after.legalName == valid().legalName)
    }

    @Test func rolesDecideWritingAndAuditReading() {
        #expect(Role.admin.canWrite && Role.officer.canWrite && !Role.auditor.canWrite)
        #expect(Role.admin.canReadAudit && Role.auditor.canReadAudit && !Role.officer.canReadAudit)
    }
}
