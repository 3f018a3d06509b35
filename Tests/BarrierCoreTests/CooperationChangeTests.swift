import Foundation
import Testing

@testable import BarrierCore

/// An officer's change of cooperation level over every current level, target,
/// version, reason and what it rests on, against an oracle from the rule's words.
@Suite("Changing a cooperation level")
struct CooperationChangeTests {
    enum Expected: Equatable { case changed, stale, invalid(Set<String>) }

    static func oracle(from: CooperationLevel, to: CooperationLevel, stale: Bool, reason: String, letter: Bool?, contact: Bool?) -> Expected {
        // Invalid input first (whatever the version it names), then a stale version.
        var fields: Set<String> = []
        if to == from || to == .notContacted { fields.insert("level") }
        if reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || reason.count > 5000 { fields.insert("reason") }
        if letter == false { fields.insert("letter_id") }
        if contact == false { fields.insert("contact_id") }
        if !fields.isEmpty { return .invalid(fields) }
        return stale ? .stale : .changed
    }

    @Test("every level, target, version, reason, letter and contact", arguments: CooperationLevel.allCases)
    func everyCombination(from: CooperationLevel) {
        for to in CooperationLevel.allCases {
            for stale in [false, true] {
                for reason in ["Met the security team.", "  ", String(repeating: "x", count: 5001)] {
                    for letter in [nil, true, false] as [Bool?] {
                        for contact in [nil, true, false] as [Bool?] {
                            let c = CooperationChangeCase(level: from, version: 3, letterIsTheSuppliers: letter, contactIsTheSuppliers: contact)
                            let got: Expected
                            switch CooperationChange.refusal(c, to: to, reason: reason, expectedVersion: stale ? 2 : 3) {
                            case nil: got = .changed
                            case .versionConflict(let current):
                                got = .stale
                                #expect(current == 3)
                            case .invalid(let problems): got = .invalid(Set(problems.map(\.field)))
                            }
                            #expect(got == Self.oracle(from: from, to: to, stale: stale, reason: reason, letter: letter, contact: contact),
                                    "\(from) → \(to), stale: \(stale), reason \(reason.count) chars, letter \(String(describing: letter)), contact \(String(describing: contact))")
                        }
                    }
                }
            }
        }
    }
}
