import Foundation
import Testing

@testable import BarrierCore

/// Contacts, new commitments, signals (recording, correcting, sharing, revoking,
/// attaching) and action-plan steps, each over every combination of what it
/// reads, against an oracle from the rule's words.
@Suite("Record-keeping decisions")
struct RecordKeepingDecisionTests {
    static let today = "2026-12-02"
    static let days = ["2026-11-15", today, "2026-12-03", "2026-02-30", "15.11.2026"]

    @Test("a contact: a day that happened, up to 50 named participants, notes within bounds")
    func contacts() {
        let participantSets: [[String]] = [[], ["A. Jansen"], [" "], [String(repeating: "n", count: 201)], Array(repeating: "X", count: 51)]
        for day in Self.days {
            for participants in participantSets {
                for notes in ["", String(repeating: "n", count: 20_001)] {
                    let fields = Set(ContactLog.problems(on: day, participants: participants, notes: notes, today: Self.today).map(\.field))
                    var expected: Set<String> = []
                    if !ISODay.isValid(day) || day > Self.today { expected.insert("occurred_on") }
                    if participants.count > 50 || participants.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty || $0.count > 200 }) {
                        expected.insert("participants")
                    }
                    if notes.count > 20_000 { expected.insert("notes") }
                    #expect(fields == expected, "\(day) \(participants.count) participants, notes \(notes.count)")
                }
            }
        }
    }

    @Test("a new commitment: catalogue measure, days, the letter it answers, once per measure")
    func newCommitments() {
        for known in [true, false] {
            for letter in [nil, true, false] as [Bool?] {
                for already in [false, true] {
                    for committed in Self.days {
                        for due in ["2026-11-01", "2026-11-15", "2027-03-01", "2027-02-29"] {
                            let c = NewCommitmentCase(measureKnown: known, letterIsTheSuppliers: letter, alreadyCommitted: already, today: Self.today)
                            let got = NewCommitment.refusal(c, measure: "courier.age_check", committedOn: committed, dueOn: due, notes: "")
                            var fields: Set<String> = []
                            if !known { fields.insert("measure") }
                            if !ISODay.isValid(committed) || committed > Self.today { fields.insert("committed_on") }
                            if !ISODay.isValid(due) || (ISODay.isValid(committed) && due < committed) { fields.insert("due_on") }
                            if letter == false { fields.insert("letter_id") }
                            switch got {
                            case .invalid(let problems): #expect(Set(problems.map(\.field)) == fields, "\(known) \(String(describing: letter)) \(committed) \(due)")
                            case .alreadyCommitted: #expect(fields.isEmpty && already)
                            case nil: #expect(fields.isEmpty && !already)
                            }
                        }
                    }
                }
            }
        }
    }

    static func draft(observedOn: String = "2026-11-20", suppliers: [String]) -> SignalDraft {
        SignalDraft(type: .logistical, stage: .shipping, indicatorCode: "ship.repeat_sender", observedOn: observedOn, source: "Customs",
                    reporter: "Officer K", description: "", facilitatorIDs: suppliers)
    }

    enum Got: Equatable { case ok, notFound, readOnly, stale, invalid(Set<String>), other }

    static func got(_ refusal: SignalDecision.Refusal?) -> Got {
        switch refusal {
        case nil: .ok
        case .notFound: .notFound
        case .readOnly: .readOnly
        case .versionConflict: .stale
        case .invalid(let problems): .invalid(Set(problems.map(\.field)))
        default: .other
        }
    }

    @Test("recording and correcting a signal: access, version, reason, catalogue, suppliers, day",
          arguments: [nil, SignalAccess.own, .sharedToRead])
    func signalRecording(access: SignalAccess?) {
        let a = "6f1c3a52-0d4e-4b8e-9a57-2f7d1c0b9e11", b = "1b5f5b4d-84a2-4e1c-9d9a-2c3e4f5a6b72"
        for correction in [nil, ("Wrong date", 3), ("Wrong date", 2), (" ", 3)] as [(String, Int)?] {
            for (suppliers, wellFormed, registered) in [([a], true, 1), ([a, b], true, 1), (["nope"], false, 0), ([], true, 0)] {
                for observed in ["2026-11-20", "2026-12-24"] {
                    let rules: [[String: IndicatorRule]] = [["ship.repeat_sender": IndicatorRule(type: .logistical, stages: [.selling, .shipping])], [:],
                                                            ["ship.repeat_sender": IndicatorRule(type: .financial, stages: [.shipping])],
                                                            ["ship.repeat_sender": IndicatorRule(type: .logistical, stages: [.selling])]]
                    for known in rules {
                        let c = SignalRecordingCase(access: access, version: 3, knownIndicators: known, registeredSuppliers: registered,
                                                    supplierIDsWellFormed: wellFormed, today: Self.today)
                        let got = Self.got(SignalDecision.recording(c, Self.draft(observedOn: observed, suppliers: suppliers),
                                                                    correction: correction.map { ($0.0, $0.1) }))
                        var fields: Set<String> = []
                        // Unknown, or known with another type or without the signal's stage.
                        if known["ship.repeat_sender"] != IndicatorRule(type: .logistical, stages: [.selling, .shipping]) { fields.insert("indicator") }
                        if observed > Self.today { fields.insert("observed_on") }
                        if suppliers.isEmpty || !wellFormed || registered != suppliers.count { fields.insert("facilitator_ids") }
                        let expected: Got
                        if let correction {
                            if access == nil { expected = .notFound }
                            else if access == .sharedToRead { expected = .readOnly }
                            else if correction.0.trimmingCharacters(in: .whitespaces).isEmpty { expected = .invalid(["correction_reason"]) }
                            else if !fields.isEmpty { expected = .invalid(fields) }
                            else { expected = correction.1 != 3 ? .stale : .ok }
                        } else {
                            expected = fields.isEmpty ? .ok : .invalid(fields)
                        }
                        #expect(got == expected, "\(String(describing: access)) \(String(describing: correction)) \(suppliers) \(observed) \(known)")
                    }
                }
            }
        }
    }

    @Test("a signal may name no supplier when it names the market actor it concerns; a blank actor is refused")
    func marketActor() {
        let c = SignalRecordingCase(access: nil, version: 1, knownIndicators: ["ship.repeat_sender": IndicatorRule(type: .logistical, stages: [.shipping])],
                                    registeredSuppliers: 0, supplierIDsWellFormed: true, today: Self.today)
        var draft = Self.draft(suppliers: [])
        #expect(Self.got(SignalDecision.recording(c, draft, correction: nil)) == .invalid(["facilitator_ids"]))
        draft.marketActor = "Administrator 'kingpin' of market Archetyp"
        #expect(Self.got(SignalDecision.recording(c, draft, correction: nil)) == .ok)
        draft.marketActor = " "
        #expect(Self.got(SignalDecision.recording(c, draft, correction: nil)) == .invalid(["market_actor"]))
    }

    @Test("sharing, revoking and attaching: only the owner; basis, receiver, open share, reason, file",
          arguments: [nil, SignalAccess.own, .sharedToRead])
    func signalSharing(access: SignalAccess?) {
        for receiver in [SignalDecision.Receiver.none, .own, .other] {
            for open in [false, true] {
                for basis in ["Police Act §12", " "] {
                    let got = SignalDecision.sharing(access: access, with: "Agency B", receiver: receiver, openShareExists: open,
                                                     legalBasis: basis, handlingNote: "")
                    var fields: Set<String> = []
                    if basis == " " { fields.insert("legal_basis") }
                    if receiver == .own { fields.insert("agency") }
                    if fields.isEmpty && receiver == .none { fields.insert("agency") }
                    let expected: SignalDecision.Refusal?
                    switch access {
                    case nil: expected = .notFound
                    case .sharedToRead: expected = .readOnly
                    case .own: expected = !fields.isEmpty ? .invalid([]) : open ? .alreadyShared : nil
                    }
                    if case .invalid(let problems) = got { #expect(Set(problems.map(\.field)) == fields) }
                    else { #expect(got == expected, "\(String(describing: access)) \(receiver) open: \(open) basis: \(basis)") }
                    if case .invalid = expected {} else { #expect(got == expected) }
                }
            }
        }
        for share in [nil, false, true] as [Bool?] {
            for reason in ["Investigation closed", ""] {
                let got = SignalDecision.revoking(access: access, shareRevoked: share, reason: reason)
                let expected: Got
                if access == nil { expected = .notFound }
                else if access == .sharedToRead { expected = .readOnly }
                else if share == nil { expected = .other }
                else if share == true { expected = .other }
                else { expected = reason.isEmpty ? .invalid(["reason"]) : .ok }
                #expect(Self.got(got) == expected, "\(String(describing: access)) share: \(String(describing: share)) reason: \(reason)")
                if access == .own, share == nil { #expect(got == .shareNotFound) }
                if access == .own, share == true { #expect(got == .alreadyRevoked) }
            }
        }
        for fileProblems in [[], [FieldError(field: "document", message: "is empty")]] {
            let got = Self.got(SignalDecision.attaching(access: access, fileProblems: fileProblems))
            let expected: Got = access == nil ? .notFound : !fileProblems.isEmpty ? .invalid(["attachment"]) : access == .own ? .ok : .readOnly
            #expect(got == expected)
        }
    }

    @Test("a step on an action plan: version, the indicator or measure named, a manual value on a past day",
          arguments: IndicatorMetric.allCases.map(Optional.some) + [nil])
    func actionPlanSteps(metric: IndicatorMetric?) {
        for stale in [false, true] {
            for value in [0, 12.5, -1, .infinity] {
                for day in Self.days {
                    let c = ActionPlanStepCase(version: 5, today: Self.today, metric: metric)
                    let got = ActionPlanStep.measurement(indicator: 2, value: value, on: day).refusal(c, expectedVersion: stale ? 4 : 5)
                    var fields: Set<String> = []
                    if !ISODay.isValid(day) || day > Self.today { fields.insert("on") }
                    if value < 0 || !value.isFinite || metric != .manual { fields.insert("value") }
                    // The value and day as sent first (whatever the version), then the version, then the indicator.
                    let ownFields = fields.subtracting(value < 0 || !value.isFinite ? [] : ["value"])
                    if !ownFields.isEmpty {
                        let named: Set<String> = metric == nil ? ownFields : fields
                        if case .invalid(let problems) = got { #expect(Set(problems.map(\.field)) == named, "\(String(describing: metric)) \(value) \(day)") }
                        else { Issue.record("\(String(describing: metric)) \(value) \(day): \(String(describing: got))") }
                    }
                    else if stale { #expect(got == .versionConflict(current: 5)) }
                    else if metric == nil { #expect(got == .indicatorNotFound(2)) }
                    else if fields.isEmpty { #expect(got == nil, "\(String(describing: metric)) \(value) \(day)") }
                    else if case .invalid(let problems) = got { #expect(Set(problems.map(\.field)) == fields, "\(String(describing: metric)) \(value) \(day)") }
                    else { Issue.record("\(String(describing: metric)) \(value) \(day): \(String(describing: got))") }
                }
            }
        }
        for exists in [true, false] {
            for stale in [false, true] {
                let got = ActionPlanStep.measureStatus(measure: 1, status: .done)
                    .refusal(ActionPlanStepCase(version: 5, today: Self.today, measureExists: exists), expectedVersion: stale ? 4 : 5)
                #expect(got == (stale ? .versionConflict(current: 5) : exists ? nil : .measureNotFound(1)))
            }
        }
    }

    @Test("a plan's revision: the version first, then the draft's own rules, every broken field named")
    func planRevision() {
        let good = ActionPlanDraft(title: "Parcel lockers", coordinatingAgency: "Inspectorate", startsOn: "2026-01-01", endsOn: "2026-12-31",
                                   objectives: ["Inform every parcel service"],
                                   measures: [.init(objective: 0, description: "Send the first letters", dueOn: "2026-03-31")])
        var bad = good
        bad.endsOn = "2025-12-31"
        bad.measures[0].objective = 3
        bad.measures[0].dueOn = "31.03.2026"
        let cases: [(ActionPlanDraft, Set<String>)] = [(good, []), (bad, ["ends_on", "measures[0].objective", "measures[0].due_on"])]
        for (draft, fields) in cases {
            for stale in [false, true] {
                let got = ActionPlanStep.revision(draft).refusal(ActionPlanStepCase(version: 5, today: Self.today), expectedVersion: stale ? 4 : 5)
                if stale { #expect(got == .versionConflict(current: 5)) }
                else if fields.isEmpty { #expect(got == nil) }
                else if case .invalid(let problems) = got { #expect(Set(problems.map(\.field)) == fields) }
                else { Issue.record("\(String(describing: got))") }
            }
        }
    }
}

@Suite("Text a user sends: control characters refused, NFC kept")
struct TextInputTests {
    @Test("every control character but tab and line breaks is refused, anywhere in the text", arguments: Array(0...0xA0))
    func eachScalar(_ value: Int) {
        let scalar = Character(Unicode.Scalar(UInt32(value))!)
        let control = (value < 0x20 && ![0x09, 0x0A, 0x0D].contains(value)) || (0x7F...0x9F).contains(value)
        for text in ["\(scalar)", "Kurier\(scalar)", "\(scalar)Kurier", "Küri\(scalar)er"] {
            #expect(TextInput.hasControlCharacters(text) == control, "U+\(String(value, radix: 16)) in \(text.debugDescription)")
        }
    }

    @Test("decomposed letters are stored composed; ASCII and composed text stay as they are")
    func nfc() {
        #expect(TextInput.normalised("Cafe\u{301} Kurier") == "Café Kurier")
        #expect(TextInput.normalised("Café Kurier").unicodeScalars.count == 11)
        #expect(TextInput.normalised("Plain Kurier GmbH") == "Plain Kurier GmbH")
        #expect(TextInput.normalised("s\u{323}\u{307}") == "\u{1E69}")
    }
}

@Suite("A report's period: at most ten years")
struct ReportPeriodTests {
    @Test("open or closed, a period over 3,653 days is refused on from; up to it, or without from, it is not", arguments: [
        ("2016-12-06", nil as String?, false), ("2016-12-05", nil, true), ("2000-01-01", "2009-12-31", false), ("2000-01-01", "2010-01-01", true),
        ("2026-01-01", "2026-12-31", false), ("not-a-day", nil, false),
    ])
    func period(_ from: String, _ to: String?, _ refused: Bool) {
        let problem = ReportFilter(from: from, to: to).periodProblem(today: "2026-12-06")
        #expect((problem != nil) == refused, "\(from) – \(to ?? "today")")
        #expect(problem.map(\.field) ?? "from" == "from")
    }

    @Test("without from the report's own default period applies")
    func noFrom() {
        #expect(ReportFilter(to: "2026-12-06").periodProblem(today: "2026-12-06") == nil)
    }
}
