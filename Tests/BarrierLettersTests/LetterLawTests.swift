import BarrierCore
import BarrierLetters
import BarrierTestSupport
import Foundation
import Testing

/// The law a letter states comes from the agency's procedure profile: which parts
/// appear in which letter, for which action and sector, and what a profile lacking
/// a language does.
@Suite("The law in a letter comes from the procedure profile")
struct LetterLawTests {
    static let profile = try! Fixtures.empoweredProfile(country: "DE")

    @Test("each letter kind, action type and sector gets the parts of the law it must state, and no others",
          arguments: LetterKind.allCases)
    func parts(kind: LetterKind) throws {
        let actions: [LicensingActionType?] = switch kind {
        case .informCallToAction, .reminder: [nil]
        case .referral: [.referral]
        default: LicensingActionType.allCases.filter { $0 != .referral }
        }
        for action in actions {
            for sector in ["courier", "hosting_provider"] {
                for language in LetterLanguage.allCases {
                    let law = try LetterSnapshot.Law.resolve(Self.profile, label: "test", kind: kind, language: language, actionType: action,
                                                             postal: Fixtures.shippedLetterRules.isPostal(sector), letterDate: "2026-12-02").get()
                    let lang = language.rawValue
                    let where_ = "\(kind) \(action?.rawValue ?? "-") \(sector) \(lang)"
                    #expect(law.competence == Self.profile.competence[lang] && law.dataProtection == Self.profile.dataProtection[lang], "\(where_)")
                    // The caveat answers the supplier's duty; a referral is written to an authority.
                    #expect((law.postalSecrecy != nil) == (sector == "courier" && kind != .referral), "postal secrecy: \(where_)")
                    #expect((law.fileAccess != nil) == (kind == .noticeOfIntent), "file access: \(where_)")
                    let rule = action.flatMap { Self.profile.rule(for: $0) }
                    #expect((law.action != nil) == (rule != nil), "the action's power: \(where_)")
                    if let rule, let stated = law.action {
                        #expect(stated.legalBasis == rule.legalBasis[lang] && stated.effect == rule.effect[lang] && stated.suspensive == rule.suspensiveEffect)
                    }
                    // The remedy is stated where a decision is notified, never in the notice announcing one.
                    let remedy = action.flatMap { Self.profile.remedy(for: $0) }
                    #expect((law.remedy != nil) == (remedy != nil && kind != .noticeOfIntent), "remedy: \(where_)")
                    if let remedy, let stated = law.remedy {
                        #expect(stated.name == remedy.name[lang] && stated.period == remedy.period && stated.startsFrom == remedy.periodStarts)
                        #expect((stated.endsOn != nil) == (remedy.periodStarts == .decisionDate), "a last day only when counted from the date")
                    }
                    #expect((law.payment != nil) == (action == .fine && kind == .decisionNotice), "payment: \(where_)")
                }
            }
        }
    }

    @Test("a period from the decision's date ends on a working day the letter names; from delivery it names none")
    func periodStart() throws {
        var profile = Self.profile
        let key = try #require(profile.rule(for: .fine)?.remedy)
        profile.remedies[key]!.periodStarts = .decisionDate
        profile.remedies[key]!.period = .init(count: 1, unit: .months)
        let dated = try LetterSnapshot.Law.resolve(profile, label: "t", kind: .decisionNotice, language: .de, actionType: .fine,
                                                   postal: true, letterDate: "2026-12-01").get()
        // One month from 1 December 2026 is 1 January 2027, a holiday: the period ends on Monday 4 January.
        #expect(dated.remedy?.endsOn == "2027-01-04")
        profile.remedies[key]!.periodStarts = .delivery
        let delivered = try LetterSnapshot.Law.resolve(profile, label: "t", kind: .decisionNotice, language: .de, actionType: .fine,
                                                       postal: true, letterDate: "2026-12-01").get()
        #expect(delivered.remedy?.endsOn == nil && delivered.remedy?.startsFrom == .delivery)
    }

    @Test("a profile without a text in the letter's language names what is missing; no letter is written")
    func missingLanguage() {
        var profile = Self.profile
        profile.dataProtection["fr"] = nil
        let key = profile.rule(for: .suspension)!.remedy
        profile.remedies[key]!.form["fr"] = ""
        switch LetterSnapshot.Law.resolve(profile, label: "t", kind: .decisionNotice, language: .fr, actionType: .suspension,
                                          postal: true, letterDate: "2026-12-01") {
        case .success: Issue.record("a French letter was written without the French texts")
        case .failure(let failure):
            #expect(failure.errors.map(\.message).joined(separator: " ").contains("data_protection.fr"))
            #expect(failure.errors.map(\.message).joined(separator: " ").contains("remedies.\(key).form.fr"))
            #expect(failure.errors.allSatisfy { $0.field == "procedure_profile" })
        }
        #expect((try? LetterSnapshot.Law.resolve(profile, label: "t", kind: .decisionNotice, language: .de, actionType: .suspension,
                                                 postal: true, letterDate: "2026-12-01").get()) != nil)
    }

    @Test("every shipped profile gives no restrictive power and states every text in every language")
    func shipped() throws {
        let dir = URL(fileURLWithPath: Fixtures.templatesDirectory).deletingLastPathComponent().appendingPathComponent("procedure-profiles").path
        for name in try FileManager.default.contentsOfDirectory(atPath: dir).filter({ $0.hasSuffix(".json") }) {
            let profile = try JSONDecoder().decode(ProcedureProfile.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)))
            #expect(profile.problems().isEmpty, "\(name): \(profile.problems())")
            #expect(profile.competentTypes.allSatisfy { !$0.isRestrictive }, "\(name) gives a restrictive power")
            for kind in LetterKind.allCases {
                for language in LetterLanguage.allCases {
                    #expect(profile.missingTexts(for: kind, language: language, action: .warning, postal: true).isEmpty, "\(name) \(kind) \(language)")
                }
            }
        }
    }
}
