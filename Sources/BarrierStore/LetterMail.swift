import BarrierCore
import BarrierLetters
import Foundation
import PostgresNIO

/// The agency's SMTP relay, from `SMTP_URL`: `smtp://[user:password@]host[:port]`
/// (STARTTLS when the relay offers it is not forced), `smtp+starttls://…` or
/// `smtps://…` (TLS from the start).
public struct SMTPRelay: Sendable, Equatable {
    public enum Security: String, Sendable { case none, starttls, tls }

    public var host: String
    public var port: Int
    public var user: String?
    public var password: String?
    public var security: Security

    /// Why `SMTP_URL` cannot be used, or nil. A user and password over plain
    /// `smtp://` would cross the network in clear: that needs STARTTLS or TLS.
    public static func problem(url text: String) -> String? {
        guard let relay = SMTPRelay(url: text) else {
            return "SMTP_URL must be smtp://host[:port] (no credentials), smtp+starttls://[user:password@]host[:port] or smtps://…"
        }
        if relay.security == .none && (relay.user != nil || relay.password != nil) {
            return "SMTP_URL names a user and password over smtp://, which would send them in clear: use smtp+starttls:// or smtps://"
        }
        return nil
    }

    public init?(url text: String) {
        guard let url = URLComponents(string: text), let scheme = url.scheme, let host = url.host, !host.isEmpty else { return nil }
        switch scheme {
        case "smtp": security = .none
        case "smtp+starttls": security = .starttls
        case "smtps": security = .tls
        default: return nil
        }
        self.host = host
        self.port = url.port ?? (security == .tls ? 465 : 25)
        self.user = url.user?.removingPercentEncoding
        self.password = url.password?.removingPercentEncoding
    }

    /// The msmtp configuration for this relay (written to a private file, so the password is on no command line).
    func msmtpConfiguration(from: String, timeout: Double = 30) -> String {
        // msmtp's own network timeout; the sender also stops msmtp after `LetterMail.sendTimeoutSeconds`.
        var lines = ["account barrier", "host \(host)", "port \(port)", "from \(from)", "timeout \(max(1, Int(timeout)))"]
        switch security {
        case .none: lines += ["tls off"]
        case .starttls: lines += ["tls on", "tls_starttls on", "tls_trust_file system"]
        case .tls: lines += ["tls on", "tls_starttls off", "tls_trust_file system"]
        }
        if let user {
            lines += ["auth on", "user \(user)"]
            if let password { lines.append("password \(password)") }
        } else {
            lines.append("auth off")
        }
        lines.append("account default : barrier")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Sending approved letters by e-mail through the relay with msmtp.
///
/// A letter gets at most one row in `letter_emails`, so it is queued once. The
/// sender marks the row `sending` and commits before it calls the relay: if
/// the process dies before the outcome is recorded, the row is later marked
/// `uncertain` and is not sent again by itself; a person checks the relay.
/// A relay that refuses is retried with growing pauses, then `failed`.
public struct LetterMail: Sendable {
    let db: Database
    let letters: LetterStore
    public let relay: SMTPRelay?
    let msmtp: String

    /// Attempts before a message is given up as `failed`.
    public static let maxAttempts = 6
    /// A `sending` row older than this has lost its sender.
    public static let staleAfterSeconds = 600

    /// How long one hand-over to the relay may take before msmtp is stopped and the attempt counts as failed.
    let sendTimeoutSeconds: Double

    public init(_ db: Database, letters: LetterStore, relay: SMTPRelay?, msmtp: String = "/usr/bin/msmtp", sendTimeoutSeconds: Double = 60) {
        self.db = db
        self.letters = letters
        self.relay = relay
        self.msmtp = msmtp
        self.sendTimeoutSeconds = sendTimeoutSeconds
    }

    /// Queues an approved letter for the relay, as one use case: the case loaded
    /// and locked in one statement, Core's `LetterEmailing`, then the e-mail row
    /// saved with its audit event. The decision is asked once before the message
    /// is built (a stale, unapproved or queued letter is refused before anything
    /// is rendered) and again under the lock.
    ///
    /// `otherAddressConfirmedByAdmin`: an admin confirmed a `recipient` that is not one of the supplier's addresses.
    public func queue(_ id: UUID, to recipient: String?, otherAddressConfirmedByAdmin: Bool = false, expectedVersion: Int,
                      actor: Actor) async throws -> LetterStore.Record {
        let confirmed = otherAddressConfirmedByAdmin
        _ = try await db.transaction { conn in
            // A referral is addressed to the competent authority, not to the supplier's mailboxes.
            for try await kind in try await conn.query("SELECT kind FROM letters WHERE id = \(id)", logger: db.logger).decode(String.self)
            where kind == LetterKind.referral.rawValue {
                throw StoreError.conflict("a referral is addressed to the competent authority and goes to it by post (print its PDF); "
                                          + "it is never e-mailed to the supplier")
            }
            try await decide(id, to: recipient, confirmed: confirmed, expectedVersion: expectedVersion, on: conn)
        }
        let message = try await letters.email(id, to: recipient)
        return try await db.transaction { conn in
            let to = try await decide(id, to: recipient, confirmed: confirmed, expectedVersion: expectedVersion, on: conn)
            let userID = actor.userID.flatMap(UUID.init(uuidString:))
            // The letter's row lock makes "never twice" hold: a second request waits, then Core sees the row.
            try await conn.query(
                "INSERT INTO letter_emails (letter_id, recipient, message_id, requested_by) VALUES (\(id), \(to), \(message.messageID), \(userID))",
                logger: db.logger)
            try await conn.query("UPDATE letters SET version = version + 1, updated_at = now() WHERE id = \(id)", logger: db.logger)
            let after = try await letters.document(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "letter.email_queued", entityType: "letter",
                                      entityID: id.uuidString.lowercased(), before: nil,
                                      after: "{\"state\": \"pending\", \"to\": \(jsonString(to)), \"message_id\": \(jsonString(message.messageID)), \"other_address_confirmed\": \(confirmed)}",
                                      logger: db.logger)
            return after
        }
    }

    /// Loads and locks the case, and asks Core where the letter may go.
    func decide(_ id: UUID, to recipient: String?, confirmed: Bool, expectedVersion: Int, on conn: PostgresConnection) async throws -> String {
        var loaded: LetterEmailCase?
        for try await r in try await conn.query(
            """
            SELECT l.status, l.version, e.letter_id IS NOT NULL, l.snapshot->'supplier'->>'email',
                   coalesce((SELECT array_agg(c.email) FROM contact_points c WHERE c.facilitator_id = l.facilitator_id AND c.email IS NOT NULL),
                            '{}')
            FROM letters l LEFT JOIN letter_emails e ON e.letter_id = l.id WHERE l.id = \(id) FOR UPDATE OF l
            """, logger: db.logger).decode((String, Int, Bool, String?, [String]).self) {
            loaded = LetterEmailCase(status: LetterStatus(rawValue: r.0)!, version: r.1, queued: r.2, relayConfigured: relay != nil,
                                     supplierEmail: r.3, contactEmails: r.4)
        }
        guard let loaded else { throw StoreError.notFound(entity: "letter", id: id.uuidString.lowercased()) }
        switch LetterEmailing.decide(loaded, to: recipient, expectedVersion: expectedVersion, otherAddressConfirmedByAdmin: confirmed) {
        case .success(let to): return to
        case .failure(.noRelay): throw StoreError.conflict("no SMTP relay is configured (SMTP_URL); record the sending by hand instead")
        case .failure(.versionConflict(let current)): throw StoreError.versionConflict(current: current)
        case .failure(.transition(let from, let allowed)):
            throw StoreError.transition(entity: "letter", from: from.rawValue, to: "sent", allowed: allowed.map(\.rawValue))
        case .failure(.alreadyQueued): throw StoreError.conflict("this letter was already handed to the e-mail relay; it is never sent twice")
        case .failure(.invalid(let problems)): throw StoreError.invalid(problems)
        }
    }

    /// An admin's retry of a `failed` message or release of an `uncertain` one, as
    /// one use case: the letter and its e-mail row locked, Core's `EmailRequeue`,
    /// then the row back in the queue (attempts from zero) with its audit event.
    public func requeue(_ id: UUID, _ step: EmailRequeue, reason: String, byAdmin: Bool, actor: Actor) async throws -> LetterStore.Record {
        try await db.transaction { conn in
            var found: (exists: Bool, state: String?) = (false, nil)
            for try await r in try await conn.query(
                """
                SELECT e.state FROM letters l LEFT JOIN letter_emails e ON e.letter_id = l.id
                WHERE l.id = \(id) FOR UPDATE OF l
                """, logger: db.logger).decode(String?.self) {
                found = (true, r)
            }
            guard found.exists else { throw StoreError.notFound(entity: "letter", id: id.uuidString.lowercased()) }
            switch step.refusal(state: found.state.flatMap(EmailState.init(rawValue:)), reason: reason, byAdmin: byAdmin) {
            case nil: break
            case .notAdmin: throw StoreError.forbidden("only an admin may \(step.rawValue) an e-mail")
            case .notQueued: throw StoreError.conflict("this letter was never handed to the e-mail relay")
            case .wrongState(let current, let needed):
                throw StoreError.conflict("the e-mail is \(current.rawValue); only a \(needed.rawValue) one can be \(step == .retry ? "retried" : "released")")
            case .invalid(let problems): throw StoreError.invalid(problems)
            }
            try await conn.query(
                """
                UPDATE letter_emails SET state = 'pending', attempts = 0, next_attempt_at = now(), claimed_at = NULL
                WHERE letter_id = \(id)
                """, logger: db.logger)
            try await conn.query("UPDATE letters SET version = version + 1, updated_at = now() WHERE id = \(id)", logger: db.logger)
            let after = try await letters.document(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: step == .retry ? "letter.email_retry_requested" : "letter.email_released", entityType: "letter",
                                      entityID: id.uuidString.lowercased(), before: "{\"state\": \(jsonString(found.state ?? ""))}",
                                      after: "{\"state\": \"pending\", \"reason\": \(jsonString(reason.trimmingWhitespace))}", logger: db.logger)
            return after
        }
    }

    /// Who moves a message through the queue in the audit log.
    static let mailActor = Actor(userID: nil, agencyID: nil, label: "system:mail")

    /// Marks rows whose sender vanished mid-send as `uncertain`, each with its
    /// audit event (`letter.email_uncertain`); returns how many.
    @discardableResult
    public func markLostSends() async throws -> Int {
        var count = 0
        try await db.forEachAgency { _ in
            count += try await db.transaction { conn in
                let rows = try await conn.query(
                    """
                    UPDATE letter_emails SET state = 'uncertain',
                        last_error = 'the sender stopped while handing the message to the relay; check the relay before sending it again'
                    WHERE agency_id = current_agency() AND state = 'sending' AND claimed_at < now() - make_interval(secs => \(Self.staleAfterSeconds))
                    RETURNING letter_id, attempts, last_error
                    """, logger: db.logger)
                var lost: [(UUID, Int, String)] = []
                for try await row in rows.decode((UUID, Int, String).self) { lost.append(row) }
                for (id, attempts, error) in lost {
                    try await AuditLog.append(
                        on: conn, actor: Self.mailActor, action: "letter.email_uncertain", entityType: "letter",
                        entityID: id.uuidString.lowercased(), before: "{\"state\": \"sending\", \"attempts\": \(attempts)}",
                        after: "{\"state\": \"uncertain\", \"attempts\": \(attempts), \"error\": \(jsonString(error))}", logger: db.logger)
                }
                return lost.count
            }
        }
        return count
    }

    /// Sends every queued message that is due, one at a time; returns how many the relay accepted.
    @discardableResult
    public func sendDue() async throws -> Int {
        guard let relay else { return 0 }
        var accepted = 0
        try await db.forEachAgency { _ in
        while let claim = try await claimNext() {
            // A message that cannot even be built was never handed over: it is retried like a refusal, not left `sending`.
            let message: EmailMessage
            do {
                message = try await letters.email(claim.letterID, to: claim.recipient)
            } catch {
                try await recordFailure(claim.letterID, attempts: claim.attempts, error: "the message could not be built: \(error)")
                continue
            }
            let config = FileManager.default.temporaryDirectory.appendingPathComponent("barrier-msmtp-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: config) }
            let from = message.from.email
            let outcome: (Int32, String)
            if FileManager.default.createFile(atPath: config, contents: Data(relay.msmtpConfiguration(from: from, timeout: sendTimeoutSeconds / 2).utf8),
                                              attributes: [.posixPermissions: 0o600]) {
                let result = (try? await Subprocess.runDetached([msmtp, "-C", config, "--", claim.recipient], input: message.rendered(),
                                                                timeoutSeconds: sendTimeoutSeconds))
                    ?? (-1, "msmtp could not be started: install the Debian package msmtp")
                outcome = (result.0, result.1)
            } else {
                outcome = (-1, "cannot write the msmtp configuration")
            }
            if outcome.0 == 0 {
                try await recordSent(claim.letterID)
                accepted += 1
            } else {
                try await recordFailure(claim.letterID, attempts: claim.attempts, error: outcome.1)
            }
        }
        }
        return accepted
    }

    struct Claim {
        var letterID: UUID
        var recipient: String
        var attempts: Int
    }

    /// Takes the next due message and commits `sending` with its audit event
    /// (`letter.email_sending`) before anything is sent.
    func claimNext() async throws -> Claim? {
        try await db.transaction { conn in
            let rows = try await conn.query(
                """
                UPDATE letter_emails SET state = 'sending', claimed_at = now(), attempts = attempts + 1
                WHERE letter_id = (SELECT letter_id FROM letter_emails
                                   WHERE agency_id = current_agency() AND state = 'pending' AND next_attempt_at <= now()
                                   ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING letter_id, recipient, attempts
                """, logger: db.logger)
            var claim: Claim?
            for try await (id, recipient, attempts) in rows.decode((UUID, String, Int).self) {
                claim = Claim(letterID: id, recipient: recipient, attempts: attempts)
            }
            guard let claim else { return nil }
            try await AuditLog.append(
                on: conn, actor: Self.mailActor, action: "letter.email_sending", entityType: "letter",
                entityID: claim.letterID.uuidString.lowercased(), before: "{\"state\": \"pending\", \"attempts\": \(claim.attempts - 1)}",
                after: "{\"state\": \"sending\", \"attempts\": \(claim.attempts), \"to\": \(jsonString(claim.recipient))}", logger: db.logger)
            return claim
        }
    }

    /// The relay accepted the message: the e-mail is `sent` (`letter.email_sent`) and,
    /// if it was still `approved`, the letter too (`letter.sent`), in one transaction.
    func recordSent(_ id: UUID) async throws {
        let actor = Self.mailActor
        try await db.transaction { conn in
            let accepted = try await conn.query(
                "UPDATE letter_emails SET state = 'sent', sent_at = now(), last_error = NULL WHERE letter_id = \(id) RETURNING recipient, attempts",
                logger: db.logger)
            var row: (String, Int)?
            for try await r in accepted.decode((String, Int).self) { row = r }
            if let (recipient, attempts) = row {
                try await AuditLog.append(
                    on: conn, actor: actor, action: "letter.email_sent", entityType: "letter", entityID: id.uuidString.lowercased(),
                    before: "{\"state\": \"sending\", \"attempts\": \(attempts)}",
                    after: "{\"state\": \"sent\", \"attempts\": \(attempts), \"to\": \(jsonString(recipient))}", logger: db.logger)
            }
            let today = try await LetterStore.today(on: conn, logger: db.logger)
            let moved = try await conn.query(
                """
                UPDATE letters SET status = 'sent', sent_on = \(today)::date, send_method = 'email', updated_at = now(), version = version + 1
                WHERE id = \(id) AND status = 'approved' RETURNING id
                """, logger: db.logger)
            var changed = false
            for try await _ in moved.decode(UUID.self) { changed = true }
            guard changed else { return }
            try await letters.addEvent(id, status: .sent, on: today, note: "accepted by the SMTP relay", actor: actor, conn: conn)
            let after = try await letters.document(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "letter.sent", entityType: "letter",
                                      entityID: id.uuidString.lowercased(), before: nil, after: after.json, logger: db.logger)
        }
    }

    func recordFailure(_ id: UUID, attempts: Int, error: String) async throws {
        let final = attempts >= Self.maxAttempts
        // 1, 2, 4, 8, 16 minutes between attempts.
        let pause = 60 * (1 << min(attempts - 1, 10))
        let message = String(error.trimmingCharacters(in: .whitespacesAndNewlines).prefix(2000))
        try await db.transaction { conn in
            try await conn.query(
                """
                UPDATE letter_emails SET state = \(final ? "failed" : "pending"), last_error = \(message),
                    next_attempt_at = now() + make_interval(secs => \(pause))
                WHERE letter_id = \(id)
                """, logger: db.logger)
            try await AuditLog.append(on: conn, actor: Self.mailActor,
                                      action: final ? "letter.email_failed" : "letter.email_retry", entityType: "letter",
                                      entityID: id.uuidString.lowercased(), before: "{\"state\": \"sending\", \"attempts\": \(attempts)}",
                                      after: "{\"state\": \"\(final ? "failed" : "pending")\", \"attempts\": \(attempts), \"error\": \(jsonString(message))}",
                                      logger: db.logger)
        }
    }
}

/// A JSON string literal for `text` (RFC 8259 escaping). Written out rather than
/// through JSONEncoder, which costs a coder per string: a report of a few
/// hundred cells spent milliseconds there.
public func jsonString(_ text: String) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(text.utf8.count + 2)
    appendJSONString(text, to: &out)
    return String(decoding: out, as: UTF8.self)
}

/// Appends `text` as a JSON string literal to `out`, for documents written a byte at a time.
public func appendJSONString(_ text: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
        case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
        case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
        case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
        case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
        case 0x00..<0x20:
            let hex = Array("0123456789abcdef".utf8)
            out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0x0f)]]
        default: out.append(byte)
        }
    }
    out.append(UInt8(ascii: "\""))
}
