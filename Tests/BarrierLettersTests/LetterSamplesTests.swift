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
                                               sector: "parcel_delivery", letterDate: s.letter.date).get()
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
}
