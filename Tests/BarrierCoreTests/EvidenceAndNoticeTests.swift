import Foundation
import Testing

@testable import BarrierCore

/// Proposing an action, linking evidence and issuing a notice of intent, over
/// every combination of what each reads, against an oracle from the rule's words.
@Suite("Evidence and notice of intent")
struct EvidenceAndNoticeTests {
    static let supplierID = "6f1c3a52-0d4e-4b8e-9a57-2f7d1c0b9e11"
    static let signalA = "0a4e4a3c-73f1-4d0b-8c89-1b2d3e4f5a61"
    static let signalB = "1b5f5b4d-84a2-4e1c-9d9a-2c3e4f5a6b72"

    /// Every mix of up to two named signals: well formed or not, seen or not, about the supplier or not.
    static let evidenceSets: [[NamedSignal]] = {
        let one: [NamedSignal] = [.malformed("x"), .unknown(signalA), .seen(signalA, concernsSupplier: true), .seen(signalB, concernsSupplier: false)]
        return [[]] + one.map { [$0] } + one.flatMap { a in one.map { [a, $0] } }
    }()

    static func evidenceFine(_ named: [NamedSignal]) -> Bool {
        named.allSatisfy { if case .seen(_, true) = $0 { true } else { false } }
    }

    @Test("proposing: the draft, the supplier's state and every mix of evidence",
          arguments: [ProposedSupplier.malformedID, .unknown, .archived, .registered])
    func proposing(supplier: ProposedSupplier) {
        for draftValid in [true, false] {
            for evidence in Self.evidenceSets {
                let draft = LicensingActionDraft(facilitatorID: Self.supplierID, type: .fine,
                                                 legalBasis: draftValid ? "Postal Services Act §12" : " ",
                                                 rationale: "Kept shipping after the notice", amountMinor: 500_000, currency: "EUR",
                                                 signalIDs: evidence.map { _ in Self.signalA })
                let problems = LicensingProposal.problems(draft, supplier: supplier, evidence: evidence)
                let fields = Set(problems.map(\.field))
                #expect(fields.contains("facilitator_id") == (supplier != .registered), "\(supplier)")
                #expect(fields.contains("signal_ids") == !Self.evidenceFine(evidence), "\(evidence)")
                #expect(problems.filter { $0.field == "signal_ids" }.count == evidence.filter {
                    if case .seen(_, true) = $0 { false } else { true }
                }.count, "one sentence per signal that cannot be relied on: \(evidence)")
                #expect(fields.contains("legal_basis") == !draftValid)
                #expect(problems.isEmpty == (supplier == .registered && Self.evidenceFine(evidence) && draftValid))
            }
        }
    }

    @Test("linking evidence: only before the decision, one to 100 signals, each about the supplier",
          arguments: LicensingActionStatus.allCases)
    func linking(status: LicensingActionStatus) {
        let many = Array(repeating: NamedSignal.seen(Self.signalA, concernsSupplier: true), count: 101)
        for evidence in Self.evidenceSets + [many, Array(many.prefix(100))] {
            let got = EvidenceLinking.refusal(status: status, evidence: evidence)
            let open = status == .proposed || status == .noticeOfIntent
            if !open {
                #expect(got == .decidedAlready(status))
            } else if evidence.isEmpty || evidence.count > 100 || !Self.evidenceFine(evidence) {
                guard case .invalid(let problems) = got else { Issue.record("\(status) \(evidence.count): \(String(describing: got))"); continue }
                #expect(problems.allSatisfy { $0.field == "signal_ids" })
            } else {
                #expect(got == nil, "\(status) \(evidence)")
            }
        }
    }

    @Test("a notice of intent: lifecycle, restrictive type, period, and no notice outstanding",
          arguments: LicensingActionStatus.allCases)
    func noticeOfIntent(status: LicensingActionStatus) {
        let latest: [(reference: String?, status: LetterStatus)?] = [nil] + LetterStatus.allCases.map { ("2026-000042", $0) } + [(nil, .draft)]
        for type in LicensingActionType.allCases {
            for notice in latest {
                for days in [nil, 14, 0, 366] as [Int?] {
                    let c = NoticeOfIntentCase(type: type, status: status, latestNotice: notice)
                    let got = NoticeOfIntentIssue.refusal(c, responseDays: days)
                    let expected: NoticeOfIntentIssue.Refusal?
                    if status != .proposed && status != .noticeOfIntent { expected = .transition(from: status, allowed: status.allowedNext) }
                    else if type == .warning || type == .referral { expected = .notRestrictive(type) }
                    else if let days, days < 1 || days > 365 {
                        expected = .invalid([FieldError(field: "response_days", message: "must be between 1 and 365")])
                    } else if let notice, notice.status != .returned { expected = .outstanding(reference: notice.reference, status: notice.status) }
                    else { expected = nil }
                    #expect(got == expected, "\(status) \(type) notice: \(String(describing: notice)) days: \(String(describing: days))")
                }
            }
        }
    }
}
