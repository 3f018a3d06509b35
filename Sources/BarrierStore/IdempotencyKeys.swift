import Crypto
import Foundation
import NIOCore
import PostgresNIO

/// The keys clients send with `Idempotency-Key` and the first answer to each,
/// so that a retried POST answers again instead of changing again. A key is
/// the user's own (row-level security adds the agency); it lasts
/// `lifetime` from its first use.
public struct IdempotencyKeys: Sendable {
    let db: Database

    public init(_ db: Database) { self.db = db }

    /// How long a key is remembered after its first use.
    public static let lifetime = "24 hours"
    /// How long a claim without an answer holds before a retry may take it
    /// over: longer than any request runs, short enough that a crashed
    /// server's claim does not block the client for long.
    public static let takeoverAfter = "5 minutes"

    /// What a key stands for: one request.
    public struct Fingerprint: Sendable, Equatable {
        public var method: String
        public var path: String
        /// SHA-256 of the raw body.
        public var bodySHA256: Data

        public init(method: String, path: String, bodySHA256: Data) {
            self.method = method
            self.path = path
            self.bodySHA256 = bodySHA256
        }

        /// The fingerprint of a request with this raw body.
        public init(method: String, path: String, body: ByteBuffer) {
            self.init(method: method, path: path, bodySHA256: Data(SHA256.hash(data: body.readableBytesView)))
        }
    }

    /// A stored answer: status, the headers worth repeating, the body.
    public struct Answer: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: ByteBuffer

        public init(status: Int, headers: [String: String], body: ByteBuffer) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    public enum Claim: Sendable {
        /// The caller runs the request and then calls `complete` or `release` with this attempt.
        case claimed(attempt: UUID)
        /// The key already has an answer for this request.
        case replay(Answer)
        /// The first request with this key is still running.
        case inFlight
        /// The key was first used for another request.
        case mismatch(first: Fingerprint)
    }

    /// Claims `key` for `request` (as the task's agency), or says why not.
    public func claim(user: UUID, agency: UUID, key: String, request: Fingerprint) async throws -> Claim {
        let attempt = UUID()
        // A row deleted between the two statements (its first attempt failed) is claimed on the next round.
        for _ in 0..<3 {
            let claimed = try await db.query(
                """
                INSERT INTO idempotency_keys AS k (agency_id, user_id, key, method, path, request_sha256, attempt)
                VALUES (\(agency), \(user), \(key), \(request.method), \(request.path), \(request.bodySHA256), \(attempt))
                ON CONFLICT (user_id, key) DO UPDATE
                    SET method = excluded.method, path = excluded.path, request_sha256 = excluded.request_sha256,
                        attempt = excluded.attempt, started_at = now(), completed_at = NULL, response_status = NULL,
                        response_headers = NULL, response_body = NULL,
                        created_at = CASE WHEN k.created_at < now() - \(Self.lifetime)::interval THEN now() ELSE k.created_at END
                    WHERE k.created_at < now() - \(Self.lifetime)::interval
                       OR (k.completed_at IS NULL AND k.started_at < now() - \(Self.takeoverAfter)::interval
                           AND k.method = excluded.method AND k.path = excluded.path AND k.request_sha256 = excluded.request_sha256)
                RETURNING k.attempt
                """)
            for try await holder in claimed.decode(UUID.self) where holder == attempt { return .claimed(attempt: attempt) }
            let rows = try await db.query(
                """
                SELECT method, path, request_sha256, response_status::int, response_headers::text, response_body
                FROM idempotency_keys
                WHERE user_id = \(user) AND key = \(key) AND created_at >= now() - \(Self.lifetime)::interval
                """)
            for try await (method, path, sha, status, headers, body) in rows.decode((String, String, Data, Int?, String?, ByteBuffer?).self) {
                let first = Fingerprint(method: method, path: path, bodySHA256: sha)
                if first != request { return .mismatch(first: first) }
                guard let status else { return .inFlight }
                let fields = headers.flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:]
                return .replay(Answer(status: status, headers: fields, body: body ?? ByteBuffer()))
            }
        }
        return .inFlight
    }

    /// Stores the answer of the attempt that holds the key (a taken-over attempt stores nothing).
    public func complete(user: UUID, key: String, attempt: UUID, answer: Answer) async throws {
        let headers = String(decoding: try JSONEncoder().encode(answer.headers), as: UTF8.self)
        try await db.query(
            """
            UPDATE idempotency_keys
            SET completed_at = now(), response_status = \(answer.status), response_headers = \(headers)::jsonb, response_body = \(answer.body)
            WHERE user_id = \(user) AND key = \(key) AND attempt = \(attempt)
            """)
    }

    /// Frees the key of an attempt that has no answer worth keeping, so that a retry runs the request again.
    public func release(user: UUID, key: String, attempt: UUID) async throws {
        try await db.query(
            "DELETE FROM idempotency_keys WHERE user_id = \(user) AND key = \(key) AND attempt = \(attempt) AND completed_at IS NULL")
    }

    /// Deletes the keys older than `lifetime`, every agency's (one at a time,
    /// as that agency); returns how many.
    @discardableResult
    public func sweepExpired() async throws -> Int {
        var deleted = 0
        try await db.forEachAgency { _ in
            let rows = try await db.query(
                "WITH gone AS (DELETE FROM idempotency_keys WHERE created_at < now() - \(Self.lifetime)::interval RETURNING 1) SELECT count(*)::int FROM gone")
            for try await n in rows.decode(Int.self) { deleted += n }
        }
        return deleted
    }
}
