import BarrierCore
import BarrierTestSupport
import Foundation
import Testing

@testable import BarrierLetters

let templatesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("templates/letters").path

func sampleSnapshot(kind: LetterKind = .informCallToAction, language: LetterLanguage = .en, reference: String? = "OUT-2026-000042",
                    supplierName: String = "Rapido Koeriers B.V.") -> LetterSnapshot {
    LetterSnapshot(
        kind: kind, language: language,
        agency: .init(name: "Inspectorate of Licensed Services", street: "Rue de la Loi 16", postalCode: "1000", city: "Brussels",
                      country: "BE", email: "barrier@inspectorate.example", phone: "+32 2 555 01 00",
                      signatoryName: "Dr. Anne Verstraete", signatoryTitle: "Head of the Licensing Directorate"),
        supplier: .init(id: "6f1c1f3e-0000-4000-8000-000000000001", name: supplierName, tradingName: "Rapido",
                        sector: "courier", contactName: "Joost de Wit", contactRole: "Head of Security",
                        street: "Havenstraat 12", postalCode: "3011 AB", city: "Rotterdam", country: "NL"),
        letter: .init(reference: reference, date: "2026-11-29", deadline: "2026-12-29", responseDays: 30),
        original: kind == .reminder ? .init(reference: "OUT-2026-000007", date: "2026-10-01", deadline: "2026-10-31") : nil,
        action: [.warning, .noticeOfIntent, .decisionNotice].contains(kind)
            ? .init(type: "fine", legalBasis: "Article 12 of the Postal Services Act", rationale: "Consignments kept flowing after the notice.",
                    conditions: nil, amountMinor: 2_500_000, currency: "EUR", effectiveFrom: "2027-01-15", effectiveTo: nil,
                    responseDays: 21, appealDays: 30, decidedOn: "2026-11-29")
            : nil)
}

@Suite("Letter templates and rendering")
struct LetterRenderingTests {
    let renderer: LetterRenderer

    init() throws { renderer = try LetterRenderer(directory: templatesDirectory) }

    @Test("every kind, sector group and language ships a template that compiles")
    func everyTemplateShips() throws {
        var expected: [TemplateKey] = []
        for language in LetterLanguage.allCases {
            for kind in LetterKind.allCases {
                if kind.isPerSectorGroup {
                    expected += SectorGroup.allCases.map { TemplateKey(kind: kind, group: $0, language: language) }
                } else {
                    expected.append(TemplateKey(kind: kind, group: nil, language: language))
                }
            }
        }
        for key in expected {
            let body = try #require(renderer.shippedTemplates[key], "missing \(key.fileName)")
            #expect(LetterTemplate.problem(in: body) == nil, "\(key.fileName): \(LetterTemplate.problem(in: body)!)")
        }
        #expect(renderer.shippedTemplates.count == expected.count)
    }

    @Test("a letter shows the reference, the supplier, the deadline and the signatory in every language", arguments: LetterLanguage.allCases)
    func rendersEveryLanguage(language: LetterLanguage) throws {
        for kind in LetterKind.allCases {
            let snapshot = sampleSnapshot(kind: kind, language: language)
            let key = TemplateKey.forLetter(kind: kind, sector: "courier", language: language, rules: Fixtures.shippedLetterRules)
            let letter = try renderer.render(body: renderer.shippedTemplates[key]!, snapshot: snapshot)
            for output in [letter.text, letter.html] {
                #expect(output.contains("OUT-2026-000042"), "\(key)")
                #expect(output.contains("Rapido Koeriers B.V."), "\(key)")
                #expect(output.contains("Anne Verstraete"), "\(key)")
                #expect(!output.contains("{{"), "\(key) left a tag unrendered")
            }
            #expect(!letter.subject.isEmpty)
            #expect(letter.text.split(separator: "\n").allSatisfy { $0.count <= 72 || !$0.contains(" ") }, "\(key) text is not wrapped")
            if kind == .reminder { #expect(letter.text.contains("OUT-2026-000007"), "\(key) does not cite the original letter") }
        }
    }

    @Test("dates and amounts are written the way each language writes them")
    func localisedValues() throws {
        let expectations: [(LetterLanguage, String, String)] = [
            (.en, "29 December 2026", "EUR 25,000.00"), (.fr, "29 décembre 2026", "25\u{202F}000,00 EUR"),
            (.nl, "29 december 2026", "EUR 25.000,00"), (.de, "29. Dezember 2026", "25.000,00 EUR"),
        ]
        for (language, deadline, amount) in expectations {
            let letter = try renderer.render(
                body: renderer.shippedTemplates[TemplateKey(kind: .noticeOfIntent, group: nil, language: language)]!,
                snapshot: sampleSnapshot(kind: .noticeOfIntent, language: language))
            #expect(letter.text.contains(deadline), "\(language)")
            #expect(letter.text.contains(amount), "\(language)")
        }
    }

    @Test("supplier data cannot inject markup into the HTML")
    func escapesHTML() throws {
        let snapshot = sampleSnapshot(supplierName: "Evil <script>alert(1)</script> & Co")
        let letter = try renderer.render(body: "# Hello {{supplier.name}}\n\nDear {{supplier.name}},", snapshot: snapshot)
        #expect(!letter.html.contains("<script>"))
        #expect(letter.html.contains("Evil &lt;script&gt;"))
        #expect(letter.text.contains("Evil <script>alert(1)</script> & Co"))
    }

    @Test("a body's headings, paragraphs and lists are laid out in HTML and text, escaped, wrapped and in order")
    func blocks() throws {
        var snapshot = sampleSnapshot(supplierName: "O'Brien & <b>Sons</b>")
        snapshot.agency.name = "Inspectorate \"Q&A\""
        let body = """
            # Notice to {{supplier.name}}

            Dear Sir or Madam,

            ## About {{supplier.name}}

            {{supplier.name}} is named in this paragraph, which is long enough that the plain-text letter has to wrap it over lines.
            - first item for {{supplier.name}}
            - second item, long enough to wrap in the text letter where it keeps a hanging indent under its first word

            Yours faithfully,
            """
        let letter = try renderer.render(body: body, snapshot: snapshot)
        let name = "O&#39;Brien &amp; &lt;b&gt;Sons&lt;/b&gt;"
        #expect(letter.subject == "Notice to O'Brien & <b>Sons</b>")
        #expect(letter.html.contains("""
            <h1>Notice to \(name)</h1>
            <p>Dear Sir or Madam,</p>
            <h2>About \(name)</h2>
            <p>\(name) is named in this paragraph, which is long enough that the plain-text letter has to wrap it over lines.</p>
            <ul>
            <li>first item for \(name)</li>
            <li>second item, long enough to wrap in the text letter where it keeps a hanging indent under its first word</li>
            </ul>
            <p>Yours faithfully,</p>
            """), "\(letter.html)")
        #expect(!letter.html.contains("<b>Sons"))
        #expect(letter.html.contains("<div class=\"agency\">Inspectorate &quot;Q&amp;A&quot;</div>"), "the letterhead escapes too")
        #expect(letter.text.contains("""
            Dear Sir or Madam,

            About O'Brien & <b>Sons</b>

            O'Brien & <b>Sons</b> is named in this paragraph, which is long enough
            that the plain-text letter has to wrap it over lines.

            - first item for O'Brien & <b>Sons</b>
            - second item, long enough to wrap in the text letter where it keeps a
              hanging indent under its first word

            Yours faithfully,
            """), "\(letter.text)")
    }

    @Test("the same body and snapshot give the same bytes; a draft says so")
    func deterministic() throws {
        let body = renderer.shippedTemplates[TemplateKey(kind: .informCallToAction, group: .delivery, language: .fr)]!
        let snapshot = sampleSnapshot(language: .fr)
        let again = try LetterSnapshot.decode(try snapshot.encoded())
        #expect(try renderer.render(body: body, snapshot: snapshot) == renderer.render(body: body, snapshot: again))
        let draft = try renderer.render(body: body, snapshot: sampleSnapshot(language: .fr, reference: nil))
        #expect(draft.text.contains("DRAFT"))
        #expect(draft.html.contains("class=\"draft\""))
    }

    @Test("a body that does not compile is refused with its line and reason")
    func refusesBadTemplates() {
        let unclosed = LetterTemplate.problem(in: "# Subject\n\nDear {{supplier.name}},\n\n{{#supplier.contactName}}Hello\n")
        #expect(unclosed?.reason == "a section is opened but never closed")
        let misnamed = LetterTemplate.problem(in: "# Subject\n\n{{#letter.reference}}x{{/letter.date}}\n")
        #expect(misnamed?.line == 3)
        #expect(misnamed?.reason.contains("another name") == true)
        #expect(LetterTemplate.problem(in: "Dear Sir,\n")?.reason.contains("subject") == true)
        #expect(LetterTemplate.problem(in: "# S\n\n{{{supplier.name}}}\n")?.line == 3)
        #expect(LetterTemplate.problem(in: "# Subject\n\nDear {{supplier.name}},\n") == nil)
    }

    @Test("template file names map to keys and back")
    func fileNames() {
        let key = TemplateKey(kind: .informCallToAction, group: .finance, language: .de)
        #expect(key.fileName == "inform_call_to_action.finance.de.mustache")
        #expect(TemplateKey(fileName: key.fileName) == key)
        #expect(TemplateKey(fileName: "reminder.nl.mustache") == TemplateKey(kind: .reminder, group: nil, language: .nl))
        #expect(TemplateKey(fileName: "reminder.delivery.nl.mustache") == nil)
        #expect(TemplateKey(fileName: "layout.html.mustache") == nil)
        #expect(TemplateKey.forLetter(kind: .informCallToAction, sector: "hosting_provider", language: .en, rules: Fixtures.shippedLetterRules).group == .internet)
        #expect(TemplateKey.forLetter(kind: .informCallToAction, sector: "bike_rental", language: .en, rules: Fixtures.shippedLetterRules).group == .general)
    }
}
