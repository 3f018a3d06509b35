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

    /// The result of walking the chain and checking its signed checkpoints.
    public struct Verification: Sendable, Equatable {
        public var checked: Int
        /// The first event whose hash or link does not hold, and why.
        public var firstBroken: (seq: Int64, reason: String)?
        /// Checkpoints that hold (signature, and the event they name has the hash they signed).
        public var checkpointsHeld = 0
        /// The first checkpoint that does not hold, and why (truncation, rewriting, a bad signature).
        public var checkpointProblem: String?
        /// Whether signatures were checked (a trusted public key was given).
        public var signaturesChecked = false
        /// The newest checkpoint's event, and how many events came after it (not yet signed).
        public var newestCheckpointSeq: Int64?
        public var unsignedEvents = 0

        public var holds: Bool { firstBroken == nil && checkpointProblem == nil }

        public init(checked: Int, firstBroken: (seq: Int64, reason: String)?) {
            self.checked = checked
            self.firstBroken = firstBroken
        }

        public static func == (a: Verification, b: Verification) -> Bool {
            a.checked == b.checked && a.firstBroken?.seq == b.firstBroken?.seq && a.firstBroken?.reason == b.firstBroken?.reason
                && a.checkpointsHeld == b.checkpointsHeld && a.checkpointProblem == b.checkpointProblem
        }
    }

    /// Recomputes every event's hash from its stored columns, in order, and checks
    /// that each links to the one before; stops at the first broken event. Then
    /// every signed checkpoint (and each `published` head kept elsewhere) must name
    /// an event that is still there with the hash it signed, and, when `keys` are
    /// given, carry a valid signature by one of them: deleting the newest events or
    /// recomputing the chain after a rewrite shows here.
    public func verify(trusting keys: [AuditPublicKey] = [], published: [AuditCheckpoint] = []) async throws -> Verification {
        let stored = try await AuditCheckpoints(db).all()
        let checkpoints = (stored.map { ($0, "checkpoint of \(Self.day($0))") }
            + published.map { ($0, "the published head of \(Self.day($0))") })
            .sorted { $0.0.seq < $1.0.seq }
        var result = try await walk(checkpoints: checkpoints)
        guard result.firstBroken == nil else { return result }
        result.signaturesChecked = !keys.isEmpty
        if result.checkpointProblem == nil, !keys.isEmpty {
            for (checkpoint, name) in checkpoints {
                if let problem = checkpoint.signatureProblem(trusting: keys) {
                    result.checkpointProblem = "the \(name) (event \(checkpoint.seq)) does not hold: \(problem)"
                    break
                }
            }
        }
        if result.checkpointProblem == nil { result.checkpointsHeld = checkpoints.count }
        result.newestCheckpointSeq = stored.last?.seq
        return result
    }

    private static func day(_ c: AuditCheckpoint) -> String {
        let date = Date(timeIntervalSince1970: Double(c.signedAtMicros) / 1_000_000)
        return ISO8601DateFormatter.string(from: date, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime])
    }

    /// The walk itself; checkpoints sorted by seq are compared on the way.
    private func walk(checkpoints: [(AuditCheckpoint, String)]) async throws -> Verification {
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
        var pending = checkpoints[...]
        var problem: String?
        var lastSeq: Int64 = 0
        var unsigned = 0
        for try await row in rows {
            let (seq, micros, actorID, actorLabel, agencyID, action, entityType, entityID, before, after, requestID, prev, hash) =
                try row.decode((Int64, Int64, String, String, String, String, String, String, String, String, String, String, String).self)
            if prev != expectedPrev {
                return Verification(checked: checked, firstBroken: (seq, "its previous-hash does not match the event before it (an event was removed, inserted or reordered)"))
            }
            let canonical = [String(seq), String(micros), actorID, actorLabel, agencyID, action, entityType, entityID, before, after, requestID, prev]
                .joined(separator: "\n")
            let computed = Data(SHA256.hash(data: Data(canonical.utf8))).hex
            if computed != hash {
                return Verification(checked: checked, firstBroken: (seq, "its content does not match its hash (the event was altered)"))
            }
            while let (checkpoint, name) = pending.first, checkpoint.seq <= seq {
                pending.removeFirst()
                if problem != nil { continue }
                if checkpoint.seq < seq {
                    problem = "the \(name) signed event \(checkpoint.seq), which is no longer in the chain"
                } else if checkpoint.hash != hash {
                    problem = "the \(name) signed another hash for event \(seq): the chain was rewritten and its hashes recomputed"
                }
            }
            expectedPrev = hash
            checked += 1
            lastSeq = seq
            unsigned = (checkpoints.last.map { seq > $0.0.seq } ?? true) ? unsigned + 1 : 0
        }
        if problem == nil, let (checkpoint, name) = pending.first {
            problem = "the chain ends at event \(lastSeq), but the \(name) signed event \(checkpoint.seq): the newest events were deleted"
        }
        var result = Verification(checked: checked, firstBroken: nil)
        result.checkpointProblem = problem
        result.unsignedEvents = unsigned
        return result
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
