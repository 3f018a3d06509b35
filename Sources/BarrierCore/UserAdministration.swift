/// What an agency's administrator may do to one of the agency's users, and
/// the rules for passwords and token expiry days. Pure decisions: the store
/// reads the user, asks here, then writes (or refuses with the answer).

/// A change an administrator makes to a user.
public enum UserChange: Sendable, Equatable, CustomStringConvertible {
    case setRole(Role)
    case disable
    case enable
    case resetPassword
    case issueToken

    public var description: String {
        switch self {
        case .setRole(let role): return "setRole(\(role.rawValue))"
        case .disable: return "disable"
        case .enable: return "enable"
        case .resetPassword: return "resetPassword"
        case .issueToken: return "issueToken"
        }
    }
}

/// The user as the decision reads them.
public struct UserAccountState: Sendable, Equatable {
    public var role: Role
    public var disabled: Bool

    public init(role: Role, disabled: Bool) {
        self.role = role
        self.disabled = disabled
    }
}

/// Why a change is refused.
public enum UserChangeRefusal: Sendable, Equatable {
    /// An administrator may not disable their own account (nobody could enable it again from it).
    case disablingSelf
    /// An administrator may not take their own admin role away; another administrator must.
    case demotingSelf
    /// One's own password is changed on one's account page, with the current password.
    case resettingOwnPassword
    /// The user is already in the state asked for.
    case unchanged(String)
    /// A disabled user is given no new API token.
    case disabledUser

    /// Whether the refusal is about who acts (the same change on another user would be allowed).
    public var isAboutSelf: Bool {
        switch self {
        case .disablingSelf, .demotingSelf, .resettingOwnPassword: return true
        case .unchanged, .disabledUser: return false
        }
    }

    public var message: String {
        switch self {
        case .disablingSelf: return "You cannot disable your own account; another administrator must do it."
        case .demotingSelf: return "You cannot remove your own admin role; another administrator must do it."
        case .resettingOwnPassword: return "Change your own password on your account page, with your current password."
        case .unchanged(let why): return why
        case .disabledUser: return "The user is disabled: enable them before issuing a token."
        }
    }
}

public enum UserAdministration {
    /// Why `change` may not be made to `target`, or nil when it may; `actingOnSelf`
    /// when the administrator is the target.
    public static func refusal(_ change: UserChange, target: UserAccountState, actingOnSelf: Bool) -> UserChangeRefusal? {
        switch change {
        case .setRole(let role):
            if actingOnSelf && target.role == .admin && role != .admin { return .demotingSelf }
            if role == target.role { return .unchanged("The user is already \(role.rawValue).") }
        case .disable:
            if actingOnSelf { return .disablingSelf }
            if target.disabled { return .unchanged("The user is already disabled.") }
        case .enable:
            if !target.disabled { return .unchanged("The user is not disabled.") }
        case .resetPassword:
            if actingOnSelf { return .resettingOwnPassword }
        case .issueToken:
            if target.disabled { return .disabledUser }
        }
        return nil
    }
}

/// What a password must be.
public enum PasswordRule {
    public static let minimumLength = 12
    /// bcrypt reads no further than 72 bytes: a longer password would be
    /// equal to every other that shares its first 72.
    public static let maximumBytes = 72

    /// What is wrong with `password` as a new password, or nil.
    public static func problem(_ password: String) -> String? {
        if password.count < minimumLength { return "must be at least \(minimumLength) characters" }
        if password.utf8.count > maximumBytes { return "must be at most \(maximumBytes) bytes" }
        return nil
    }

    /// What is wrong with changing one's password from `current` (as typed) to
    /// `new`: field `current_password` when none was typed, `new_password` for the new one.
    /// Whether `current` is the right password is the store's to check.
    public static func changeProblems(current: String, new: String) -> [FieldError] {
        var errors = FieldErrors()
        if current.isEmpty { errors.add("current_password", "enter your current password") }
        if let problem = problem(new) {
            errors.add("new_password", problem)
        } else if new == current {
            errors.add("new_password", "must differ from the current password")
        }
        return errors.errors
    }
}

/// The last day an API token works, as an administrator chooses it.
public enum TokenExpiry {
    /// What is wrong with `lastDay` (YYYY-MM-DD) as the last day a token works, or nil.
    public static func problem(lastDay: String, today: String) -> String? {
        guard ISODay.isValid(lastDay) else { return "must be a day as YYYY-MM-DD" }
        if lastDay < today { return "must be today or later" }
        return nil
    }
}
