import BarrierCore
import Foundation
import Testing

@Suite("Procedure profiles: counting periods, holidays and the profile's own rules")
struct ProcedureProfileTests {
    static func rule(_ country: String?, roll: Bool = true, extra: [String] = []) -> ProcedureProfile.DeadlineRule {
        .init(rollToWorkingDay: roll, saturdayIsRestDay: true, holidays: country, extraHolidays: extra, source: "test")
    }

    /// (country, start, period, unit, the last day as the law counts it)
    static let periods: [(String?, String, Int, ProcedureProfile.PeriodUnit, String)] = [
        // A first letter dated 2 December 2026 with 30 days ends on New Year's Day, a Friday: Monday 4 January everywhere.
        ("NL", "2026-12-02", 30, .days, "2027-01-04"), ("DE", "2026-12-02", 30, .days, "2027-01-04"),
        ("BE", "2026-12-02", 30, .days, "2027-01-04"), ("FR", "2026-12-02", 30, .days, "2027-01-04"),
        // Without holidays only the weekend moves it.
        (nil, "2026-12-02", 30, .days, "2027-01-01"),
        // Good Friday 2027 (26 March) is a holiday in Germany only; Easter Monday follows.
        ("DE", "2027-03-12", 14, .days, "2027-03-30"), ("NL", "2027-03-12", 14, .days, "2027-03-26"),
        ("FR", "2027-03-12", 14, .days, "2027-03-26"), ("BE", "2027-03-12", 14, .days, "2027-03-26"),
        // National days: King's Day (Tuesday 27 April 2027), 5 May, 3 October, 14 July, 21 July, 8 May.
        ("NL", "2027-04-13", 2, .weeks, "2027-04-28"), ("DE", "2027-04-13", 2, .weeks, "2027-04-27"),
        ("NL", "2026-04-21", 2, .weeks, "2026-05-06"), ("DE", "2025-09-19", 2, .weeks, "2025-10-06"),
        ("FR", "2026-06-30", 2, .weeks, "2026-07-15"), ("BE", "2026-07-07", 2, .weeks, "2026-07-22"),
        ("FR", "2026-04-24", 2, .weeks, "2026-05-11"), ("BE", "2026-04-24", 2, .weeks, "2026-05-08"),
        // Ascension (14 May 2026) and Whit Monday (25 May 2026) in all four.
        ("DE", "2026-04-30", 2, .weeks, "2026-05-15"), ("BE", "2026-05-11", 2, .weeks, "2026-05-26"),
        // Months keep the day, or end on the last day of a shorter month, then move off the weekend.
        ("DE", "2026-01-31", 1, .months, "2026-03-02"), (nil, "2024-01-31", 1, .months, "2024-02-29"),
        ("FR", "2026-11-30", 2, .months, "2027-02-01"), ("NL", "2026-11-19", 6, .weeks, "2026-12-31"),
        // Christmas: 25 and 26 December in Germany and the Netherlands, only the 25th in Belgium and France.
        ("DE", "2026-12-11", 2, .weeks, "2026-12-28"), ("BE", "2030-12-12", 2, .weeks, "2030-12-26"),
        ("DE", "2030-12-12", 2, .weeks, "2030-12-27"), ("FR", "2030-12-12", 2, .weeks, "2030-12-26"),
    ]

    @Test("a period ends where the law says, moved off rest days and each country's holidays")
    func periods() {
        for (country, start, count, unit, expected) in Self.periods {
            let end = ProcedureCalendar.end(of: .init(count: count, unit: unit), from: start, Self.rule(country))
            #expect(end == expected, "\(count) \(unit) from \(start) in \(country ?? "no country")")
        }
    }

    @Test("where the law does not move a deadline it stays on the weekend; a regional holiday moves it")
    func rules() {
        #expect(ProcedureCalendar.end(of: .init(count: 30, unit: .days), from: "2026-12-02", Self.rule("DE", roll: false)) == "2027-01-01")
        // Corpus Christi (4 June 2026) in Bavaria, given as an extra holiday.
        #expect(ProcedureCalendar.deadline("2026-06-04", Self.rule("DE")) == "2026-06-04")
        #expect(ProcedureCalendar.deadline("2026-06-04", Self.rule("DE", extra: ["2026-06-04"])) == "2026-06-05")
        for (year, easterMonday) in [(2024, "2024-04-01"), (2025, "2025-04-21"), (2026, "2026-04-06"), (2027, "2027-03-29"), (2038, "2038-04-26")] {
            for country in ["BE", "DE", "FR", "NL"] {
                #expect(PublicHolidays.days(country: country, year: year).contains(easterMonday), "\(country) \(year)")
            }
        }
    }

    @Test("a letter's deadline: 30 days from 2 December 2026 is Monday 4 January 2027, and the letter counts 33 days")
    func letterDeadline() throws {
        let rolled = try LetterDeadline.resolve(today: "2026-12-02", requested: nil, responseDays: 30, rule: Self.rule("NL")).get()
        #expect(rolled.day == "2027-01-04" && rolled.days == 33)
        let asked = try LetterDeadline.resolve(today: "2026-12-02", requested: "2026-12-26", responseDays: 30, rule: Self.rule("DE")).get()
        #expect(asked.day == "2026-12-28")
        let plain = try LetterDeadline.resolve(today: "2026-12-02", requested: nil, responseDays: 30).get()
        #expect(plain.day == "2027-01-01")
    }

    static func valid() -> ProcedureProfile {
        let all: (String) -> LocalizedText = { text in ["en": text, "fr": text, "nl": text, "de": text] }
        let rule = ProcedureProfile.ActionRule(legalBasis: all("Test Act s. 12."), competence: all("We may fine."), suspensiveEffect: false,
                                               effect: all("An objection does not suspend the decision."), remedy: "objection", source: "Test Act s. 13")
        return ProcedureProfile(
            jurisdiction: "NL", name: "Test", reviewNote: "Reviewed by the test.", competence: all("We inform."),
            actions: ["warning": rule, "conditions": nil, "fine": rule, "suspension": nil, "revocation": nil],
            remedies: ["objection": .init(name: all("objection"), body: "the agency", address: "Street 1", period: .init(count: 6, unit: .weeks),
                                          periodStarts: .delivery, form: all("In writing."), next: "court", source: "Awb 6:7"),
                       "court": .init(name: all("appeal"), body: "the court", address: "Street 2", period: .init(count: 6, unit: .weeks),
                                      periodStarts: .delivery, form: all("In writing."), next: nil, source: "Awb 8:1")],
            deadlines: Self.rule("NL"), publication: .init(naturalPersons: false, source: "GDPR 5(1)(c)"),
            finePayment: .init(beneficiary: "Test", iban: "NL91 ABNA 0417 1643 00", bic: "ABNANL2A", days: 30),
            dataProtection: all("Your data."), fileAccess: all("You may see the file."), postalSecrecy: all("Postal secrecy holds."),
            referral: nil, recordYears: 5)
    }

    @Test("a profile that breaks a rule names each field by its path")
    func problems() {
        #expect(Self.valid().problems().isEmpty)
        #expect(Self.valid().competentTypes == [.warning, .fine])
        let cases: [(String, (inout ProcedureProfile) -> Void)] = [
            ("actions.fine.remedy", { $0.actions["fine"] = .some(.init(legalBasis: ["en": "x"], competence: ["en": "x"], suspensiveEffect: true, effect: ["en": "x"], remedy: "nowhere", source: "s")) }),
            ("actions.levy", { $0.actions["levy"] = .some(nil) }),
            ("remedies.objection.period.count", { $0.remedies["objection"]!.period = .init(count: 13, unit: .months) }),
            ("remedies.court.period.count", { $0.remedies["court"]!.period = .init(count: 0, unit: .days) }),
            ("remedies.court.next", { $0.remedies["court"]!.next = "court" }),
            ("fine_payment.iban", { $0.finePayment!.iban = "NL91 ABNA 0417 1643 01" }),
            ("fine_payment", { $0.finePayment = nil }),
            ("competence.es", { $0.competence["es"] = "Informamos." }),
            ("data_protection", { $0.dataProtection = ["en": "  "] }),
            ("deadlines.holidays", { $0.deadlines.holidays = "XX" }),
            ("deadlines.extra_holidays[0]", { $0.deadlines.extraHolidays = ["2026-02-30"] }),
            ("jurisdiction", { $0.jurisdiction = "Neverland" }),
            ("record_years", { $0.recordYears = 0 }),
        ]
        for (field, change) in cases {
            var profile = Self.valid()
            change(&profile)
            #expect(profile.problems().map(\.field) == [field], "\(field): \(profile.problems())")
        }
        // Without a fine power no payment details are needed.
        var warnOnly = Self.valid()
        warnOnly.actions["fine"] = .some(nil)
        warnOnly.finePayment = nil
        #expect(warnOnly.problems().isEmpty && warnOnly.competentTypes == [.warning])
    }

    @Test("a letter states only the law the profile gives, in its language, and names a missing text")
    func missingTexts() {
        var profile = Self.valid()
        #expect(profile.missingTexts(for: .decisionNotice, language: .de, action: .fine, postal: true).isEmpty)
        profile.remedies["objection"]!.form["de"] = nil
        profile.postalSecrecy["de"] = " "
        #expect(profile.missingTexts(for: .decisionNotice, language: .de, action: .fine, postal: true)
            == ["postal_secrecy.de", "remedies.objection.form.de"])
        #expect(profile.missingTexts(for: .decisionNotice, language: .en, action: .fine, postal: true).isEmpty)
        #expect(profile.missingTexts(for: .informCallToAction, language: .de, action: nil, postal: false).isEmpty)
    }

    @Test("IBAN and BIC")
    func payment() {
        #expect(IBAN.isValid("DE89 3704 0044 0532 0130 00") && IBAN.isValid("NL91ABNA0417164300") && IBAN.isValid("BE68539007547034"))
        #expect(!IBAN.isValid("DE89 3704 0044 0532 0130 01") && !IBAN.isValid("NL91") && !IBAN.isValid("1234567890123456"))
        #expect(IBAN.isBIC("ABNANL2A") && IBAN.isBIC("DEUTDEFF500") && !IBAN.isBIC("abnanl2a") && !IBAN.isBIC("ABN"))
    }
}
