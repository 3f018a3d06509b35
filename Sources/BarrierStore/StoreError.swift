import BarrierCore

/// What the store refuses, in the domain's words; the server maps each case to
/// one HTTP status in one place, the CLI to one line on stderr.
public enum StoreError: Error, Equatable, Sendable {
    /// No row with that id (or it is not visible to the caller).
    case notFound(entity: String, id: String)
    /// The client's version is not the current one: someone else changed it first.
    case versionConflict(current: Int)
    /// The input breaks a rule; every broken field is listed.
    case invalid([FieldError])
    /// Likely duplicates of an existing supplier; `overridable` is false when an
    /// equal registration number in the same country rules the creation out.
    case duplicates([DuplicateCandidate], overridable: Bool)
    /// A change the current state does not allow, with a sentence saying why.
    case conflict(String)
    /// A lifecycle step that does not exist from the current state; `allowed` lists those that do.
    case transition(entity: String, from: String, to: String, allowed: [String])
    /// A rule of due process refuses the step; `errors` names each missing element (field = its code).
    case refused(title: String, detail: String, errors: [FieldError])
    /// The caller may not take this step on this record (for instance the four-eyes rule).
    case forbidden(String)
    /// The local PostgreSQL cannot be set up; the message says what to do.
    case cluster(String)
    /// A migration problem, naming the file.
    case migration(String)
}

/// An existing supplier that looks like the one being registered.
public struct DuplicateCandidate: Codable, Equatable, Sendable {
    public var id: String
    public var legalName: String
    public var country: String
    /// 1.0 for an equal identifier, the trigram similarity for a name.
    public var score: Double
    /// `legal_name`, `aliases`, `registration_number` or `vat_number`.
    public var matchedField: String
    /// The CSV line the candidate was found for, in imports.
    public var line: Int?

    public init(id: String, legalName: String, country: String, score: Double, matchedField: String, line: Int? = nil) {
        self.id = id
        self.legalName = legalName
        self.country = country
        self.score = score
        self.matchedField = matchedField
        self.line = line
    }

    enum CodingKeys: String, CodingKey {
        case id, legalName = "legal_name", country, score, matchedField = "matched_field", line
    }
}

extension StoreError {
    /// "A sent letter cannot become approved; allowed next: delivered, returned."
    public static func transitionRefusal(entity: String, from: String, to: String, allowed: [String]) -> String {
        let options = allowed.isEmpty ? "none: its lifecycle has ended" : allowed.joined(separator: ", ")
        return "A \(from) \(entity) cannot become \(to); allowed next: \(options)."
    }
}
