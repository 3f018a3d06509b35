import Testing

@testable import BarrierCore

/// The four-eyes rule over every combination of step, who acts, who proposed
/// and who decided, against an oracle written from the rule's words.
@Suite("Four eyes")
struct FourEyesTests {
    /// The people of a case: users by id, and the command line's operator, who is no user.
    enum Who: CaseIterable {
        case proposer, decider, colleague, operatorAtTheShell, proposerOnAnotherDevice

        var person: FourEyes.Person {
            switch self {
            case .proposer: FourEyes.Person(userID: "11111111-1111-1111-1111-111111111111", label: "k.weber@bnetza.example")
            // The same user under another label (a renamed account) is the same pair of eyes.
            case .proposerOnAnotherDevice: FourEyes.Person(userID: "11111111-1111-1111-1111-111111111111", label: "K.Weber@bnetza.example")
            case .decider: FourEyes.Person(userID: "22222222-2222-2222-2222-222222222222", label: "dr.schulz@bnetza.example")
            case .colleague: FourEyes.Person(userID: "33333333-3333-3333-3333-333333333333", label: "m.braun@bnetza.example")
            case .operatorAtTheShell: FourEyes.Person(userID: nil, label: "cli:root")
            }
        }

        var isProposer: Bool { self == .proposer || self == .proposerOnAnotherDevice }
    }

    /// Written from the rule: only a user acts; the proposer never decides; the decider never lifts.
    static func oracle(_ step: FourEyes.Step, actor: Who, decided: Bool) -> Bool {
        if actor == .operatorAtTheShell { return false }
        switch step {
        case .decide: return !actor.isProposer
        case .lift: return !(decided && actor == .decider)
        }
    }

    @Test("every step, actor and record: allowed exactly when the oracle says so, and a refusal names the actor",
          arguments: FourEyes.Step.allCases, [false, true])
    func everyCombination(step: FourEyes.Step, decided: Bool) {
        for actor in Who.allCases {
            let refusal = FourEyes.refusal(step, actor: actor.person, proposer: Who.proposer.person,
                                           decider: decided ? Who.decider.person : nil)
            #expect((refusal == nil) == Self.oracle(step, actor: actor, decided: decided), "\(step) by \(actor), decided: \(decided)")
            if let refusal { #expect(refusal.contains(actor.person.label) && refusal.hasPrefix("Four-eyes rule")) }
        }
    }

    @Test("without user ids (older records), people are told apart by their labels")
    func labelsWhenThereIsNoUser() {
        let proposer = FourEyes.Person(userID: nil, label: "officer@ilt.example")
        let actor = FourEyes.Person(userID: "44444444-4444-4444-4444-444444444444", label: "officer@ilt.example")
        #expect(FourEyes.refusal(.decide, actor: actor, proposer: proposer, decider: nil) != nil)
        #expect(FourEyes.refusal(.decide, actor: FourEyes.Person(userID: "55555555-5555-5555-5555-555555555555", label: "director@ilt.example"),
                                 proposer: proposer, decider: nil) == nil)
    }
}
