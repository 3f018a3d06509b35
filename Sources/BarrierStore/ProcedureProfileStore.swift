import BarrierCore
import Crypto
import Foundation
import PostgresNIO

/// The agencies' procedure profiles: the shipped starting profiles
/// (`templates/procedure-profiles`), stored by the owner at every migration,
/// and each agency's own versions, stored by its admins. An agency acts under
/// its newest stored version, or under the shipped profile of its country
/// (version 0) while it has stored none.
public struct ProcedureProfileStore: Sendable {
    public let db: Database

    public init(_ db: Database) { self.db = db }

    /// The profile an agency acts under, which version, and where it came from.
    public struct Current: Sendable, Equatable {
        public var profile: ProcedureProfile
        /// 0: the shipped profile of `jurisdiction`, never edited by the agency.
        public var version: Int
        public var sha256: String
        /// `shipped:DE` or `agency`.
        public var origin: String

        /// How a letter names the profile it was written under.
        public var label: String { version == 0 ? "\(origin) \(sha256.prefix(12))" : "v\(version) \(sha256.prefix(12))" }
    }

    public static func decode(_ json: String) throws(StoreError) -> ProcedureProfile {
        do {
            return try JSONDecoder().decode(ProcedureProfile.self, from: Data(json.utf8))
        } catch let error as DecodingError {
            throw .invalid([Self.fieldError(error)])
        } catch {
            throw .invalid([FieldError(field: "profile", message: "is not a procedure profile: \(error)")])
        }
    }

    /// A JSON decoding failure as the field it concerns, named by its path (`remedies.bezwaar.period.count`).
    static func fieldError(_ error: DecodingError) -> FieldError {
        func path(_ keys: [any CodingKey]) -> String {
            let text = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : (text.isEmpty ? "profile" : text)
        }
        switch error {
        case .keyNotFound(let key, let context):
            return FieldError(field: path(context.codingPath + [key]), message: "is required")
        case .typeMismatch(let type, let context):
            return FieldError(field: path(context.codingPath), message: "must be \(Self.describe(type))")
        case .valueNotFound(let type, let context):
            return FieldError(field: path(context.codingPath), message: "must be \(Self.describe(type)), not null")
        case .dataCorrupted(let context):
            return FieldError(field: path(context.codingPath),
                              message: context.codingPath.isEmpty ? "is not valid JSON" : "has a value that is not allowed: \(context.debugDescription)")
        @unknown default:
            return FieldError(field: "profile", message: "is not a procedure profile")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a text"
        case is Int.Type: "a whole number"
        case is Bool.Type: "true or false"
        case is [String].Type: "a list of texts"
        default: "an object of the documented shape"
        }
    }

    static func encode(_ profile: ProcedureProfile) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(profile), as: UTF8.self)
    }

    static func sha256(_ text: String) -> String { SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined() }

    /// The shipped profiles of `templates/procedure-profiles` (or BARRIER_HOME), by jurisdiction.
    public static func shippedProfiles(directory: String? = nil) throws -> [String: ProcedureProfile] {
        let directory = try directory ?? ProjectFiles.directory("templates/procedure-profiles", containing: "default.json")
        var profiles: [String: ProcedureProfile] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() where name.hasSuffix(".json") {
            let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            let profile: ProcedureProfile
            do { profile = try decode(text) } catch {
                throw StoreError.migration("templates/procedure-profiles/\(name): \(error)")
            }
            let problems = profile.problems()
            if let first = problems.first {
                throw StoreError.migration("templates/procedure-profiles/\(name): \(first.field) \(first.message)")
            }
            profiles[profile.jurisdiction] = profile
        }
        guard profiles["default"] != nil else { throw StoreError.migration("templates/procedure-profiles has no default.json") }
        return profiles
    }

    /// Stores the shipped profiles whose text changed (the owner's work, with migrations); returns how many.
    @discardableResult
    public func syncShipped(directory: String? = nil) async throws -> Int {
        var changed = 0
        for (jurisdiction, profile) in try Self.shippedProfiles(directory: directory) {
            let body = Self.encode(profile)
            let sha = Self.sha256(body)
            let rows = try await db.query(
                """
                INSERT INTO shipped_procedure_profiles (jurisdiction, body, sha256) VALUES (\(jurisdiction), \(body)::jsonb, \(sha))
                ON CONFLICT (jurisdiction) DO UPDATE SET body = excluded.body, sha256 = excluded.sha256, stored_at = now()
                    WHERE shipped_procedure_profiles.sha256 <> excluded.sha256
                RETURNING jurisdiction
                """)
            for try await _ in rows.decode(String.self) { changed += 1 }
        }
        return changed
    }

    /// The profile `agencyID` acts under.
    public func current(_ agencyID: UUID, on conn: PostgresConnection? = nil) async throws -> Current {
        let query: PostgresQuery = """
            SELECT body::text, version, sha256, 'agency' FROM procedure_profiles WHERE agency_id = \(agencyID)
            UNION ALL
            (SELECT s.body::text, 0, s.sha256, 'shipped:' || s.jurisdiction
             FROM agencies a JOIN shipped_procedure_profiles s ON s.jurisdiction IN (a.country, 'default')
             WHERE a.id = \(agencyID) ORDER BY s.jurisdiction = 'default' LIMIT 1)
            ORDER BY 2 DESC LIMIT 1
            """
        let rows = if let conn { try await Rows(conn.query(query, logger: db.logger)) } else { try await db.query(query) }
        for try await (body, version, sha, origin) in rows.decode((String, Int, String, String).self) {
            return Current(profile: try Self.decode(body), version: version, sha256: sha, origin: origin)
        }
        throw StoreError.notFound(entity: "procedure profile of agency", id: agencyID.uuidString.lowercased())
    }

    /// The agency's stored versions, newest first: version, when, by whom, why.
    public struct VersionInfo: Sendable, Codable, Equatable {
        public var version: Int
        public var sha256: String
        public var reason: String
        public var createdAt: String
        public var createdBy: String

        enum CodingKeys: String, CodingKey {
            case version, sha256, reason
            case createdAt = "created_at", createdBy = "created_by"
        }
    }

    public func versions(_ agencyID: UUID) async throws -> [VersionInfo] {
        let rows = try await db.query(
            """
            SELECT version, sha256, reason, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), created_by_label
            FROM procedure_profiles WHERE agency_id = \(agencyID) ORDER BY version DESC
            """)
        var result: [VersionInfo] = []
        for try await r in rows.decode((Int, String, String, String, String).self) {
            result.append(VersionInfo(version: r.0, sha256: r.1, reason: r.2, createdAt: r.3, createdBy: r.4))
        }
        return result
    }

    /// Stores `json` as the agency's next version: every problem of the profile and
    /// of `reason` is refused first (422), then a stale `expectedVersion` (412).
    /// An equal profile stores nothing and returns the current one.
    public func replace(_ agencyID: UUID, json: String, reason: String?, expectedVersion: Int, actor: Actor) async throws -> Current {
        let decoded = Result { () throws(StoreError) -> ProcedureProfile in try Self.decode(json) }
        var problems: [FieldError] = []
        switch decoded {
        case .success(let profile): problems += profile.problems()
        case .failure(.invalid(let errors)): problems += errors
        case .failure(let error): throw error
        }
        var errors = FieldErrors()
        errors.text("reason", reason, max: 2_000, missing: "is required: say why the profile changes (for instance who reviewed it)")
        problems += errors.errors
        if !problems.isEmpty { throw StoreError.invalid(problems) }
        let new = try decoded.get(), reason = reason!.trimmingWhitespace
        return try await db.transaction { conn in
            // One editor at a time per agency: the agency row is the lock.
            try await conn.query("SELECT 1 FROM agencies WHERE id = \(agencyID) FOR UPDATE", logger: db.logger)
            let before = try await current(agencyID, on: conn)
            guard before.version == expectedVersion else { throw StoreError.versionConflict(current: before.version) }
            if before.profile == new { return before }
            let body = Self.encode(new)
            let sha = Self.sha256(body)
            let version = before.version + 1
            try await conn.query(
                """
                INSERT INTO procedure_profiles (agency_id, version, body, sha256, reason, created_by, created_by_label)
                VALUES (\(agencyID), \(version), \(body)::jsonb, \(sha), \(reason), \(actor.userID.flatMap(UUID.init(uuidString:))), \(actor.label))
                """, logger: db.logger)
            try await AuditLog.append(
                on: conn, actor: actor, action: "procedure_profile.change", entityType: "procedure_profile",
                entityID: agencyID.uuidString.lowercased(),
                before: Self.auditDocument(before, reason: nil), after: Self.auditDocument(
                    Current(profile: new, version: version, sha256: sha, origin: "agency"), reason: reason),
                logger: db.logger)
            return Current(profile: new, version: version, sha256: sha, origin: "agency")
        }
    }

    static func auditDocument(_ current: Current, reason: String?) -> String {
        var object: [String: Any] = ["version": current.version, "sha256": current.sha256, "origin": current.origin,
                                     "profile": (try? JSONSerialization.jsonObject(with: Data(encode(current.profile).utf8))) ?? [:]]
        if let reason { object["reason"] = reason }
        return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// The API's document of a profile version: the profile and where it came from.
    public static func document(_ current: Current) -> String {
        auditDocument(current, reason: nil)
    }
}
