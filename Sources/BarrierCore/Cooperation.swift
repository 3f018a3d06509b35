/// How far a supplier cooperates. Letters move it automatically at two points
/// (see `afterDelivery` and `afterNoResponse`); every other change is an
/// officer's, with a reason.
public enum CooperationLevel: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "cooperation level"
    case notContacted = "not_contacted"
    case informed
    case engaged
    case cooperating
    case partiallyCooperating = "partially_cooperating"
    case unresponsive
    case refusing

    /// A delivered first-contact letter informs a supplier not contacted before.
    public static func afterDelivery(of kind: LetterKind, current: CooperationLevel) -> CooperationLevel? {
        kind == .informCallToAction && current == .notContacted ? .informed : nil
    }

    /// An outreach letter left unanswered makes an informed supplier unresponsive.
    public static func afterNoResponse(of kind: LetterKind, current: CooperationLevel) -> CooperationLevel? {
        [.informCallToAction, .reminder].contains(kind) && current == .informed ? .unresponsive : nil
    }

    /// What is wrong with an officer moving a supplier from `self` to `next` with `reason`.
    public func problems(changingTo next: CooperationLevel, reason: String) -> [FieldError] {
        var errors = FieldErrors()
        if next == self { errors.add("level", "is already \(rawValue)") }
        if next == .notContacted { errors.add("level", "a supplier that was contacted cannot become not_contacted again") }
        if reason.allSatisfy(\.isWhitespace) { errors.add("reason", "is required: say why the level changes") }
        else if reason.count > 5000 { errors.add("reason", "must be at most 5000 characters") }
        return errors.errors
    }
}

/// A contact with a supplier, for the contacts log.
public enum ContactKind: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "contact kind"
    case meeting, call, email, letter, visit, other
}

/// Where a committed measure stands. `lapsed` is never stored: a commitment
/// past its due date without verification shows as lapsed.
public enum MeasureStatus: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "measure status"
    case committed, implemented, verified, lapsed

    /// The steps an officer records: committed → implemented → verified (or straight to verified).
    public func canMove(to next: MeasureStatus) -> Bool {
        switch (self, next) {
        case (.committed, .implemented), (.committed, .verified), (.implemented, .verified): return true
        default: return false
        }
    }
}

/// What recording a commitment's implementation or verification reads.
public struct CommitmentCase: Sendable, Equatable {
    public var status: MeasureStatus
    public var version: Int
    /// The commitment's day, or its implementation's when it has one: no step is recorded before it.
    public var earliest: String
    public var today: String

    public init(status: MeasureStatus, version: Int, earliest: String, today: String) {
        self.status = status; self.version = version; self.earliest = earliest; self.today = today
    }
}

/// Recording that a committed measure was implemented or verified, as one pure
/// decision: the version, the step, the day (not in the future, not before the
/// commitment or its implementation), and for a verification how it was checked.
public enum CommitmentStep {
    public enum Refusal: Error, Sendable, Equatable {
        case versionConflict(current: Int)
        case transition(from: MeasureStatus, allowed: [MeasureStatus])
        case invalid([FieldError])
    }

    /// Nil when the step may be recorded.
    public static func refusal(_ c: CommitmentCase, to status: MeasureStatus, on day: String, method: String?,
                               expectedVersion: Int) -> Refusal? {
        // What the request gets wrong on its own comes first: a malformed step is
        // refused as invalid (422) whatever the version it names.
        var input = FieldErrors()
        if !ISODay.isValid(day) { input.add("on", "must be a day written YYYY-MM-DD") }
        if status == .verified && (method ?? "").allSatisfy(\.isWhitespace) { input.add("method", "is required: say how it was verified") }
        if (method ?? "").count > 2000 { input.add("method", "must be at most 2000 characters") }
        if !input.isEmpty {
            // Every problem named, the day's place too.
            if ISODay.isValid(day) && day > c.today { input.add("on", "is in the future") }
            else if ISODay.isValid(day) && day < c.earliest { input.add("on", "is before the commitment or its implementation (\(c.earliest))") }
            return .invalid(input.errors)
        }
        guard c.version == expectedVersion else { return .versionConflict(current: c.version) }
        guard c.status.canMove(to: status) else {
            return .transition(from: c.status, allowed: MeasureStatus.allCases.filter { c.status.canMove(to: $0) })
        }
        var errors = FieldErrors()
        if day > c.today { errors.add("on", "is in the future") }
        else if day < c.earliest { errors.add("on", "is before the commitment or its implementation (\(c.earliest))") }
        return errors.isEmpty ? nil : .invalid(errors.errors)
    }
}

/// What an officer's change of a supplier's cooperation level reads: the
/// agency's level and its version, and whether the letter or contact it rests
/// on is the agency's own with this supplier.
public struct CooperationChangeCase: Sendable, Equatable {
    public var level: CooperationLevel
    public var version: Int
    /// Nil: no letter named; false: a letter that is not one to this supplier.
    public var letterIsTheSuppliers: Bool?
    public var contactIsTheSuppliers: Bool?

    public init(level: CooperationLevel, version: Int, letterIsTheSuppliers: Bool?, contactIsTheSuppliers: Bool?) {
        self.level = level; self.version = version
        self.letterIsTheSuppliers = letterIsTheSuppliers; self.contactIsTheSuppliers = contactIsTheSuppliers
    }
}

/// An officer's change of level, as one pure decision: the version, then every
/// problem with the new level, the reason and what it rests on.
public enum CooperationChange {
    public enum Refusal: Error, Sendable, Equatable {
        case versionConflict(current: Int)
        case invalid([FieldError])
    }

    public static func refusal(_ c: CooperationChangeCase, to next: CooperationLevel, reason: String, expectedVersion: Int) -> Refusal? {
        // Invalid input is refused (422) before the version is compared.
        var problems = c.level.problems(changingTo: next, reason: reason)
        if c.letterIsTheSuppliers == false { problems.append(FieldError(field: "letter_id", message: "is not a letter to this supplier")) }
        if c.contactIsTheSuppliers == false { problems.append(FieldError(field: "contact_id", message: "is not a contact with this supplier")) }
        if !problems.isEmpty { return .invalid(problems) }
        guard c.version == expectedVersion else { return .versionConflict(current: c.version) }
        return nil
    }
}

/// Logging a contact with a supplier (a meeting, a call): what happened, when
/// (not in the future), who took part, notes.
public enum ContactLog {
    public static func problems(on day: String, participants: [String], notes: String, today: String) -> [FieldError] {
        var errors = FieldErrors()
        if !ISODay.isValid(day) { errors.add("occurred_on", "must be a day written YYYY-MM-DD") }
        else if day > today { errors.add("occurred_on", "is in the future; log contacts that happened") }
        if participants.count > 50 { errors.add("participants", "may name at most 50 people") }
        if participants.contains(where: { $0.allSatisfy(\.isWhitespace) || $0.count > 200 }) {
            errors.add("participants", "each must be a name of 1 to 200 characters")
        }
        if notes.count > 20000 { errors.add("notes", "must be at most 20000 characters") }
        return errors.errors
    }
}

/// What recording a new commitment reads: whether the measure is in the
/// catalogue, whether the letter it answers is the agency's own to this
/// supplier, whether the supplier already committed to it with this agency, today.
public struct NewCommitmentCase: Sendable, Equatable {
    public var measureKnown: Bool
    /// Nil: no letter named.
    public var letterIsTheSuppliers: Bool?
    public var alreadyCommitted: Bool
    public var today: String

    public init(measureKnown: Bool, letterIsTheSuppliers: Bool?, alreadyCommitted: Bool, today: String) {
        self.measureKnown = measureKnown; self.letterIsTheSuppliers = letterIsTheSuppliers
        self.alreadyCommitted = alreadyCommitted; self.today = today
    }
}

/// Recording that a supplier committed to a measure, as one pure decision:
/// a catalogue measure, a commitment that was made (not in the future), a due
/// day not before it, the letter it answers, one commitment per measure.
public enum NewCommitment {
    public enum Refusal: Error, Sendable, Equatable {
        case invalid([FieldError])
        case alreadyCommitted(measure: String)
    }

    public static func refusal(_ c: NewCommitmentCase, measure: String, committedOn: String, dueOn: String, notes: String) -> Refusal? {
        var errors = FieldErrors()
        if !c.measureKnown { errors.add("measure", "'\(measure)' is not a measure of the catalogue") }
        if !ISODay.isValid(committedOn) { errors.add("committed_on", "must be a day written YYYY-MM-DD") }
        else if committedOn > c.today { errors.add("committed_on", "is in the future; record commitments that were made") }
        if !ISODay.isValid(dueOn) { errors.add("due_on", "must be a day written YYYY-MM-DD") }
        else if ISODay.isValid(committedOn) && dueOn < committedOn { errors.add("due_on", "is before the commitment was made") }
        if c.letterIsTheSuppliers == false { errors.add("letter_id", "is not a letter to this supplier") }
        if notes.count > 10000 { errors.add("notes", "must be at most 10000 characters") }
        if !errors.isEmpty { return .invalid(errors.errors) }
        return c.alreadyCommitted ? .alreadyCommitted(measure: measure) : nil
    }
}
