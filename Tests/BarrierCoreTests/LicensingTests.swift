import Testing

@testable import BarrierCore

@Suite("Licensing actions: lifecycle, ladder and proposals")
struct LicensingTests {
    @Test("only the lifecycle's steps exist, for sanctions and referrals apart, and only decided, upheld or varied actions can be final")
    func lifecycle() {
        let sanctions: [LicensingActionStatus: Set<LicensingActionStatus>] = [
            .proposed: [.noticeOfIntent, .decided, .withdrawn],
            .noticeOfIntent: [.noticeOfIntent, .decided, .withdrawn],
            .decided: [.appealed, .lifted, .expired],
            .appealed: [.upheld, .varied, .overturned],
            .upheld: [.appealed, .lifted, .expired], .varied: [.appealed, .lifted, .expired],
            .overturned: [], .lifted: [], .expired: [], .withdrawn: [], .concluded: [],
        ]
        // A referral is sent (decided) and concluded with the authority's outcome; it is nobody's decision to appeal or lift.
        let referrals: [LicensingActionStatus: Set<LicensingActionStatus>] = [
            .proposed: [.decided, .withdrawn], .noticeOfIntent: [.decided, .withdrawn], .decided: [.concluded],
        ]
        for type in LicensingActionType.allCases {
            for from in LicensingActionStatus.allCases {
                for to in LicensingActionStatus.allCases {
                    let allowed = (type == .referral ? referrals[from] : sanctions[from]) ?? []
                    #expect(from.canMove(to: to, for: type) == allowed.contains(to), "\(type): \(from) → \(to)")
                }
            }
        }
        #expect(LicensingActionStatus.allCases.filter(\.isFinal) == [.decided, .upheld, .varied])
        #expect(!LicensingActionStatus.appealed.countsOnRecord && !LicensingActionStatus.overturned.countsOnRecord)
        #expect(LicensingActionStatus.lifted.countsOnRecord && LicensingActionStatus.expired.countsOnRecord)
    }

    @Test("the remedial ladder suggests one rung above the harshest remedial action, a warning first; a fine is no rung of it",
          arguments: [
              ([], LicensingActionType.warning),
              ([.warning], .conditions),
              ([.warning, .conditions], .suspension),
              ([.fine], .warning),
              ([.fine, .warning], .conditions),
              ([.warning, .fine, .fine], .conditions),
              ([.suspension], .revocation),
              ([.revocation], .revocation),
          ] as [([LicensingActionType], LicensingActionType)])
    func ladder(record: [LicensingActionType], suggested: LicensingActionType) {
        #expect(ProportionalityLadder.suggestion(after: record) == suggested)
        for type in LicensingActionType.allCases {
            // A referral decides nothing about the supplier, so it never needs one.
            let harsher = type == .referral ? false : type.remedialRung.map { $0 > suggested.remedialRung! } ?? (suggested == .warning)
            #expect(ProportionalityLadder.needsJustification(type, suggested: suggested) == harsher, "\(type) after \(record)")
        }
    }

    @Test("a past action counts for the profile's years: the look-back starts that many years before today")
    func lookBack() {
        #expect(ProportionalityLadder.recordSince(today: "2026-12-02", years: 5) == "2021-12-02")
        #expect(ProportionalityLadder.recordSince(today: "2028-02-29", years: 1) == "2027-02-28")
        #expect(ProportionalityLadder.recordSince(today: "2028-02-29", years: 4) == "2024-02-29")
        #expect(ProportionalityLadder.recordSince(today: "2026-12-02", years: nil) == nil)
    }

    static func draft(_ type: LicensingActionType) -> LicensingActionDraft {
        LicensingActionDraft(facilitatorID: "6f1c1a52-7d5e-4f83-9a3e-0c2f6d8b9e11", type: type, legalBasis: "Art. 12 Licensing Act",
                             rationale: "Kept shipping after the warning.")
    }

    @Test("each type asks for its own fields and refuses the others'")
    func typeSpecificFields() {
        #expect(Self.draft(.warning).problems().isEmpty)
        #expect(Self.draft(.revocation).problems().isEmpty)
        #expect(Set(Self.draft(.conditions).problems().map(\.field)) == ["conditions"])
        #expect(Set(Self.draft(.fine).problems().map(\.field)) == ["amount_minor", "currency"])
        #expect(Set(Self.draft(.suspension).problems().map(\.field)) == ["effective_from", "effective_to"])

        var fine = Self.draft(.fine)
        fine.amountMinor = 2_500_000
        fine.currency = "EUR"
        #expect(fine.problems().isEmpty)
        fine.currency = "EURO"
        fine.amountMinor = -5
        #expect(Set(fine.problems().map(\.field)) == ["amount_minor", "currency"])

        var warning = Self.draft(.warning)
        warning.conditions = "Check bulk senders."
        warning.amountMinor = 100
        warning.effectiveTo = "2026-12-31"
        #expect(Set(warning.problems().map(\.field)) == ["conditions", "amount_minor", "effective_to"])

        var suspension = Self.draft(.suspension)
        suspension.effectiveFrom = "2026-07-01"
        suspension.effectiveTo = "2026-06-30"
        #expect(suspension.problems().map(\.field) == ["effective_to"])
        suspension.effectiveTo = "2026-02-30"
        #expect(suspension.problems().map(\.field) == ["effective_to"])

        var revocation = Self.draft(.revocation)
        revocation.effectiveTo = "2027-01-01"
        revocation.legalBasis = "  "
        #expect(Set(revocation.problems().map(\.field)) == ["effective_to", "legal_basis"])
    }
}
