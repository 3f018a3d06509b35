import Testing

@testable import BarrierCore

/// Recording a tracking step over every combination of the letter's status, the
/// step, a stale version, the e-mail relay, the day and an attached document,
/// against an oracle written from the rule's words.
@Suite("Tracking a letter")
struct LetterTrackingTests {
    static let today = "2026-12-02"
    static let letterDate = "2026-11-20"

    static let steps: [LetterTrackingStep] = [
        .sent(on: "2026-11-21", method: .post, trackingNumber: nil),
        .delivered(on: "2026-11-23", proof: nil),
        .returned(on: "2026-11-25", reason: "Moved away"),
        .responded(on: "2026-11-30", channel: .email, summary: "Named a contact."),
    ]

    enum Expected: Equatable { case recorded(informs: Bool), stale, transition, withTheRelay, invalid }

    /// The words: the request's own mistakes first (only a response carries a
    /// document), whatever the version it names; then a stale version; then only
    /// the lifecycle's steps; a letter with the relay is not recorded as sent by
    /// hand; the day lies between the letter's date and today; a delivery, or an
    /// answer to a letter whose delivery was never recorded, informs the supplier.
    static func oracle(status: LetterStatus, step: LetterTrackingStep, stale: Bool, withRelay: Bool, badDay: Bool,
                       document: Bool) -> Expected {
        if document && step.status != .responded { return .invalid }
        if stale { return .stale }
        let next: [LetterStatus: [LetterStatus]] = [
            .draft: [.approved], .approved: [.sent], .sent: [.delivered, .returned, .responded, .noResponse],
            .delivered: [.responded, .noResponse], .noResponse: [.responded], .responded: [], .returned: [],
        ]
        guard next[status]!.contains(step.status) else { return .transition }
        if step.status == .sent && withRelay { return .withTheRelay }
        if badDay || (document && step.status != .responded) { return .invalid }
        return .recorded(informs: step.status == .delivered || (step.status == .responded && status == .sent))
    }

    @Test("every status, step, version, relay state, day and document", arguments: LetterStatus.allCases)
    func everyCombination(status: LetterStatus) {
        for step in Self.steps {
            for stale in [false, true] {
                for withRelay in [false, true] {
                    for badDay in [false, true] {
                        for document in [false, true] {
                            var recorded = step
                            if badDay {
                                switch step {
                                case .sent(_, let m, let t): recorded = .sent(on: "2026-12-24", method: m, trackingNumber: t)
                                case .delivered(_, let p): recorded = .delivered(on: "2026-11-01", proof: p)
                                case .returned(_, let r): recorded = .returned(on: "2026-12-24", reason: r)
                                case .responded(_, let c, let s): recorded = .responded(on: "2026-11-01", channel: c, summary: s)
                                }
                            }
                            let c = LetterTrackingCase(status: status, version: 4, letterDate: Self.letterDate,
                                                       emailState: withRelay ? "pending" : nil, today: Self.today)
                            let got: Expected
                            switch LetterTracking.decide(c, recorded, expectedVersion: stale ? 3 : 4, documentProblems: document ? [] : nil) {
                            case .success(let outcome): got = .recorded(informs: outcome.informsSupplier)
                            case .failure(.versionConflict(let current)):
                                got = .stale
                                #expect(current == 4)
                            case .failure(.transition): got = .transition
                            case .failure(.withTheRelay(let state)):
                                got = .withTheRelay
                                #expect(state == "pending")
                            case .failure(.invalid(let problems)):
                                got = .invalid
                                #expect(!problems.isEmpty)
                            }
                            let expected = Self.oracle(status: status, step: step, stale: stale, withRelay: withRelay, badDay: badDay, document: document)
                            #expect(got == expected, "\(step.status) on a \(status) letter, stale: \(stale), relay: \(withRelay), bad day: \(badDay), document: \(document)")
                        }
                    }
                }
            }
        }
    }
}
