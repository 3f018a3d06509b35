import BarrierCore
import Crypto
import Foundation
import HummingbirdBcrypt
import PostgresNIO

/// A user of the caller's agency as its administrators see them.
public struct ManagedUser: Sendable, Equatable {
    public var id: UUID
    public var email: String
    public var fullName: String
    public var role: Role
    public var disabled: Bool
    public var createdAt: Date
    public var version: Int
    /// Until when the sign-in throttle locks the user's address, while it does.
    public var lockedUntil: Date?
    /// Newest first.
    public var tokens: [ManagedToken]

    public var locked: Bool { lockedUntil != nil }
}

/// An API token as its user's administrators see it (never the token itself).
public struct ManagedToken: Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?

    /// Whether the token signs its user in at `now` (their being enabled aside).
    public func isActive(at now: Date = Date()) -> Bool {
        revokedAt == nil && (expiresAt.map { $0 > now } ?? true)
    }
}

/// The administration of an agency's users and their API tokens, and a user's
/// own password. Every query names the caller's agency (`current_agency()`),
/// besides row-level security on `users`; `api_tokens` is reached only through
/// its user. Every change is audited in its transaction.
extension AccessStore {
    static let userColumns = """
        u.id, u.email, u.full_name, u.role, u.disabled, u.created_at, u.version,
        (SELECT th.locked_until FROM sign_in_throttle th WHERE th.email = u.email AND th.locked_until > now())
        """

    /// The agency's users, by name, each with their tokens.
    public func agencyUsers() async throws -> [ManagedUser] {
        let rows = try await db.query(PostgresQuery(unsafeSQL: """
            SELECT \(Self.userColumns) FROM users u WHERE u.agency_id = current_agency() ORDER BY lower(u.full_name), u.email
            """))
        var users = try await Self.decodeUsers(rows)
        let tokens = try await db.query(
            """
            SELECT t.user_id, t.id, t.name, t.created_at, t.expires_at, t.revoked_at
            FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.agency_id = current_agency()
            ORDER BY t.created_at DESC, t.name
            """)
        var byUser: [UUID: [ManagedToken]] = [:]
        for try await (user, id, name, created, expires, revoked) in tokens.decode((UUID, UUID, String, Date, Date?, Date?).self) {
            byUser[user, default: []].append(ManagedToken(id: id, name: name, createdAt: created, expiresAt: expires, revokedAt: revoked))
        }
        for i in users.indices { users[i].tokens = byUser[users[i].id] ?? [] }
        return users
    }

    /// One user of the agency with their tokens; `notFound` for anyone else.
    public func agencyUser(_ id: UUID) async throws -> ManagedUser {
        var binds = PostgresBindings()
        binds.append(id)
        let rows = try await db.query(PostgresQuery(unsafeSQL: """
            SELECT \(Self.userColumns) FROM users u WHERE u.agency_id = current_agency() AND u.id = $1
            """, binds: binds))
        guard var user = try await Self.decodeUsers(rows).first else {
            throw StoreError.notFound(entity: "user", id: id.uuidString.lowercased())
        }
        let tokens = try await db.query(
            """
            SELECT t.id, t.name, t.created_at, t.expires_at, t.revoked_at
            FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.agency_id = current_agency() AND u.id = \(id)
            ORDER BY t.created_at DESC, t.name
            """)
        for try await (tid, name, created, expires, revoked) in tokens.decode((UUID, String, Date, Date?, Date?).self) {
            user.tokens.append(ManagedToken(id: tid, name: name, createdAt: created, expiresAt: expires, revokedAt: revoked))
        }
        return user
    }

    static func decodeUsers(_ rows: Rows) async throws -> [ManagedUser] {
        var users: [ManagedUser] = []
        for try await r in rows.decode((UUID, String, String, String, Bool, Date, Int, Date?).self) {
            guard let role = Role(rawValue: r.3) else { continue }
            users.append(ManagedUser(id: r.0, email: r.1, fullName: r.2, role: role, disabled: r.4, createdAt: r.5, version: r.6,
                                     lockedUntil: r.7, tokens: []))
        }
        return users
    }

    /// Creates a user in the actor's agency (see `createUser`); a given password must
    /// meet `PasswordRule`. Returns the id and, when none was given, the generated password.
    public func createAgencyUser(email: String, fullName: String, role: String, password: String?,
                                 actor: Actor) async throws -> (id: UUID, generatedPassword: String?) {
        guard let agency = actor.agencyID else { throw StoreError.forbidden("Only a user of an agency creates its users.") }
        if let password, let problem = PasswordRule.problem(password) {
            // The other fields' problems too, in one answer.
            throw StoreError.invalid(Self.newUserProblems(email: email, fullName: fullName, role: role)
                                     + [FieldError(field: "password", message: problem)])
        }
        return try await createUser(agency: agency, email: email, fullName: fullName, role: role, password: password, actor: actor)
    }

    /// What `createUser` finds wrong with these fields (besides the password).
    static func newUserProblems(email: String, fullName: String, role: String) -> [FieldError] {
        var errors = FieldErrors()
        if !FacilitatorDraft.isEmail(email.trimmingWhitespace.lowercased()) { errors.add("email", "must be an e-mail address") }
        let name = fullName.trimmingWhitespace
        if name.isEmpty || name.count > 200 { errors.add("name", "must be 1 to 200 characters") }
        if Role(rawValue: role) == nil { errors.add("role", Role.notOne(role)) }
        return errors.errors
    }

    /// Gives a user another role.
    public func setRole(_ id: UUID, to role: String, expectedVersion: Int, actor: Actor) async throws {
        guard let parsed = Role(rawValue: role) else { throw StoreError.invalid([FieldError(field: "role", message: Role.notOne(role))]) }
        try await administer(id, .setRole(parsed), expectedVersion: expectedVersion, actor: actor, action: "user.set_role") { conn in
            try await conn.query("UPDATE users SET role = \(parsed.rawValue), version = version + 1 WHERE id = \(id)", logger: db.logger)
            return nil
        }
    }

    /// Disables a user: they can no longer sign in, their browser sessions end
    /// and their API tokens are revoked (enabling them again revives neither).
    public func disableUser(_ id: UUID, expectedVersion: Int, actor: Actor) async throws {
        try await administer(id, .disable, expectedVersion: expectedVersion, actor: actor, action: "user.disable") { conn in
            try await conn.query("UPDATE users SET disabled = true, version = version + 1 WHERE id = \(id)", logger: db.logger)
            let sessions = try await Self.endSessions(of: id, on: conn, logger: db.logger)
            var revoked: [String] = []
            let rows = try await conn.query(
                "UPDATE api_tokens SET revoked_at = now() WHERE user_id = \(id) AND revoked_at IS NULL RETURNING id", logger: db.logger)
            for try await token in rows.decode(UUID.self) { revoked.append(token.uuidString.lowercased()) }
            let list = revoked.sorted().map { "\"\($0)\"" }.joined(separator: ",")
            return "{\"sessions_ended\": \(sessions), \"tokens_revoked\": [\(list)]}"
        }
    }

    /// Lets a disabled user sign in again (with new tokens; the old ones stay revoked).
    public func enableUser(_ id: UUID, expectedVersion: Int, actor: Actor) async throws {
        try await administer(id, .enable, expectedVersion: expectedVersion, actor: actor, action: "user.enable") { conn in
            try await conn.query("UPDATE users SET disabled = false, version = version + 1 WHERE id = \(id)", logger: db.logger)
            return nil
        }
    }

    /// Sets a user's password to `password` (which must meet `PasswordRule`) or,
    /// when nil, to a generated one, which is returned (once: only its hash is
    /// kept). The user's browser sessions end.
    public func resetPassword(_ id: UUID, to password: String?, actor: Actor) async throws -> String? {
        if let password, let problem = PasswordRule.problem(password) {
            throw StoreError.invalid([FieldError(field: "password", message: problem)])
        }
        let secret = password ?? Self.randomSecret(bytes: 12)
        let hash = await PasswordHashing.hash(secret, cost: passwordCost)
        try await administer(id, .resetPassword, expectedVersion: nil, actor: actor, action: "user.password_reset") { conn in
            try await conn.query("UPDATE users SET password_hash = \(hash) WHERE id = \(id)", logger: db.logger)
            let sessions = try await Self.endSessions(of: id, on: conn, logger: db.logger)
            return "{\"sessions_ended\": \(sessions), \"generated\": \(password == nil)}"
        }
        return password == nil ? secret : nil
    }

    /// Lifts the sign-in lock on a user's address (`unlockSignIn`); a conflict when it is not locked.
    public func unlockUser(_ id: UUID, actor: Actor) async throws {
        let rows = try await db.query("SELECT email FROM users WHERE id = \(id) AND agency_id = current_agency()")
        var email: String?
        for try await found in rows.decode(String.self) { email = found }
        guard let email else { throw StoreError.notFound(entity: "user", id: id.uuidString.lowercased()) }
        do {
            try await unlockSignIn(email: email, actor: actor)
        } catch StoreError.notFound {
            throw StoreError.conflict("The address \(email) is not locked.")
        }
    }

    /// Changes the signed-in user's own password after checking the current one.
    /// Their other browser sessions end; the one whose cookie is `keepingSession` stays.
    public func changeOwnPassword(_ identity: Identity, current: String, new: String, keepingSession: String?) async throws {
        let problems = PasswordRule.changeProblems(current: current, new: new)
        if !problems.isEmpty { throw StoreError.invalid(problems) }
        let rows = try await db.query(
            "SELECT password_hash FROM users WHERE id = \(identity.userID) AND agency_id = current_agency() AND NOT disabled")
        var stored: String?
        for try await hash in rows.decode(String.self) { stored = hash }
        guard let stored else { throw StoreError.notFound(entity: "user", id: identity.userID.uuidString.lowercased()) }
        let valid = await PasswordHashing.verify(current, hash: stored)
        guard valid else { throw StoreError.invalid([FieldError(field: "current_password", message: "is not your current password")]) }
        let hash = await PasswordHashing.hash(new, cost: passwordCost)
        let keep = keepingSession.map { Data(SHA256.hash(data: Data($0.utf8))) } ?? Data()
        let actor = identity.actor(requestID: nil)
        try await db.transaction { conn in
            let updated = try await conn.query(
                """
                UPDATE users SET password_hash = \(hash) WHERE id = \(identity.userID) AND password_hash = \(stored)
                RETURNING jsonb_build_object('id', id, 'email', email)::text
                """, logger: db.logger)
            var document: String?
            for try await json in updated.decode(String.self) { document = json }
            guard let document else { throw StoreError.conflict("Your password was changed meanwhile; sign in again and retry.") }
            let ended = try await conn.query(
                """
                WITH ended AS (DELETE FROM web_sessions WHERE user_id = \(identity.userID) AND token_hash <> \(keep) RETURNING 1)
                SELECT count(*)::int FROM ended
                """, logger: db.logger)
            var sessions = 0
            for try await n in ended.decode(Int.self) { sessions = n }
            try await AuditLog.append(on: conn, actor: actor, action: "user.password_change", entityType: "user",
                                      entityID: identity.userID.uuidString.lowercased(), before: nil,
                                      after: String(document.dropLast()) + ", \"other_sessions_ended\": \(sessions)}", logger: db.logger)
        }
    }

    /// Issues a named API token for a user of the agency; the token is returned
    /// once and only its hash is kept. `lastDay` (YYYY-MM-DD), when given, is the
    /// last day it works (to midnight, the database's time zone).
    public func createToken(forUser id: UUID, name: String, lastDay: String?, actor: Actor) async throws -> (id: UUID, token: String) {
        let name = name.trimmingWhitespace
        var errors = FieldErrors()
        if name.isEmpty || name.count > 100 { errors.add("name", "must be 1 to 100 characters") }
        if let lastDay {
            let today = try await db.query("SELECT current_date::text")
            for try await day in today.decode(String.self) {
                if let problem = TokenExpiry.problem(lastDay: lastDay, today: day) { errors.add("expires_on", problem) }
            }
        }
        if !errors.isEmpty { throw StoreError.invalid(errors.errors) }
        let token = "brg_" + Self.randomSecret(bytes: 32)
        let hash = Data(SHA256.hash(data: Data(token.utf8)))
        return try await db.transaction { conn in
            let user = try await Self.lockUser(id, on: conn, logger: db.logger)
            if let refusal = UserAdministration.refusal(.issueToken, target: user.state, actingOnSelf: false) {
                throw StoreError.conflict(refusal.message)
            }
            let same = try await conn.query(
                "SELECT count(*)::int FROM api_tokens WHERE user_id = \(id) AND name = \(name) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
                logger: db.logger)
            for try await n in same.decode(Int.self) where n > 0 {
                throw StoreError.invalid([FieldError(field: "name", message: "the user has a working token named '\(name)' already")])
            }
            let rows = try await conn.query(
                """
                INSERT INTO api_tokens (user_id, name, token_hash, expires_at)
                VALUES (\(id), \(name), \(hash), (\(lastDay)::date + 1)::timestamptz)
                RETURNING id, jsonb_build_object('id', id, 'user_id', user_id, 'name', name, 'expires_at', expires_at)::text
                """, logger: db.logger)
            for try await (tokenID, json) in rows.decode((UUID, String).self) {
                try await AuditLog.append(on: conn, actor: actor, action: "token.create", entityType: "api_token",
                                          entityID: tokenID.uuidString.lowercased(), before: nil, after: json, logger: db.logger)
                return (tokenID, token)
            }
            throw StoreError.conflict("the token was not issued")
        }
    }

    /// Revokes an API token of a user of the agency (of `user` when given); `notFound` for any other token.
    public func revokeToken(_ tokenID: UUID, ofUser user: UUID? = nil, actor: Actor) async throws {
        try await db.transaction { conn in
            let rows = try await conn.query(
                """
                SELECT t.revoked_at IS NOT NULL,
                       jsonb_build_object('id', t.id, 'user_id', t.user_id, 'name', t.name, 'expires_at', t.expires_at, 'revoked_at', t.revoked_at)::text
                FROM api_tokens t JOIN users u ON u.id = t.user_id
                WHERE t.id = \(tokenID) AND u.agency_id = current_agency() AND (\(user)::uuid IS NULL OR t.user_id = \(user))
                FOR UPDATE OF t
                """, logger: db.logger)
            var found: (Bool, String)?
            for try await row in rows.decode((Bool, String).self) { found = row }
            guard let (revoked, before) = found else { throw StoreError.notFound(entity: "api token", id: tokenID.uuidString.lowercased()) }
            if revoked { throw StoreError.conflict("The token is revoked already.") }
            let updated = try await conn.query(
                """
                UPDATE api_tokens t SET revoked_at = now() WHERE t.id = \(tokenID)
                RETURNING jsonb_build_object('id', t.id, 'user_id', t.user_id, 'name', t.name, 'expires_at', t.expires_at, 'revoked_at', t.revoked_at)::text
                """, logger: db.logger)
            for try await after in updated.decode(String.self) {
                try await AuditLog.append(on: conn, actor: actor, action: "token.revoke", entityType: "api_token",
                                          entityID: tokenID.uuidString.lowercased(), before: before, after: after, logger: db.logger)
            }
        }
    }

    // MARK: The shared steps

    struct LockedUser {
        var state: UserAccountState
        var version: Int
        var document: String
    }

    static let userDocument = """
        jsonb_build_object('id', id, 'email', email, 'full_name', full_name, 'role', role, 'disabled', disabled, 'version', version)
        """

    /// The agency's user `id`, locked for the change.
    static func lockUser(_ id: UUID, on conn: PostgresConnection, logger: Logger) async throws -> LockedUser {
        var binds = PostgresBindings()
        binds.append(id)
        let rows = try await conn.query(PostgresQuery(unsafeSQL: """
            SELECT role, disabled, version, \(userDocument)::text FROM users WHERE id = $1 AND agency_id = current_agency() FOR UPDATE
            """, binds: binds), logger: logger)
        for try await (role, disabled, version, document) in rows.decode((String, Bool, Int, String).self) {
            guard let role = Role(rawValue: role) else { break }
            return LockedUser(state: UserAccountState(role: role, disabled: disabled), version: version, document: document)
        }
        throw StoreError.notFound(entity: "user", id: id.uuidString.lowercased())
    }

    /// Ends every browser session of a user; returns how many there were.
    static func endSessions(of user: UUID, on conn: PostgresConnection, logger: Logger) async throws -> Int {
        let rows = try await conn.query(
            "WITH ended AS (DELETE FROM web_sessions WHERE user_id = \(user) RETURNING 1) SELECT count(*)::int FROM ended", logger: logger)
        for try await n in rows.decode(Int.self) { return n }
        return 0
    }

    /// Locks the user, checks the version and `UserAdministration`'s rule, runs
    /// `write` (which may return a JSON object of what else happened) and audits
    /// the change in the same transaction. A refusal about acting on oneself is
    /// `forbidden`; one about the user's state a `conflict`.
    func administer(_ id: UUID, _ change: UserChange, expectedVersion: Int?, actor: Actor, action: String,
                    _ write: (PostgresConnection) async throws -> String?) async throws {
        try await db.transaction { conn in
            let user = try await Self.lockUser(id, on: conn, logger: db.logger)
            if let expectedVersion, expectedVersion != user.version { throw StoreError.versionConflict(current: user.version) }
            let onSelf = actor.userID?.lowercased() == id.uuidString.lowercased()
            if let refusal = UserAdministration.refusal(change, target: user.state, actingOnSelf: onSelf) {
                throw refusal.isAboutSelf ? StoreError.forbidden(refusal.message) : StoreError.conflict(refusal.message)
            }
            let extra = try await write(conn)
            var binds = PostgresBindings()
            binds.append(extra)
            binds.append(id)
            let rows = try await conn.query(PostgresQuery(unsafeSQL: """
                SELECT (\(Self.userDocument) || coalesce($1::jsonb, '{}'::jsonb))::text FROM users WHERE id = $2
                """, binds: binds), logger: db.logger)
            var after: String?
            for try await json in rows.decode(String.self) { after = json }
            try await AuditLog.append(on: conn, actor: actor, action: action, entityType: "user", entityID: id.uuidString.lowercased(),
                                      before: user.document, after: after, logger: db.logger)
        }
    }
}
