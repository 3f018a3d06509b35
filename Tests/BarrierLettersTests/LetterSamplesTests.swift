import BarrierCore
import BarrierTestSupport
import Foundation
import Testing

@testable import BarrierLetters

/// A whole licensing case as its letters state it, in every language: the notice
/// of intent and the decision notice of a fine, with the law from a profile that
/// gives the power and the record (earlier letter, signals, response, consideration).
/// No value may leave a gap ("by ,", a dangling colon), nothing of a template may
/// show, and each letter states what the record and the profile hold. With
/// BARRIER_LETTER_SAMPLES_DIR set, the texts are written there to be read.
@Suite("A licensing case's letters in four languages")
struct LetterSamplesTests {
    static let profile = try! Fixtures.empoweredProfile(country: "DE")

    static func snapshot(_ kind: LetterKind, _ language: LetterLanguage) throws -> LetterSnapshot {
        var s = sampleSnapshot(kind: kind, language: language, reference: kind == .noticeOfIntent ? "OUT-2026-000120" : "OUT-2026-000171")
        s.supplier.sector = "parcel_delivery"
        s.action?.ladderJustification = kind == .decisionNotice ? "Consignments continued for months after the warning of 12 May 2026." : nil
        s.law = try LetterSnapshot.Law.resolve(profile, label: "v1 test", kind: kind, language: language, actionType: .fine,
                                               postal: true, letterDate: s.letter.date).get()
        var record = LetterSnapshot.Record(
            earlier: .init(reference: "OUT-2026-000017", date: "2026-03-02", reachedOn: "2026-03-05"),
            signals: [.init(date: "2026-06-11", type: "logistical", summary: "Frequent ordering of consignments"),
                      .init(date: "2026-09-02", type: "financial", summary: "Increased use of bitcoin-ATMs in public spaces")])
        if kind == .decisionNotice {
            record.noticeOfIntent = .init(reference: "OUT-2026-000120", date: "2026-10-01", deliveredOn: "2026-10-03", deadline: "2026-10-22")
            record.response = .init(receivedOn: "2026-10-20", summary: "The company disputes the number of consignments and offers staff training.")
            record.consideration = "The consignment records confirm the numbers; training alone does not stop bulk senders."
        }
        s.record = record
        return s
    }

    @Test("the notice of intent and the decision notice state the record and the law without gaps", arguments: LetterLanguage.allCases)
    func samples(language: LetterLanguage) throws {
        let renderer = try LetterRenderer(directory: Fixtures.templatesDirectory)
        for kind in [LetterKind.noticeOfIntent, .decisionNotice] {
            let snapshot = try Self.snapshot(kind, language)
            let letter = try renderer.render(body: renderer.shippedTemplates[TemplateKey(kind: kind, group: nil, language: language)]!,
                                             snapshot: snapshot)
            let words = letter.text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            let lang = language.rawValue
            for (name, expected) in [("earlier letter", "OUT-2026-000017"), ("signal", "Frequent ordering of consignments"),
                                     ("legal basis", Self.profile.rule(for: .fine)!.legalBasis[lang]!),
                                     ("competence", Self.profile.rule(for: .fine)!.competence[lang]!),
                                     ("data protection", Self.profile.dataProtection[lang]!)] {
                #expect(words.contains(expected.split(whereSeparator: \.isWhitespace).joined(separator: " ")), "\(kind).\(lang): \(name)")
            }
            if kind == .noticeOfIntent {
                #expect(words.contains(Self.profile.fileAccess[lang]!.split(whereSeparator: \.isWhitespace).joined(separator: " ")), "\(lang): file access")
            } else {
                let remedy = Self.profile.remedy(for: .fine)!
                for (name, expected) in [("notice of intent", "OUT-2026-000120"), ("response", "offers staff training"),
                                         ("consideration", "training alone does not stop bulk senders"), ("remedy", remedy.name[lang]!),
                                         ("remedy body", remedy.body), ("effect", Self.profile.rule(for: .fine)!.effect[lang]!),
                                         ("IBAN", "NL91 ABNA 0417 1643 00"), ("justification", "after the warning of 12 May 2026")] {
                    #expect(words.contains(expected.split(whereSeparator: \.isWhitespace).joined(separator: " ")), "decision.\(lang): \(name)")
                }
            }
            for gap in [" , ", " .", ": ,", "{{", "}}", "( )", "()"] {
                #expect(!words.contains(gap), "\(kind).\(lang) has '\(gap)': …\(words.components(separatedBy: gap).first?.suffix(80) ?? "")")
            }
            if let dir = ProcessInfo.processInfo.environment["BARRIER_LETTER_SAMPLES_DIR"] {
                try letter.text.write(toFile: "\(dir)/\(kind.rawValue).\(lang).txt", atomically: true, encoding: .utf8)
            }
        }
    }

    @Test("a referral names the authority as addressee and lists the file, the signals and the response, in each language",
          arguments: LetterLanguage.allCases)
    func referral(language: LetterLanguage) throws {
        let renderer = try LetterRenderer(directory: Fixtures.templatesDirectory)
        var s = sampleSnapshot(kind: .referral, language: language, reference: "OUT-2026-000190")
        s.supplier.sector = "parcel_delivery"
        s.supplier.registrationNumber = "HRB 123456"
        s.action = .init(type: "referral", legalBasis: "§ 36 PostG", rationale: "Bulk consignments from one darknet vendor continued after our letter.")
        s.law = try LetterSnapshot.Law.resolve(Self.profile, label: "v1 test", kind: .referral, language: language, actionType: .referral,
                                               postal: true, letterDate: s.letter.date).get()
        s.record = LetterSnapshot.Record(
            signals: [.init(date: "2026-06-11", type: "logistical", summary: "Frequent ordering of consignments")],
            response: .init(receivedOn: "2026-04-02", summary: "The company says it cannot see what its customers send."))
        s.referral = .init(body: "Bundesnetzagentur, Referat Postmarkt", address: "Tulpenfeld 4, 53113 Bonn",
                           file: [.init(kind: .informCallToAction, reference: "OUT-2026-000017", date: "2026-03-02", reachedOn: "2026-03-05"),
                                  .init(kind: .reminder, reference: "OUT-2026-000044", date: "2026-05-04", reachedOn: nil)])
        let letter = try renderer.render(body: renderer.shippedTemplates[TemplateKey(kind: .referral, group: nil, language: language)]!, snapshot: s)
        let words = letter.text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let lang = language.rawValue
        for (name, expected) in [("addressee", "Bundesnetzagentur, Referat Postmarkt"), ("address", "53113 Bonn"), ("supplier", s.supplier.name),
                                 ("registration", "HRB 123456"), ("first letter", "OUT-2026-000017"), ("reminder", "OUT-2026-000044"),
                                 ("signal", "Frequent ordering of consignments"), ("response", "cannot see what its customers send"),
                                 ("facts", "continued after our letter"), ("competence", Self.profile.competence[lang]!),
                                 ("reference", "OUT-2026-000190")] {
            #expect(words.contains(expected.split(whereSeparator: \.isWhitespace).joined(separator: " ")), "referral.\(lang): \(name)")
        }
        // Written to the authority: no postal-secrecy caveat for the supplier, no copy to its contact point.
        #expect(!words.contains(Self.profile.postalSecrecy[lang]!.split(whereSeparator: \.isWhitespace).joined(separator: " ")))
        for gap in [" , ", " .", ": ,", "{{", "}}", "( )", "()"] {
            #expect(!words.contains(gap), "referral.\(lang) has '\(gap)'")
        }
        if let dir = ProcessInfo.processInfo.environment["BARRIER_LETTER_SAMPLES_DIR"] {
            try letter.text.write(toFile: "\(dir)/referral.\(lang).txt", atomically: true, encoding: .utf8)
        }
    }
}
