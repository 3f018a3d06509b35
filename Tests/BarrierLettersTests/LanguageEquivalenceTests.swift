import BarrierCore
import BarrierTestSupport
import Foundation
import Testing

/// All four languages of a letter say the same things: the same sections in the same
/// order, the same number of list items in each, and the same values, each used as
/// often. A letter that asks for more in one language than in another fails here.
@Suite("Every letter says the same things in English, French, Dutch and German")
struct LanguageEquivalenceTests {
    struct Shape: Equatable, CustomStringConvertible {
        var headings: Int
        var itemsPerSection: [Int]
        var tags: [String]

        var description: String { "\(headings) sections, items \(itemsPerSection), \(tags.count) tags" }
    }

    static func shape(_ body: String) -> Shape {
        var items: [Int] = [0]
        for line in body.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("## ") { items.append(0) } else if line.hasPrefix("- ") { items[items.count - 1] += 1 }
        }
        var tags: [String] = []
        var rest = Substring(body)
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            tags.append(String(rest[open.upperBound..<close.lowerBound]).trimmingCharacters(in: .whitespaces))
            rest = rest[close.upperBound...]
        }
        return Shape(headings: items.count - 1, itemsPerSection: items, tags: tags.sorted())
    }

    static var letters: [String] {
        let groups = ["delivery", "packaging", "internet", "messaging", "finance", "general"]
        return groups.map { "inform_call_to_action.\($0)" } + ["reminder", "warning", "notice_of_intent", "decision_notice"]
    }

    @Test("sections, list items and values match across the languages", arguments: letters)
    func sameShape(_ letter: String) throws {
        let dir = Fixtures.templatesDirectory
        var shapes: [String: Shape] = [:]
        for language in LetterLanguage.allCases {
            let body = try String(contentsOfFile: "\(dir)/\(letter).\(language.rawValue).mustache", encoding: .utf8)
            shapes[language.rawValue] = Self.shape(body)
        }
        let english = try #require(shapes["en"])
        for (language, shape) in shapes {
            #expect(shape == english, "\(letter).\(language): \(shape) against English \(english)")
        }
    }

    @Test("no letter states law in its own words: power, remedy and suspension come from the profile's values")
    func lawFromTheProfile() throws {
        let dir = Fixtures.templatesDirectory
        for letter in Self.letters {
            for language in LetterLanguage.allCases {
                let body = try String(contentsOfFile: "\(dir)/\(letter).\(language.rawValue).mustache", encoding: .utf8)
                let tags = Self.shape(body).tags
                #expect(tags.contains("law.dataProtection"), "\(letter).\(language.rawValue) lacks the data-protection notice")
                #expect(!tags.contains("action.appealDays"), "\(letter).\(language.rawValue) states an appeal period of its own")
                if letter.hasPrefix("inform_call_to_action") {
                    #expect(tags.contains("law.competence"), "\(letter).\(language.rawValue) does not state the agency's competence")
                }
                if letter == "inform_call_to_action.delivery" {
                    #expect(tags.contains("law.postalSecrecy"), "\(letter).\(language.rawValue) lacks the postal-secrecy caveat")
                }
                if letter == "decision_notice" {
                    for value in ["law.remedy.name", "law.remedy.period", "law.remedy.body", "law.action.effect", "law.payment.iban"] {
                        #expect(tags.contains(value), "\(letter).\(language.rawValue) lacks \(value)")
                    }
                }
                if letter == "notice_of_intent" { #expect(tags.contains("law.fileAccess"), "\(language.rawValue): the right to see the file") }
                for phrase in ["licensing regulation allows", "regarded as informed", "Widerspruch", "suspends the effect"] {
                    #expect(!body.contains(phrase), "\(letter).\(language.rawValue) says '\(phrase)' in its own words")
                }
            }
        }
    }
}
