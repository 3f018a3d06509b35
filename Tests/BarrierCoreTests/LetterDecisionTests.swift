import Foundation
import Testing

@testable import BarrierCore

/// Drafting, approving and e-mailing a letter and approving a campaign, each
/// over every combination of what it reads, against an oracle from the rule's words.
@Suite("Letter and campaign decisions")
struct LetterDecisionTests {
    static let today = "2026-12-02"

    // MARK: Drafting

    enum Drafted: Equatable { case drafted(LetterLanguage), noSupplier, invalid(Set<String>) }

    static func draftOracle(origin: LetterDraftAsk.Origin, kind: LetterKind, supplier: LetterDraftCase.Supplier?,
                            original: LetterDraftCase.Original?, namesOriginal: Bool, responseDays: Int?, deadline: String?,
                            asked: LetterLanguage?, templates: Set<TemplateKey>) -> Drafted {
        if origin == .licensingAction && supplier == nil { return .noSupplier }
        var fields: Set<String> = []
        if origin == .officer {
            if kind != .informCallToAction && kind != .reminder { fields.insert("kind") }
            if let days = responseDays, days < 1 || days > 365 { fields.insert("response_days") }
            if let deadline, !ISODay.isValid(deadline) || deadline <= today { fields.insert("deadline") }
            if supplier?.archived == true { fields.insert("facilitator_id") }
            if kind == .reminder {
                let ok = namesOriginal && original != nil && original!.isTheSuppliers
                    && [LetterStatus.sent, .delivered, .noResponse].contains(original!.status)
                if !ok { fields.insert("reminder_of") }
            } else if namesOriginal {
                fields.insert("reminder_of")
            }
        }
        if supplier == nil || supplier?.hasPostalAddress == false { fields.insert("facilitator_id") }
        let language = asked ?? LetterLanguage.forCountry(supplier?.country ?? "")
        if fields.isEmpty && !templates.contains(TemplateKey(kind: kind, group: supplier?.group ?? .general, language: language)) {
            fields.insert(origin == .officer ? "kind" : "language")
        }
        return fields.isEmpty ? .drafted(language) : .invalid(fields)
    }

    @Test("drafting: origin, kind, supplier, reminder, period, deadline, language and templates",
          arguments: [LetterDraftAsk.Origin.officer, .licensingAction])
    func drafting(origin: LetterDraftAsk.Origin) {
        let suppliers: [LetterDraftCase.Supplier?] = [
            nil,
            .init(archived: false, hasPostalAddress: true, country: "DE", sector: "courier", group: .delivery),
            .init(archived: true, hasPostalAddress: true, country: "FR", sector: "hosting", group: .internet),
            .init(archived: false, hasPostalAddress: false, country: "NL", sector: "courier"),
        ]
        let originals: [(LetterDraftCase.Original?, Bool)] = [
            (nil, false), (nil, true), (.init(isTheSuppliers: true, status: .delivered), true),
            (.init(isTheSuppliers: false, status: .sent), true), (.init(isTheSuppliers: true, status: .draft), true),
            (.init(isTheSuppliers: true, status: .noResponse), false),
        ]
        let allTemplates = Set(LetterKind.allCases.flatMap { kind in
            LetterLanguage.allCases.flatMap { language in SectorGroup.allCases.map { TemplateKey(kind: kind, group: $0, language: language) } }
        })
        let templateSets: [Set<TemplateKey>] = [allTemplates, allTemplates.filter { $0.language != .de }]
        var drafted = 0
        for kind in LetterKind.allCases {
            for supplier in suppliers {
                for (original, names) in originals {
                    for (days, deadline) in [(nil, nil), (30, nil), (0, nil), (nil, "2026-12-31"), (nil, "2026-12-02"), (nil, "2026-02-30")] as [(Int?, String?)] {
                        for asked in [nil, LetterLanguage.fr] {
                            for templates in templateSets {
                                let c = LetterDraftCase(supplier: supplier, original: original, templates: templates, agencyResponseDays: 28,
                                                        today: Self.today)
                                let ask = LetterDraftAsk(origin: origin, kind: kind, language: asked, responseDays: days, deadline: deadline,
                                                         namesOriginal: names)
                                let got: Drafted
                                switch LetterDrafting.decide(c, ask) {
                                case .success(let outcome):
                                    got = .drafted(outcome.language)
                                    drafted += 1
                                    #expect(outcome.responseDays == (days ?? 28))
                                    #expect(outcome.template.language == outcome.language && outcome.template.kind == kind)
                                case .failure(.noSupplier): got = .noSupplier
                                case .failure(.invalid(let problems)): got = .invalid(Set(problems.map(\.field)))
                                }
                                let expected = Self.draftOracle(origin: origin, kind: kind, supplier: supplier, original: original,
                                                                namesOriginal: names, responseDays: days, deadline: deadline, asked: asked,
                                                                templates: templates)
                                #expect(got == expected, "\(origin) \(kind) \(String(describing: supplier)) \(String(describing: original)) names: \(names) days: \(String(describing: days)) deadline: \(String(describing: deadline)) asked: \(String(describing: asked))")
                            }
                        }
                    }
                }
            }
        }
        #expect(drafted > 0)
    }

    // MARK: Approving

    enum Approved: Equatable { case approved(String, Int), stale, transition, withdrawn, invalid }

    @Test("approving: version, status, withdrawn action, deadline asked or counted", arguments: LetterStatus.allCases)
    func approving(status: LetterStatus) {
        for stale in [false, true] {
            for withdrawn in [false, true] {
                for (requested, days) in [(nil, 28), (nil, 1), ("2027-01-15", 28), (Self.today, 28), ("2026-11-30", 28)] as [(String?, Int)] {
                    let c = LetterApprovalCase(status: status, version: 4, actionWithdrawn: withdrawn, requestedDeadline: requested,
                                               responseDays: days, today: Self.today)
                    let got: Approved
                    switch LetterApproval.decide(c, expectedVersion: stale ? 3 : 4) {
                    case .success(let deadline): got = .approved(deadline.day, deadline.days)
                    case .failure(.versionConflict(let current)):
                        #expect(current == 4)
                        got = .stale
                    case .failure(.transition): got = .transition
                    case .failure(.actionWithdrawn): got = .withdrawn
                    case .failure(.invalid): got = .invalid
                    }
                    let expected: Approved
                    if stale { expected = .stale }
                    else if status != .draft { expected = .transition }
                    else if withdrawn { expected = .withdrawn }
                    else if let requested { expected = requested > Self.today ? .approved(requested, requested == "2027-01-15" ? 44 : -1) : .invalid }
                    else { expected = .approved(days == 28 ? "2026-12-30" : "2026-12-03", days) }
                    #expect(got == expected, "\(status) stale: \(stale) withdrawn: \(withdrawn) requested: \(String(describing: requested)) days: \(days)")
                }
            }
        }
    }

    @Test("a deadline across a leap day and a year end counts calendar days")
    func deadlineArithmetic() throws {
        #expect(try LetterDeadline.resolve(today: "2028-02-20", requested: nil, responseDays: 14).get() == LetterDeadline(day: "2028-03-05", days: 14))
        #expect(try LetterDeadline.resolve(today: "2026-12-20", requested: "2027-01-10", responseDays: 5).get().days == 21)
        #expect((try? LetterDeadline.resolve(today: "2026-12-20", requested: "2026-12-20", responseDays: 5).get()) == nil)
    }

    // MARK: E-mailing

    enum Emailed: Equatable { case to(String), noRelay, stale, transition, queued, invalid }

    @Test("e-mailing: relay, address given (the supplier's, or another an admin confirms) or on record, version, status, never twice",
          arguments: LetterStatus.allCases)
    func emailing(status: LetterStatus) {
        for relay in [true, false] {
            for stale in [false, true] {
                for queued in [false, true] {
                    for onRecord in [nil, "info@courier.example"] as [String?] {
                        for given in [nil, "Legal@Courier.example", "info@courier.example", "someone@elsewhere.example", "not an address"] as [String?] {
                        for confirmed in [false, true] {
                            let c = LetterEmailCase(status: status, version: 2, queued: queued, relayConfigured: relay, supplierEmail: onRecord,
                                                    contactEmails: ["legal@courier.example"])
                            let got: Emailed
                            switch LetterEmailing.decide(c, to: given, expectedVersion: stale ? 1 : 2, otherAddressConfirmedByAdmin: confirmed) {
                            case .success(let to): got = .to(to)
                            case .failure(.noRelay): got = .noRelay
                            case .failure(.versionConflict): got = .stale
                            case .failure(.transition): got = .transition
                            case .failure(.alreadyQueued): got = .queued
                            case .failure(.invalid): got = .invalid
                            }
                            let expected: Emailed
                            if !relay { expected = .noRelay }
                            else if given == "not an address" { expected = .invalid }
                            else if let given, !confirmed, given == "someone@elsewhere.example" || (given == "info@courier.example" && onRecord == nil) {
                                expected = .invalid
                            }
                            else if stale { expected = .stale }
                            else if status != .approved { expected = .transition }
                            else if queued { expected = .queued }
                            else if let address = given ?? onRecord { expected = .to(address) }
                            else { expected = .invalid }
                            #expect(got == expected, "\(status) relay: \(relay) stale: \(stale) queued: \(queued) record: \(String(describing: onRecord)) given: \(String(describing: given)) confirmed: \(confirmed)")
                        }
                        }
                    }
                }
            }
        }
    }

    // MARK: Campaigns

    @Test("approving a campaign: version, draft, someone to write to, a template for every letter")
    func campaignApproval() {
        let de = TemplateKey(kind: .informCallToAction, group: .delivery, language: .de)
        let fr = TemplateKey(kind: .informCallToAction, group: .internet, language: .fr)
        for status in ["draft", "generating", "printing", "done", "failed"] {
            for stale in [false, true] {
                for addressed in [0, 1, 5000] {
                    for templates in [Set([de, fr]), Set([de]), Set<TemplateKey>()] {
                        let needed: Set<TemplateKey> = addressed == 0 ? [] : [de, fr]
                        let c = CampaignApprovalCase(status: status, version: 1, addressed: addressed, needed: needed, templates: templates)
                        let got = CampaignApproval.refusal(c, expectedVersion: stale ? 0 : 1)
                        let expected: CampaignApproval.Refusal?
                        if stale { expected = .versionConflict(current: 1) }
                        else if status != "draft" { expected = .approvedAlready(status: status) }
                        else if addressed == 0 { expected = .nothingToSend }
                        else if templates.count == 2 { expected = nil }
                        else { expected = .missingTemplates(needed.subtracting(templates).sorted { $0.description < $1.description }) }
                        #expect(got == expected, "\(status) stale: \(stale) addressed: \(addressed) templates: \(templates.count)")
                    }
                }
            }
        }
    }

    @Test("setting up a campaign: name, kind, period, filter keys and countries of the language rule", arguments: LetterKind.allCases)
    func campaignSetUp(kind: LetterKind) {
        for name in ["Couriers DE", "  ", String(repeating: "c", count: 201), "  Padded  "] {
            for days in [nil, 30, 0] as [Int?] {
                for keys in [["sector", "country"], ["sector", "colour"], []] {
                    for countries in [["DE", "FR"], ["XX"], []] {
                        let fields = Set(CampaignDrafting.problems(name: name, kind: kind, responseDays: days, filterKeys: keys,
                                                                   languageCountries: countries).map(\.field))
                        var expected: Set<String> = []
                        let trimmed = name.trimmingCharacters(in: .whitespaces)
                        if trimmed.isEmpty || trimmed.count > 200 { expected.insert("name") }
                        if kind != .informCallToAction { expected.insert("kind") }
                        if days == 0 { expected.insert("response_days") }
                        if keys.contains("colour") { expected.insert("filter.colour") }
                        if countries.contains("XX") { expected.insert("language_by_country.XX") }
                        #expect(fields == expected, "\(kind) '\(name.prefix(12))' \(String(describing: days)) \(keys) \(countries)")
                    }
                }
            }
        }
    }

    @Test("a campaign letter's language: the supplier's override, else the rule for its country, else the country's language")
    func campaignLanguage() {
        let supplier = "6f1c3a52-0d4e-4b8e-9a57-2f7d1c0b9e11"
        for override in [nil, LetterLanguage.en] {
            for rule in [nil, LetterLanguage.nl] {
                for country in ["BE", "DE", "FR", "JP"] {
                    let got = CampaignDrafting.language(supplier: supplier, country: country,
                                                        overrides: override.map { [supplier: $0] } ?? [:],
                                                        byCountry: rule.map { [country: $0] } ?? [:])
                    #expect(got == override ?? rule ?? LetterLanguage.forCountry(country))
                    #expect(CampaignDrafting.language(supplier: "other", country: country, overrides: override.map { [supplier: $0] } ?? [:],
                                                      byCountry: [:]) == LetterLanguage.forCountry(country))
                }
            }
        }
    }
}

@Suite("An admin puts an e-mail back in the queue")
struct EmailRequeueTests {
    @Test("retry only a failed message, release only an uncertain one; an admin, with a reason; every combination")
    func everyCombination() {
        let states: [EmailState?] = [nil] + EmailState.allCases.map { $0 }
        for step in EmailRequeue.allCases {
            for state in states {
                for admin in [true, false] {
                    for reason in ["Relay log checked: not delivered.", "  ", ""] {
                        let got = step.refusal(state: state, reason: reason, byAdmin: admin)
                        let expected: EmailRequeue.Refusal?
                        if !admin { expected = .notAdmin }
                        else if reason.allSatisfy(\.isWhitespace) { expected = .invalid([FieldError(field: "reason", message: "is required: what was checked, and why the message may go (again)")]) }
                        else if state == nil { expected = .notQueued }
                        else if state == (step == .retry ? .failed : .uncertain) { expected = nil }
                        else { expected = .wrongState(current: state!, needed: step == .retry ? .failed : .uncertain) }
                        #expect(got == expected, "\(step) \(String(describing: state)) admin=\(admin) reason=\(reason.debugDescription)")
                    }
                }
            }
        }
    }
}
