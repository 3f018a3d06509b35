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
        guard c.version == expectedVersion else { return .versionConflict(current: c.version) }
        guard c.status.canMove(to: status) else {
            return .transition(from: c.status, allowed: MeasureStatus.allCases.filter { c.status.canMove(to: $0) })
        }
        var errors = FieldErrors()
        if !ISODay.isValid(day) { errors.add("on", "must be a day written YYYY-MM-DD") }
        else if day > c.today { errors.add("on", "is in the future") }
        else if day < c.earliest { errors.add("on", "is before the commitment or its implementation (\(c.earliest))") }
        if status == .verified && (method ?? "").allSatisfy(\.isWhitespace) { errors.add("method", "is required: say how it was verified") }
        if (method ?? "").count > 2000 { errors.add("method", "must be at most 2000 characters") }
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
        guard c.version == expectedVersion else { return .versionConflict(current: c.version) }
        var problems = c.level.problems(changingTo: next, reason: reason)
        if c.letterIsTheSuppliers == false { problems.append(FieldError(field: "letter_id", message: "is not a letter to this supplier")) }
        if c.contactIsTheSuppliers == false { problems.append(FieldError(field: "contact_id", message: "is not a contact with this supplier")) }
        return problems.isEmpty ? nil : .invalid(problems)
    }
}
