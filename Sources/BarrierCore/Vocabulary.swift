/// The barrier model's fixed vocabularies. Sectors are not here: they are rows
/// in the `sectors` table, so an administrator can add one without a release.

/// A closed list of words with a name for the list, so every reader of user
/// input refuses an unknown word with the same sentence.
public protocol NamedVocabulary: RawRepresentable, CaseIterable where RawValue == String {
    static var noun: String { get }
}

extension NamedVocabulary {
    /// "'flying' is not a stage; use setting_up_marketplace, …"
    public static func notOne(_ raw: String) -> String {
        "'\(raw)' is not a \(noun); use \(allCases.map(\.rawValue).joined(separator: ", "))"
    }
}

/// A stage of the criminal business process that a supplier's service can serve.
public enum Stage: String, CaseIterable, Codable, Sendable, Comparable, NamedVocabulary {
    public static let noun = "stage"
    case settingUpMarketplace = "setting_up_marketplace"
    case runningMarketplace = "running_marketplace"
    case selling
    case shipping

    public static func < (lhs: Stage, rhs: Stage) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// The illegal market a supplier is misused for; one registry serves all three.
public enum Market: String, CaseIterable, Codable, Sendable, Comparable, NamedVocabulary {
    public static let noun = "market"
    case drugs
    case firearms
    case contraband

    public static func < (lhs: Market, rhs: Market) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Whether a registered supplier still trades. Records are archived, never deleted.
public enum FacilitatorStatus: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "status"
    case active
    case dormant
    case dissolved
    case archived
}

/// What a user may do: admins everything, officers the registry work, auditors read.
public enum Role: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "role"
    case admin
    case officer
    case auditor

    /// Whether this role may change registry data.
    public var canWrite: Bool { self != .auditor }
    /// Whether this role may read the audit log.
    public var canReadAudit: Bool { self != .officer }
    /// Whether this role may manage users, templates and the agency's letterhead.
    public var canAdminister: Bool { self == .admin }
}

/// Who made a change, for the audit log.
public struct Actor: Sendable, Equatable {
    public var userID: UUIDString?
    public var agencyID: UUIDString?
    /// A readable name for the log: the user's e-mail, or `cli:<unix user>` for the command line.
    public var label: String
    public var requestID: String?

    public init(userID: UUIDString?, agencyID: UUIDString?, label: String, requestID: String? = nil) {
        self.userID = userID
        self.agencyID = agencyID
        self.label = label
        self.requestID = requestID
    }
}

/// A UUID kept as its lowercase text, so BarrierCore needs no Foundation.
public typealias UUIDString = String

extension Actor {
    /// The actor as the four-eyes rule compares people.
    public var person: FourEyes.Person { FourEyes.Person(userID: userID, label: label) }
}
