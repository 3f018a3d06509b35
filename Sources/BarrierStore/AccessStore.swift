import BarrierCore
import Crypto
import Foundation
import HummingbirdBcrypt
import PostgresNIO

/// A signed-in user, as the server's authorisation sees them.
public struct Identity: Sendable, Equatable {
    public var userID: UUID
    public var agencyID: UUID
    public var email: String
    public var role: Role

    public func actor(requestID: String?) -> Actor {
        Actor(userID: userID.uuidString.lowercased(), agencyID: agencyID.uuidString.lowercased(), label: email, requestID: requestID)
    }
}

/// Agencies, users and API tokens.
public struct AccessStore: Sendable {
    let db: Database
    /// bcrypt's cost for new hashes; a sign-in whose stored hash has a lower one re-hashes the password at this cost.
    public let passwordCost: Int

    public init(_ db: Database, passwordCost: Int = PasswordHashing.cost) {
        self.db = db
        self.passwordCost = passwordCost
    }

    /// Whether no agency exists yet (the first run creates one).
    public func isEmpty() async throws -> Bool {
        let rows = try await db.query("SELECT NOT EXISTS (SELECT 1 FROM agencies)")
        for try await empty in rows.decode(Bool.self) { return empty }
        return true
    }

    public func createAgency(name: String, country: String, actor: Actor) async throws -> UUID {
        var errors = FieldErrors()
        let name = name.trimmingWhitespace
        let country = country.trimmingWhitespace.uppercased()
        if name.isEmpty || name.count > 200 { errors.add("name", "must be 1 to 200 characters") }
        if !Countries.isKnown(country) { errors.add("country", "'\(country)' is not an ISO 3166-1 alpha-2 country code") }
        if !errors.isEmpty { throw StoreError.invalid(errors.errors) }
        return try await db.transaction { conn in
            let rows = try await conn.query(
                """
                INSERT INTO agencies (name, country) VALUES (\(name), \(country))
                ON CONFLICT DO NOTHING RETURNING id, jsonb_build_object('id', id, 'name', name, 'country', country)::text
                """, logger: db.logger)
            for try await (id, json) in rows.decode((UUID, String).self) {
                try await AuditLog.append(on: conn, actor: actor, action: "agency.create", entityType: "agency",
                                          entityID: id.uuidString.lowercased(), before: nil, after: json, logger: db.logger)
                return id
            }
            throw StoreError.conflict("an agency named '\(name)' already exists")
        }
    }

    static let agencyDocument = """
        SELECT json_build_object('id', id, 'name', name, 'country', country, 'street', street, 'postal_code', postal_code,
                                 'city', city, 'email', email, 'phone', phone, 'website', website,
                                 'signatory_name', signatory_name, 'signatory_title', signatory_title,
                                 'response_days', response_days, 'appeal_days', appeal_days, 'version', version)::text, version
        FROM agencies WHERE id = $1
        """

    /// The agency as the API shows it, and its version (the ETag).
    public func agency(_ id: UUID, on conn: PostgresConnection? = nil) async throws -> (json: String, version: Int) {
        let query = PostgresQuery(unsafeSQL: Self.agencyDocument, binds: { var b = PostgresBindings(); b.append(id); return b }())
        let rows = if let conn { try await Rows(conn.query(query, logger: db.logger)) } else { try await db.query(query) }
        for try await (json, version) in rows.decode((String, Int).self) { return (json, version) }
        throw StoreError.notFound(entity: "agency", id: id.uuidString.lowercased())
    }

    /// Changes the agency's letterhead: `changes` maps API field names to new
    /// values (nil clears one); `responseDays` sets the default response period, `appealDays` the appeal period.
    public func updateLetterhead(_ id: UUID, changes: [String: String?], responseDays: Int?, appealDays: Int? = nil, expectedVersion: Int,
                                 actor: Actor) async throws -> (json: String, version: Int) {
        try await db.transaction { conn in
            let rows = try await conn.query(
                """
                SELECT street, postal_code, city, email, phone, website, signatory_name, signatory_title, response_days, appeal_days, version
                FROM agencies WHERE id = \(id) FOR UPDATE
                """, logger: db.logger)
            var found: (AgencyLetterhead, Int)?
            for try await r in rows.decode((String?, String?, String?, String?, String?, String?, String?, String?, Int, Int, Int).self) {
                found = (AgencyLetterhead(street: r.0, postalCode: r.1, city: r.2, email: r.3, phone: r.4, website: r.5,
                                          signatoryName: r.6, signatoryTitle: r.7, responseDays: r.8, appealDays: r.9), r.10)
            }
            guard let found else { throw StoreError.notFound(entity: "agency", id: id.uuidString.lowercased()) }
            var letterhead = found.0
            let version = found.1
            for (field, value) in changes { letterhead[field] = value }
            if let responseDays { letterhead.responseDays = responseDays }
            if let appealDays { letterhead.appealDays = appealDays }
            // Invalid input is refused (422) before the version is compared.
            let problems = letterhead.problems()
            if !problems.isEmpty { throw StoreError.invalid(problems) }
            guard version == expectedVersion else { throw StoreError.versionConflict(current: version) }
            let before = try await agency(id, on: conn)
            let l = letterhead
            try await conn.query(
                """
                UPDATE agencies SET street = \(l.street), postal_code = \(l.postalCode), city = \(l.city), email = \(l.email),
                    phone = \(l.phone), website = \(l.website), signatory_name = \(l.signatoryName),
                    signatory_title = \(l.signatoryTitle), response_days = \(l.responseDays), appeal_days = \(l.appealDays),
                    version = version + 1
                WHERE id = \(id)
                """, logger: db.logger)
            let after = try await agency(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "agency.update", entityType: "agency",
                                      entityID: id.uuidString.lowercased(), before: before.json, after: after.json, logger: db.logger)
            return after
        }
    }

    /// Finds an agency by id or by name (case-insensitive).
    public func agencyID(_ nameOrID: String) async throws -> UUID {
        let id = UUID(uuidString: nameOrID)
        let rows = try await db.query(
            "SELECT id FROM agencies WHERE id = \(id) OR lower(name) = lower(\(nameOrID))")
        for try await found in rows.decode(UUID.self) { return found }
        throw StoreError.notFound(entity: "agency", id: nameOrID)
    }

    /// Creates a user; returns the id and, when no password was given, the generated one.
    public func createUser(agency: String, email: String, fullName: String, role: String, password: String?, actor: Actor) async throws -> (id: UUID, generatedPassword: String?) {
        var errors = FieldErrors()
        let email = email.trimmingWhitespace.lowercased()
        let fullName = fullName.trimmingWhitespace
        if !FacilitatorDraft.isEmail(email) { errors.add("email", "must be an e-mail address") }
        if fullName.isEmpty || fullName.count > 200 { errors.add("name", "must be 1 to 200 characters") }
        let parsedRole = Role(rawValue: role)
        if parsedRole == nil { errors.add("role", Role.notOne(role)) }
        if let password, password.count < 12 { errors.add("password", "must be at least 12 characters") }
        if !errors.isEmpty { throw StoreError.invalid(errors.errors) }
        let agencyID = try await agencyID(agency)
        let secret = password ?? Self.randomSecret(bytes: 12)
        let hash = await PasswordHashing.hash(secret, cost: passwordCost)
        let id: UUID = try await db.transaction { conn in
            let rows = try await conn.query(
                """
                INSERT INTO users (agency_id, email, full_name, role, password_hash)
                VALUES (\(agencyID), \(email), \(fullName), \(role), \(hash))
                ON CONFLICT DO NOTHING
                RETURNING id, jsonb_build_object('id', id, 'agency_id', agency_id, 'email', email, 'full_name', full_name, 'role', role)::text
                """, logger: db.logger)
            for try await (id, json) in rows.decode((UUID, String).self) {
                try await AuditLog.append(on: conn, actor: actor, action: "user.create", entityType: "user",
                                          entityID: id.uuidString.lowercased(), before: nil, after: json, logger: db.logger)
                return id
            }
            throw StoreError.conflict("a user with e-mail \(email) already exists")
        }
        return (id, password == nil ? secret : nil)
    }

    /// Issues a named API token for a user; the token is returned once and only its hash is kept.
    public func createToken(email: String, name: String, expiresAt: Date?, actor: Actor) async throws -> String {
        let name = name.trimmingWhitespace
        guard !name.isEmpty, name.count <= 100 else { throw StoreError.invalid([FieldError(field: "name", message: "must be 1 to 100 characters")]) }
        if let expiresAt, expiresAt <= Date() {
            throw StoreError.invalid([FieldError(field: "expires", message: "must be in the future")])
        }
        let token = "brg_" + Self.randomSecret(bytes: 32)
        let hash = Data(SHA256.hash(data: Data(token.utf8)))
        return try await db.transaction { conn in
            let rows = try await conn.query(
                """
                INSERT INTO api_tokens (user_id, name, token_hash, expires_at)
                SELECT id, \(name), \(hash), \(expiresAt) FROM users WHERE email = \(email.lowercased()) AND NOT disabled
                RETURNING id, jsonb_build_object('id', id, 'user_id', user_id, 'name', name, 'expires_at', expires_at)::text
                """, logger: db.logger)
            for try await (id, json) in rows.decode((UUID, String).self) {
                try await AuditLog.append(on: conn, actor: actor, action: "token.create", entityType: "api_token",
                                          entityID: id.uuidString.lowercased(), before: nil, after: json, logger: db.logger)
                return token
            }
            throw StoreError.notFound(entity: "user", id: email)
        }
    }

    /// Revokes a user's token by name.
    public func revokeToken(email: String, name: String, actor: Actor) async throws {
        try await db.transaction { conn in
            let rows = try await conn.query(
                """
                UPDATE api_tokens t SET revoked_at = now() FROM users u
                WHERE t.user_id = u.id AND u.email = \(email.lowercased()) AND t.name = \(name) AND t.revoked_at IS NULL
                RETURNING t.id, jsonb_build_object('id', t.id, 'name', t.name, 'revoked_at', t.revoked_at)::text
                """, logger: db.logger)
            var found = false
            for try await (id, json) in rows.decode((UUID, String).self) {
                found = true
                try await AuditLog.append(on: conn, actor: actor, action: "token.revoke", entityType: "api_token",
                                          entityID: id.uuidString.lowercased(), before: nil, after: json, logger: db.logger)
            }
            if !found { throw StoreError.notFound(entity: "api token", id: name) }
        }
    }

    /// The user an API token belongs to, if the token is valid now.
    public func identity(forToken token: String) async throws -> Identity? {
        let hash = Data(SHA256.hash(data: Data(token.utf8)))
        let rows = try await db.query("SELECT user_id, agency_id, email, role FROM token_user(\(hash))")
        for try await (id, agency, email, role) in rows.decode((UUID, UUID, String, String).self) {
            guard let role = Role(rawValue: role) else { return nil }
            return Identity(userID: id, agencyID: agency, email: email, role: role)
        }
        return nil
    }

    // MARK: Browser sessions

    /// How often a password may be wrong for one address before it is locked.
    public enum SignInThrottle {
        public static let maximumFailures = 5
        /// Failures count within this window from the first; the lock lasts as long.
        public static let minutes = 15
    }

    public enum SignInResult: Sendable, Equatable {
        case signedIn(Identity)
        case refused
        /// Too many failures for this address: no password is checked until `until`.
        case locked(until: Date)
        /// Too many failed attempts from this client (`SignInClient`): none is tried until `until`.
        case tooManyFromClient(until: Date)
    }

    /// The client a sign-in comes from (`ClientAddressRule.clientKey`) and how many
    /// failed attempts it may make within `SignInThrottle.minutes` from its first.
    public struct SignInClient: Sendable, Equatable {
        public var key: String
        public var limit: Int
        public static let defaultLimit = 20

        public init(key: String, limit: Int = SignInClient.defaultLimit) {
            self.key = key
            self.limit = limit
        }
    }

    /// The user whose e-mail and password match, if they are enabled and the
    /// address is not locked after too many failures (see `SignInThrottle`).
    ///
    /// The attempt is counted before the password is checked, in one statement
    /// that also refuses a locked address: parallel guesses each take a number,
    /// and only the first `maximumFailures` of a window get a password check, so
    /// guessing in parallel gains nothing. A right password clears the count.
    ///
    /// With a `client`, the attempt is first counted for that client the same
    /// way (`countClientAttempt`); a client over its limit is refused before
    /// anything else, and a successful attempt is given back to it, so only the
    /// failed ones use up its limit.
    public func signIn(email: String, password: String, from client: SignInClient? = nil) async throws -> SignInResult {
        if let client, let until = try await countClientAttempt(client) { return .tooManyFromClient(until: until) }
        let address = Self.signInKey(email)
        let window = SignInThrottle.minutes, limit = SignInThrottle.maximumFailures
        let counted = try await db.query(
            """
            INSERT INTO sign_in_throttle AS t (email, failures, first_failed_at) VALUES (\(address), 1, now())
            ON CONFLICT (email) DO UPDATE SET
                failures = CASE WHEN t.first_failed_at < now() - make_interval(mins => \(window)::int) THEN 1 ELSE t.failures + 1 END,
                first_failed_at = CASE WHEN t.first_failed_at < now() - make_interval(mins => \(window)::int) THEN now() ELSE t.first_failed_at END,
                locked_until = NULL
            WHERE t.locked_until IS NULL OR t.locked_until <= now()
            RETURNING failures
            """)
        var attempt: Int?
        for try await n in counted.decode(Int.self) { attempt = n }
        guard let attempt else { return try await currentLock(address) }
        if attempt > limit { return try await lock(address, failures: attempt) }
        if let identity = try await checkPassword(email: address, password: password) {
            try await db.query("DELETE FROM sign_in_throttle WHERE email = \(address)")
            if let client {
                try await db.query("UPDATE sign_in_clients SET attempts = attempts - 1 WHERE client = \(client.key) AND attempts > 0")
            }
            return .signedIn(identity)
        }
        return attempt == limit ? try await lock(address, failures: attempt) : .refused
    }

    /// Counts an attempt for `client`, in one statement (parallel attempts each
    /// take a number); returns the end of its window when the attempt is over
    /// the limit (the count then stops at two above it: the first refusal is
    /// logged, the ones after it are not). A window starts with
    /// the first attempt after the last one ran out; each new window deletes a
    /// few expired rows, so clients seen once do not pile up.
    private func countClientAttempt(_ client: SignInClient) async throws -> Date? {
        let window = SignInThrottle.minutes, limit = client.limit
        let rows = try await db.query(
            """
            INSERT INTO sign_in_clients AS c (client, attempts, window_started_at) VALUES (\(client.key), 1, now())
            ON CONFLICT (client) DO UPDATE SET
                attempts = CASE WHEN c.window_started_at < now() - make_interval(mins => \(window)::int) THEN 1
                                ELSE least(c.attempts, \(limit)::int + 1) + 1 END,
                window_started_at = CASE WHEN c.window_started_at < now() - make_interval(mins => \(window)::int) THEN now()
                                         ELSE c.window_started_at END
            RETURNING attempts, window_started_at + make_interval(mins => \(window)::int)
            """)
        var counted: (Int, Date)?
        for try await row in rows.decode((Int, Date).self) { counted = row }
        guard let (attempts, until) = counted else { return nil }
        if attempts == 1 {
            try await db.query(
                """
                DELETE FROM sign_in_clients WHERE client IN (
                    SELECT client FROM sign_in_clients WHERE window_started_at < now() - make_interval(mins => \(window)::int)
                    ORDER BY window_started_at LIMIT 100 FOR UPDATE SKIP LOCKED)
                """)
        }
        guard attempts > limit else { return nil }
        if attempts == limit + 1 {
            db.logger.notice("too many failed sign-ins from one client", metadata: ["client": "\(client.key)", "until": "\(until)"])
        }
        return until
    }

    /// One key per address, in Swift and in SQL alike: lower case as Swift folds
    /// it (users' addresses are stored so), compared with `=`.
    static func signInKey(_ email: String) -> String { TextInput.normalised(email.trimmingWhitespace).lowercased() }

    private func currentLock(_ address: String) async throws -> SignInResult {
        for try await until in try await db.query("SELECT locked_until FROM sign_in_throttle WHERE email = \(address)").decode(Date?.self) {
            if let until { return .locked(until: until) }
        }
        return .refused
    }

    /// Locks the address for the window (once: the attempt that reaches the limit
    /// locks and is audited; the ones before it are not, so guessing cannot flood
    /// the audit chain).
    private func lock(_ address: String, failures: Int) async throws -> SignInResult {
        let window = SignInThrottle.minutes
        return try await db.transaction { conn in
            let locked = try await conn.query(
                """
                UPDATE sign_in_throttle SET locked_until = now() + make_interval(mins => \(window)::int)
                WHERE email = \(address) AND (locked_until IS NULL OR locked_until <= now()) RETURNING locked_until
                """, logger: db.logger)
            var until: Date?
            for try await date in locked.decode(Date.self) { until = date }
            guard let until else {
                for try await date in try await conn.query("SELECT locked_until FROM sign_in_throttle WHERE email = \(address)",
                                                           logger: db.logger).decode(Date?.self) {
                    if let date { return .locked(until: date) }
                }
                return .refused
            }
            try await AuditLog.append(on: conn, actor: Actor(userID: nil, agencyID: nil, label: "sign-in"), action: "user.sign_in_locked",
                                      entityType: "sign_in", entityID: address, before: nil,
                                      after: "{\"failures\": \(failures), \"locked_until\": \(jsonString(ISO8601DateFormatter().string(from: until)))}",
                                      logger: db.logger)
            return .locked(until: until)
        }
    }

    /// Lifts a sign-in lock (and forgets the failures) for an address before it runs out.
    public func unlockSignIn(email: String, actor: Actor) async throws {
        let address = Self.signInKey(email)
        try await db.transaction { conn in
            let rows = try await conn.query(
                """
                DELETE FROM sign_in_throttle WHERE email = \(address) AND locked_until > now()
                RETURNING jsonb_build_object('failures', failures, 'locked_until', locked_until)::text
                """, logger: db.logger)
            var before: String?
            for try await json in rows.decode(String.self) { before = json }
            guard let before else { throw StoreError.notFound(entity: "sign-in lock", id: address) }
            try await AuditLog.append(on: conn, actor: actor, action: "user.sign_in_unlocked", entityType: "sign_in", entityID: address,
                                      before: before, after: nil, logger: db.logger)
        }
    }

    private func checkPassword(email: String, password: String) async throws -> Identity? {
        let rows = try await db.query("SELECT user_id, agency_id, email, role, password_hash FROM sign_in_user(\(email))")
        for try await (id, agency, email, role, hash) in rows.decode((UUID, UUID, String, String, String?).self) {
            guard let hash, let role = Role(rawValue: role) else { return nil }
            let valid = await PasswordHashing.verify(password, hash: hash, for: email)
            guard valid else { return nil }
            let identity = Identity(userID: id, agencyID: agency, email: email, role: role)
            do {
                try await upgradeHash(of: identity, stored: hash, password: password)
            } catch {
                db.logger.warning("could not re-hash a password at the current cost", metadata: ["user": "\(id)", "error": "\(error)"])
            }
            return identity
        }
        // The same work for an unknown address, so timing does not tell which addresses exist.
        _ = await PasswordHashing.verify(password, hash: Self.dummyHash, for: email)
        return nil
    }

    /// A password whose stored hash has a lower cost than `passwordCost` (made
    /// before the cost was raised) is hashed again at that cost now that it is
    /// known, and stored in its own transaction with an audit event
    /// (`user.password_rehash`) - unless the hash changed meanwhile (a reset
    /// or a change wins). Sessions and the user's version are left alone: the
    /// password is the same.
    private func upgradeHash(of identity: Identity, stored: String, password: String) async throws {
        guard let cost = PasswordHashing.cost(of: stored), cost < passwordCost else { return }
        let hash = await PasswordHashing.hash(password, cost: passwordCost)
        try await AgencyScope.with(identity.agencyID) {
            try await db.transaction { conn in
                let rows = try await conn.query(
                    "UPDATE users SET password_hash = \(hash) WHERE id = \(identity.userID) AND password_hash = \(stored) RETURNING id",
                    logger: db.logger)
                var updated = false
                for try await _ in rows.decode(UUID.self) { updated = true }
                guard updated else { return }
                try await AuditLog.append(on: conn, actor: identity.actor(requestID: nil), action: "user.password_rehash", entityType: "user",
                                          entityID: identity.userID.uuidString.lowercased(), before: "{\"bcrypt_cost\": \(cost)}",
                                          after: "{\"bcrypt_cost\": \(passwordCost)}", logger: db.logger)
            }
        }
    }

    /// Checked for an unknown address, at the cost real hashes have, so the time taken does not tell.
    static let dummyHash = Bcrypt.hash("not a password", cost: UInt8(PasswordHashing.cost))

    /// Starts a session for `identity`; returns the cookie's token and the session's form token.
    public func startSession(_ identity: Identity, hours: Int = 12) async throws -> (token: String, csrf: String) {
        let token = Self.randomSecret(bytes: 32), csrf = Self.randomSecret(bytes: 32)
        let hash = Data(SHA256.hash(data: Data(token.utf8)))
        // The session is the user's agency's (its expired ones are cleared on the way).
        try await AgencyScope.with(identity.agencyID) {
        try await db.transaction { conn in
            try await conn.query("DELETE FROM web_sessions WHERE expires_at < now()", logger: db.logger)
            try await conn.query(
                """
                INSERT INTO web_sessions (token_hash, user_id, agency_id, csrf_token, expires_at)
                VALUES (\(hash), \(identity.userID), \(identity.agencyID), \(csrf), now() + make_interval(hours => \(hours)::int))
                """, logger: db.logger)
            try await AuditLog.append(on: conn, actor: identity.actor(requestID: nil), action: "user.sign_in", entityType: "user",
                                      entityID: identity.userID.uuidString.lowercased(), before: nil, after: nil, logger: db.logger)
        }
        }
        return (token, csrf)
    }

    /// The signed-in user of a session cookie and the session's form token, while
    /// the session lasts and has not been idle for `idleMinutes`; marks it seen.
    public func session(token: String, idleMinutes: Int = 30) async throws -> (identity: Identity, csrf: String)? {
        let hash = Data(SHA256.hash(data: Data(token.utf8)))
        let rows = try await db.query(
            "SELECT user_id, agency_id, email, role, csrf_token FROM web_session_touch(\(hash), make_interval(mins => \(idleMinutes)::int))")
        for try await (id, agency, email, role, csrf) in rows.decode((UUID, UUID, String, String, String).self) {
            guard let role = Role(rawValue: role) else { return nil }
            return (Identity(userID: id, agencyID: agency, email: email, role: role), csrf)
        }
        return nil
    }

    /// Ends the session on the server: its cookie no longer signs anyone in.
    public func endSession(token: String) async throws {
        let hash = Data(SHA256.hash(data: Data(token.utf8)))
        let rows = try await db.query("SELECT agency_id FROM web_session(\(hash))")
        for try await agency in rows.decode(UUID.self) {
            try await AgencyScope.with(agency) { try await db.query("DELETE FROM web_sessions WHERE token_hash = \(hash)") }
        }
    }

    public static func randomSecret(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let raw = (0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(raw).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
