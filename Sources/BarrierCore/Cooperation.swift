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
