import Testing

@testable import BarrierCore

@Suite("The due-process guard")
struct DueProcessTests {
    static let today = "2026-06-01"

    enum NoticeState: CaseIterable { case none, sentNotReached, reached, reachedFromAnotherAgency }
    enum Standing: CaseIterable { case none, informed, cooperating, partiallyCooperating, verifiedMeasures }
    enum Reasons: CaseIterable { case none, consideration, cooperationReason, both, blank }
    enum Correction: CaseIterable { case none, correctedAfterLinking }
    enum Signals: CaseIterable { case none, onlyBefore, after, beforeAndAfter }
    enum Intent: CaseIterable { case none, notDelivered, periodRunning, periodOver, answered }

    static func notices(_ state: NoticeState) -> [DueProcessNotice] {
        switch state {
        case .none: return []
        case .sentNotReached: return [DueProcessNotice(reference: "OUT-2026-000001", reachedOn: nil)]
        case .reached: return [DueProcessNotice(reference: "OUT-2026-000001", reachedOn: "2026-03-01"),
                               DueProcessNotice(reference: "OUT-2026-000009", reachedOn: nil)]
        case .reachedFromAnotherAgency: return [DueProcessNotice(reference: "OUT-2026-000777", reachedOn: "2026-03-01", ownAgency: false)]
        }
    }

    static func signals(_ state: Signals) -> [String] {
        switch state {
        case .none: return []
        case .onlyBefore: return ["2026-02-01", "2026-03-01"]  // the notice's own day is not after it
        case .after: return ["2026-04-15"]
        case .beforeAndAfter: return ["2026-01-10", "2026-05-02"]
        }
    }

    static func intent(_ state: Intent) -> NoticeOfIntent? {
        switch state {
        case .none: return nil
        case .notDelivered: return NoticeOfIntent(reference: "OUT-2026-000020", deliveredOn: nil, responseDeadline: "2026-06-20", respondedOn: nil)
        case .periodRunning: return NoticeOfIntent(reference: "OUT-2026-000020", deliveredOn: "2026-05-20", responseDeadline: "2026-06-01", respondedOn: nil)
        case .periodOver: return NoticeOfIntent(reference: "OUT-2026-000020", deliveredOn: "2026-05-01", responseDeadline: "2026-05-31", respondedOn: nil)
        case .answered: return NoticeOfIntent(reference: "OUT-2026-000020", deliveredOn: "2026-05-20", responseDeadline: "2026-06-10", respondedOn: "2026-05-28")
        }
    }

    static func standing(_ state: Standing) -> SupplierStanding {
        switch state {
        case .none: return .unknown
        case .informed: return SupplierStanding(level: .informed, verifiedMeasures: 0)
        case .cooperating: return SupplierStanding(level: .cooperating, verifiedMeasures: 0)
        case .partiallyCooperating: return SupplierStanding(level: .partiallyCooperating, verifiedMeasures: 0)
        case .verifiedMeasures: return SupplierStanding(level: .unresponsive, verifiedMeasures: 2)
        }
    }

    static func reasons(_ state: Reasons) -> DecisionReasons {
        switch state {
        case .none: return DecisionReasons()
        case .consideration: return DecisionReasons(consideration: "Its answer named no measure; weighed and found wanting.")
        case .cooperationReason: return DecisionReasons(cooperationReason: "The measures do not cover parcel lockers, where the signals arose.")
        case .both: return DecisionReasons(consideration: "Weighed.", cooperationReason: "Insufficient.")
        case .blank: return DecisionReasons(consideration: "  ", cooperationReason: "\n")
        }
    }

    static func evidence(_ signals: Signals, _ correction: Correction) -> [LinkedEvidence] {
        Self.signals(signals).enumerated().map {
            LinkedEvidence(signalID: "sig-\($0.offset)", observedOn: $0.element, changedSinceLinked: correction == .correctedAfterLinking && $0.offset == 0)
        }
    }

    /// What each element of the record, taken alone, leaves missing.
    static func expected(_ notice: NoticeState, _ signals: Signals, _ intent: Intent, standing: Standing = .none,
                         reasons: Reasons = .none, correction: Correction = .none) -> Set<DueProcessGap.Code> {
        var codes: Set<DueProcessGap.Code> = []
        if notice != .reached { codes.formUnion([.noNoticeReached, .noEvidenceAfterNotice]) }
        else if signals == .none || signals == .onlyBefore { codes.insert(.noEvidenceAfterNotice) }
        if notice == .reachedFromAnotherAgency { codes.insert(.noticeNotOwnAgency) }
        switch intent {
        case .none: codes.insert(.noNoticeOfIntent)
        case .notDelivered: codes.insert(.noticeOfIntentNotDelivered)
        case .periodRunning: codes.insert(.responsePeriodRunning)
        case .periodOver: break
        case .answered: if reasons != .consideration && reasons != .both { codes.insert(.responseNotConsidered) }
        }
        if [.cooperating, .partiallyCooperating, .verifiedMeasures].contains(standing) && reasons != .cooperationReason && reasons != .both {
            codes.insert(.cooperationNotConsidered)
        }
        if correction == .correctedAfterLinking && signals != .none { codes.insert(.evidenceChanged) }
        return codes
    }

    @Test("every combination of action type, notice, evidence and notice of intent", arguments: LicensingActionType.allCases)
    func everyCombination(type: LicensingActionType) {
        for notice in NoticeState.allCases {
            for signals in Signals.allCases {
                for intent in Intent.allCases {
                    let gaps = DueProcess.gaps(type: type, notices: Self.notices(notice), linkedSignalDays: Self.signals(signals),
                                               noticeOfIntent: Self.intent(intent), today: Self.today)
                    // A warning is itself the notice; a referral decides nothing on the supplier (the authority it goes to does).
                    let want: Set<DueProcessGap.Code> = type == .warning || type == .referral ? [] : Self.expected(notice, signals, intent)
                    #expect(Set(gaps.map(\.code)) == want, "\(type) \(notice) \(signals) \(intent)")
                    #expect(gaps.count == Set(gaps.map(\.code)).count, "a gap named twice")
                    #expect(gaps.allSatisfy { $0.message.hasSuffix(".") && $0.message.count > 40 }, "each gap is a sentence")
                }
            }
        }
    }

    @Test("every combination with the supplier's standing, the decider's reasons and evidence corrected after linking",
          arguments: LicensingActionType.allCases)
    func everyCombinationWithStanding(type: LicensingActionType) {
        for notice in NoticeState.allCases {
            for signals in Signals.allCases {
                for intent in Intent.allCases {
                    for standing in Standing.allCases {
                        for reasons in Reasons.allCases {
                            for correction in Correction.allCases {
                                let gaps = DueProcess.gaps(type: type, notices: Self.notices(notice), evidence: Self.evidence(signals, correction),
                                                           noticeOfIntent: Self.intent(intent), standing: Self.standing(standing),
                                                           reasons: Self.reasons(reasons), today: Self.today)
                                let want: Set<DueProcessGap.Code> = type == .warning || type == .referral ? []
                                    : Self.expected(notice, signals, intent, standing: standing, reasons: reasons, correction: correction)
                                #expect(Set(gaps.map(\.code)) == want, "\(type) \(notice) \(signals) \(intent) \(standing) \(reasons) \(correction)")
                                #expect(gaps.count == Set(gaps.map(\.code)).count, "a gap named twice")
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("the new gaps name what to do: the other agency's letter, the corrected signal, the level, the response")
    func newSentences() {
        let gaps = DueProcess.gaps(type: .fine, notices: Self.notices(.reachedFromAnotherAgency), evidence: Self.evidence(.after, .correctedAfterLinking),
                                   noticeOfIntent: Self.intent(.answered), standing: Self.standing(.cooperating), reasons: DecisionReasons(),
                                   today: Self.today)
        let byCode = Dictionary(uniqueKeysWithValues: gaps.map { ($0.code, $0.message) })
        #expect(byCode[.noticeNotOwnAgency]?.contains("OUT-2026-000777") == true)
        #expect(byCode[.evidenceChanged]?.contains("sig-0") == true)
        #expect(byCode[.cooperationNotConsidered]?.contains("cooperating") == true)
        #expect(byCode[.responseNotConsidered]?.contains("2026-05-28") == true)
        #expect(gaps.allSatisfy { $0.message.hasSuffix(".") && $0.message.count > 40 })
    }

    @Test("a complete record allows the decision; each sentence names the document concerned")
    func completeRecordAndSentences() {
        #expect(DueProcess.gaps(type: .revocation, notices: Self.notices(.reached), linkedSignalDays: Self.signals(.after),
                                noticeOfIntent: Self.intent(.periodOver), today: Self.today).isEmpty)
        let running = DueProcess.gaps(type: .fine, notices: Self.notices(.reached), linkedSignalDays: Self.signals(.after),
                                      noticeOfIntent: Self.intent(.periodRunning), today: Self.today)
        #expect(running.map(\.code) == [.responsePeriodRunning])
        #expect(running[0].message.contains("OUT-2026-000020") && running[0].message.contains("2026-06-01"))
        // A notice that reaches the supplier only after today does not count yet.
        let future = DueProcess.gaps(type: .conditions, notices: [DueProcessNotice(reference: "OUT-2026-000003", reachedOn: "2026-07-01")],
                                     linkedSignalDays: ["2026-07-02"], noticeOfIntent: Self.intent(.answered), today: Self.today)
        #expect(future.map(\.code).contains(.noNoticeReached))
    }

    @Test("the ladder orders the action types")
    func ladder() {
        #expect(LicensingActionType.allCases.map(\.rung) == [0, 1, 2, 3, 4, 5])
        #expect(!LicensingActionType.warning.isRestrictive && LicensingActionType.revocation.isRestrictive)
        #expect(!LicensingActionType.referral.isRestrictive && !LicensingActionType.referral.isDecisionOnSupplier)
        #expect(LicensingActionType.referral.remedialRung == nil && !LicensingActionType.referral.isPunitive)
    }
}
