import BarrierCore
import BarrierTestSupport
import Foundation
import Testing

/// Every ask of a first-contact letter is a measure of the catalogue that a supplier
/// of that letter's sectors can commit to, so an answer can be recorded and verified
/// measure by measure. Each ask names its measure (`{{! measure: code }}`).
@Suite("Each ask of a first letter is a measure of the catalogue")
struct LetterAskMeasureTests {
    static let sectorsByGroup: [SectorGroup: Set<String>] = {
        Dictionary(grouping: Fixtures.shippedSectors, by: Fixtures.shippedLetterRules.group(of:)).mapValues(Set.init)
    }()

    @Test("the asks section: every item names a measure that exists and applies to a sector of the group, in every language")
    func asks() async throws {
        try await TestDatabase.withFresh { db in
            let rows = try await db.client.query("SELECT code, array_to_string(sectors, ',') FROM measures", logger: db.logger)
            var catalogue: [String: Set<String>] = [:]
            for try await (code, sectors) in rows.decode((String, String).self) {
                catalogue[code] = Set(sectors.split(separator: ",").map(String.init))
            }
            for group in SectorGroup.allCases {
                var codesByLanguage: [String: [String]] = [:]
                for language in LetterLanguage.allCases {
                    let body = try String(contentsOfFile: "\(Fixtures.templatesDirectory)/inform_call_to_action.\(group.rawValue).\(language.rawValue).mustache",
                                          encoding: .utf8)
                    var sections: [[String]] = [[]]
                    for line in body.split(separator: "\n") {
                        if line.hasPrefix("## ") { sections.append([]) } else if line.hasPrefix("- ") { sections[sections.count - 1].append(String(line)) }
                    }
                    let annotated = sections.filter { $0.contains { $0.contains("{{! measure:") } }
                    #expect(annotated.count == 1, "\(group).\(language): one section of asks")
                    guard let asks = annotated.first else { continue }
                    var codes: [String] = []
                    for item in asks {
                        guard let range = item.range(of: #"\{\{! measure: ([a-z_]+) \}\}"#, options: .regularExpression) else {
                            Issue.record("\(group).\(language): an ask without its measure: \(item)")
                            continue
                        }
                        let code = String(item[range].dropFirst("{{! measure: ".count).dropLast(" }}".count))
                        codes.append(code)
                        guard let sectors = catalogue[code] else { Issue.record("\(group).\(language): '\(code)' is no measure of the catalogue"); continue }
                        #expect(sectors.isEmpty || !sectors.isDisjoint(with: Self.sectorsByGroup[group] ?? []),
                                "\(group): '\(code)' applies to \(sectors.sorted()), none of the group's sectors")
                    }
                    codesByLanguage[language.rawValue] = codes
                }
                #expect(Set(codesByLanguage.values.map { $0.joined(separator: ",") }).count == 1, "\(group): the languages ask for different measures")
            }
        }
    }
}
