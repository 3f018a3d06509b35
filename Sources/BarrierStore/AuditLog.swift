import BarrierCore
import Crypto
import Foundation
import PostgresNIO

/// The append-only, hash-chained audit log. Events are appended by the
/// `audit_append` SQL function inside the caller's transaction, so a change and
/// its event commit together; the function serialises appenders so the chain
/// never forks.
public struct AuditLog: Sendable {
    let db: Database

    public init(_ db: Database) { self.db = db }

    /// Appends one event on `conn` (inside the change's transaction).
    /// `before` and `after` are JSON texts.
    @discardableResult
    public static func append(
        on conn: PostgresConnection, actor: Actor, action: String, entityType: String, entityID: String?,
        before: String?, after: String?, logger: Logger
    ) async throws -> Int64 {
        let actorID = actor.userID.flatMap(UUID.init(uuidString:))
        let agencyID = actor.agencyID.flatMap(UUID.init(uuidString:))
        let rows = try await conn.query(
            """
            SELECT audit_append(\(actorID), \(actor.label), coalesce(\(agencyID)::uuid, current_agency()), \(action), \(entityType), \(entityID),
                                \(before)::jsonb, \(after)::jsonb, \(actor.requestID))
            """, logger: logger)
        for try await seq in rows.decode(Int64.self) { return seq }
        throw StoreError.conflict("the audit event was not written")
    }

    /// The result of walking the chain.
    public struct Verification: Sendable, Equatable {
        public var checked: Int
        /// The first event whose hash or link does not hold, and why.
        public var firstBroken: (seq: Int64, reason: String)?

        public static func == (a: Verification, b: Verification) -> Bool {
            a.checked == b.checked && a.firstBroken?.seq == b.firstBroken?.seq && a.firstBroken?.reason == b.firstBroken?.reason
        }
    }

    /// Recomputes every event's hash from its stored columns, in order, and checks
    /// that each links to the one before. Stops at the first broken event.
    public func verify() async throws -> Verification {
        // Streamed on one connection; the whole chain, every agency's events
        // included, through the owner's audit_chain() (row-level security
        // would hide the other agencies' links).
        try await db.withConnection { conn in
        let rows = try await conn.query(
            """
            SELECT seq, (extract(epoch FROM occurred_at) * 1000000)::bigint, coalesce(actor_id::text, ''), actor_label,
                   coalesce(agency_id::text, ''), action, entity_type, coalesce(entity_id, ''), coalesce(before::text, ''),
                   coalesce(after::text, ''), coalesce(request_id, ''), encode(prev_hash, 'hex'), encode(hash, 'hex')
            FROM audit_chain() ORDER BY seq
            """, logger: db.logger)
        var expectedPrev = String(repeating: "0", count: 64)
        var checked = 0
        for try await row in rows {
            let (seq, micros, actorID, actorLabel, agencyID, action, entityType, entityID, before, after, requestID, prev, hash) =
                try row.decode((Int64, Int64, String, String, String, String, String, String, String, String, String, String, String).self)
            if prev != expectedPrev {
                return Verification(checked: checked, firstBroken: (seq, "its previous-hash does not match the event before it (an event was removed, inserted or reordered)"))
            }
            let canonical = [String(seq), String(micros), actorID, actorLabel, agencyID, action, entityType, entityID, before, after, requestID, prev]
                .joined(separator: "\n")
            let computed = SHA256.hash(data: Data(canonical.utf8)).map { String(format: "%02x", $0) }.joined()
            if computed != hash {
                return Verification(checked: checked, firstBroken: (seq, "its content does not match its hash (the event was altered)"))
            }
            expectedPrev = hash
            checked += 1
        }
        return Verification(checked: checked, firstBroken: nil)
        }
    }

    /// Filters for reading the log.
    public struct Query: Sendable {
        public var entityType: String?
        public var entityID: String?
        public var actor: String?
        public var from: Date?
        public var to: Date?
        public var afterSeq: Int64?
        public var limit: Int

        public init(entityType: String? = nil, entityID: String? = nil, actor: String? = nil, from: Date? = nil, to: Date? = nil, afterSeq: Int64? = nil, limit: Int = 100) {
            self.entityType = entityType
            self.entityID = entityID
            self.actor = actor
            self.from = from
            self.to = to
            self.afterSeq = afterSeq
            self.limit = limit
        }
    }

    /// Events as JSON texts, oldest first, and the seq to continue after.
    public func events(_ q: Query) async throws -> (items: [String], lastSeq: Int64?) {
        let actorID = q.actor.flatMap(UUID.init(uuidString:))
        let rows = try await db.query(
            """
            SELECT seq, jsonb_build_object(
                'seq', seq, 'occurred_at', occurred_at, 'actor_id', actor_id, 'actor', actor_label, 'agency_id', agency_id,
                'action', action, 'entity_type', entity_type, 'entity_id', entity_id, 'before', before, 'after', after,
                'request_id', request_id, 'prev_hash', encode(prev_hash, 'hex'), 'hash', encode(hash, 'hex'))::text
            FROM audit_events
            WHERE (\(q.entityType)::text IS NULL OR entity_type = \(q.entityType))
              AND (\(q.entityID)::text IS NULL OR entity_id = \(q.entityID))
              AND (\(q.actor)::text IS NULL OR actor_label = \(q.actor) OR actor_id = \(actorID))
              AND (\(q.from)::timestamptz IS NULL OR occurred_at >= \(q.from))
              AND (\(q.to)::timestamptz IS NULL OR occurred_at < \(q.to))
              AND seq > \(q.afterSeq ?? 0)
            ORDER BY seq
            LIMIT \(q.limit + 1)
            """)
        var items: [String] = []
        var seqs: [Int64] = []
        for try await (seq, json) in rows.decode((Int64, String).self) {
            items.append(json)
            seqs.append(seq)
        }
        if items.count > q.limit {
            items.removeLast()
            seqs.removeLast()
            return (items, seqs.last)
        }
        return (items, nil)
    }
}
