import Foundation
import Testing

@testable import BarrierCore

/// Recording a commitment's implementation or verification over every stored
/// status, target, version, day and method, against an oracle from the rule's words.
@Suite("Commitment steps")
struct CommitmentStepTests {
    enum Expected: Equatable { case recorded, stale, transition, invalid }

    static func oracle(from: MeasureStatus, to: MeasureStatus, stale: Bool, day: String, method: String?) -> Expected {
        // The request's own mistakes first (a malformed day, a missing or too long
        // method), whatever the version it names; then a stale version; then the lifecycle.
        let methodOK = (to != .verified || !(method ?? "").trimmingCharacters(in: .whitespaces).isEmpty) && (method ?? "").count <= 2000
        if !ISODay.isValid(day) || !methodOK { return .invalid }
        if stale { return .stale }
        let allowed: Set<String> = ["committed>implemented", "committed>verified", "implemented>verified"]
        guard allowed.contains("\(from.rawValue)>\(to.rawValue)") else { return .transition }
        let dayOK = day <= "2026-12-02" && day >= "2026-11-01"
        return dayOK ? .recorded : .invalid
    }

    @Test("every stored status, target, version, day and method", arguments: MeasureStatus.allCases)
    func everyCombination(from: MeasureStatus) {
        for to in MeasureStatus.allCases {
            for stale in [false, true] {
                for day in ["2026-11-15", "2026-10-31", "2026-12-03", "2026-11-31"] {
                    for method in [nil, " ", "Called the contact point", String(repeating: "x", count: 2001)] as [String?] {
                        let c = CommitmentCase(status: from, version: 2, earliest: "2026-11-01", today: "2026-12-02")
                        let got: Expected
                        switch CommitmentStep.refusal(c, to: to, on: day, method: method, expectedVersion: stale ? 1 : 2) {
                        case nil: got = .recorded
                        case .versionConflict(let current):
                            got = .stale
                            #expect(current == 2)
                        case .transition: got = .transition
                        case .invalid: got = .invalid
                        }
                        #expect(got == Self.oracle(from: from, to: to, stale: stale, day: day, method: method),
                                "\(from) → \(to), stale: \(stale), on \(day), method: \(method?.prefix(20) ?? "nil")")
                    }
                }
            }
        }
    }
}
