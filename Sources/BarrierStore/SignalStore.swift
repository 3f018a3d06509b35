import BarrierCore
import Crypto
import Foundation
import PostgresNIO

/// Signals and their evidence. A signal is never edited away: a correction is
/// a new version with its reason, attachments are added, never replaced; all
/// of it is audited.
public struct SignalStore: Sendable {
    let db: Database

    public init(_ db: Database) { self.db = db }

    public func indicators() async throws -> String {
        let rows = try await db.query(
            """
            SELECT coalesce(json_agg(json_build_object('code', code, 'label', label, 'type', type, 'stage', stage, 'stages', stages,
                                                       'source', source, 'source_note', source_note) ORDER BY code),
                            '[]'::json)::text FROM signal_indicators
            """)
        for try await json in rows.decode(String.self) { return json }
        return "[]"
    }

    /// A signal as the API shows it: its document, the agency that owns it, and
    /// whether the caller only reads it (another agency shared it with them).
    static let apiDocument = """
        SELECT (d.document::jsonb || jsonb_build_object('agency', jsonb_build_object('id', g.id, 'name', g.name),
                                                        'read_only', s.agency_id IS DISTINCT FROM current_agency()))::text, d.version
        FROM signal_documents d JOIN signals s ON s.id = d.id JOIN agencies g ON g.id = s.agency_id
        """

    public func get(_ id: UUID) async throws -> (json: String, version: Int) {
        let rows = try await db.query(PostgresQuery(unsafeSQL: Self.apiDocument + " WHERE d.id = $1",
                                                    binds: { var b = PostgresBindings(); b.append(id); return b }()))
        for try await row in rows.decode((String, Int).self) { return row }
        throw StoreError.notFound(entity: "signal", id: id.uuidString.lowercased())
    }

    /// Signals, newest observation first, by supplier, type or stage.
    public func list(facilitatorID: UUID? = nil, type: SignalType? = nil, stage: Stage? = nil, limit: Int = 100) async throws -> [String] {
        var binds = SQLBinds()
        var sql = Self.apiDocument + " WHERE true"
        if let facilitatorID {
            sql += " AND d.id IN (SELECT signal_id FROM signal_facilitators WHERE facilitator_id = \(binds.add(facilitatorID)))"
        }
        if let type { sql += " AND d.document->>'type' = \(binds.add(type.rawValue))" }
        if let stage { sql += " AND d.document->>'stage' = \(binds.add(stage.rawValue))" }
        sql += " ORDER BY d.document->>'observed_on' DESC, d.id LIMIT \(binds.add(limit))"
        var items: [String] = []
        for try await (json, _) in try await db.query(PostgresQuery(unsafeSQL: sql, binds: binds.binds)).decode((String, Int).self) {
            items.append(json)
        }
        return items
    }

    // MARK: Sharing

    static let shareDocument = """
        SELECT json_build_object('id', h.id, 'signal_id', h.signal_id, 'agency', json_build_object('id', a.id, 'name', a.name),
                   'shared_with', json_build_object('id', w.id, 'name', w.name), 'legal_basis', h.legal_basis,
                   'handling_note', h.handling_note, 'shared_at', h.shared_at, 'shared_by', h.shared_by_label,
                   'revoked_at', h.revoked_at, 'revoked_by', h.revoked_by_label, 'revocation_reason', h.revocation_reason,
                   'version', h.version)::text
        FROM signal_shares h JOIN agencies a ON a.id = h.agency_id JOIN agencies w ON w.id = h.shared_with
        """

    /// Shares the agency's own signal with another agency, which may then read it
    /// and rely on it as evidence, never change it. Audited; revocable.
    public func share(_ id: UUID, with agency: String, legalBasis: String, handlingNote: String, actor: Actor) async throws -> String {
        try await db.transaction { conn in
            let (access, _) = try await access(id, on: conn)
            var receiver: UUID?, kind = SignalDecision.Receiver.none, open = false
            for try await (found, isOwn, isOpen) in try await conn.query(
                """
                SELECT a.id, a.id = current_agency(),
                       EXISTS (SELECT 1 FROM signal_shares h WHERE h.signal_id = \(id) AND h.shared_with = a.id AND h.revoked_at IS NULL)
                FROM agencies a WHERE a.id = \(UUID(uuidString: agency)) OR lower(a.name) = lower(\(agency))
                """, logger: db.logger).decode((UUID, Bool?, Bool).self) {
                if isOwn == true { kind = .own } else { (receiver, kind, open) = (found, .other, isOpen) }
            }
            try Self.refuse(SignalDecision.sharing(access: access, with: agency, receiver: kind, openShareExists: open, legalBasis: legalBasis,
                                                   handlingNote: handlingNote), id)
            var shareID: UUID?
            for try await created in try await conn.query(
                """
                INSERT INTO signal_shares (signal_id, shared_with, legal_basis, handling_note, shared_by, shared_by_label)
                VALUES (\(id), \(receiver!), \(legalBasis.trimmingWhitespace), \(handlingNote), \(actor.userID.flatMap(UUID.init(uuidString:))), \(actor.label))
                RETURNING id
                """, logger: db.logger).decode(UUID.self) { shareID = created }
            let json = try await shareDocument(shareID!, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "signal.share", entityType: "signal", entityID: id.uuidString.lowercased(),
                                      before: nil, after: json, logger: db.logger)
            return json
        }
    }

    /// Ends a share: the receiving agency no longer sees the signal.
    public func revokeShare(_ id: UUID, share: UUID, reason: String, actor: Actor) async throws -> String {
        try await db.transaction { conn in
            let (access, _) = try await access(id, on: conn)
            var revoked: Bool?
            if access == .own {
                for try await r in try await conn.query(
                    "SELECT revoked_at IS NOT NULL FROM signal_shares WHERE id = \(share) AND signal_id = \(id) FOR UPDATE", logger: db.logger)
                    .decode(Bool.self) { revoked = r }
            }
            switch SignalDecision.revoking(access: access, shareRevoked: revoked, reason: reason) {
            case .shareNotFound: throw StoreError.notFound(entity: "signal share", id: share.uuidString.lowercased())
            case let refusal: try Self.refuse(refusal, id)
            }
            let before = try await shareDocument(share, on: conn)
            try await conn.query(
                """
                UPDATE signal_shares SET revoked_at = now(), revoked_by_label = \(actor.label), revocation_reason = \(reason.trimmingWhitespace),
                    version = version + 1 WHERE id = \(share)
                """, logger: db.logger)
            let after = try await shareDocument(share, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "signal.revoke_share", entityType: "signal",
                                      entityID: id.uuidString.lowercased(), before: before, after: after, logger: db.logger)
            return after
        }
    }

    /// The signal's shares: every one for its owner, and the receiver's own for a receiver.
    public func shares(_ id: UUID) async throws -> [String] {
        _ = try await get(id)
        var items: [String] = []
        for try await json in try await db.query(PostgresQuery(unsafeSQL: Self.shareDocument + " WHERE h.signal_id = $1 ORDER BY h.shared_at, h.id",
                                                               binds: { var b = PostgresBindings(); b.append(id); return b }())).decode(String.self) {
            items.append(json)
        }
        return items
    }

    func shareDocument(_ share: UUID, on conn: PostgresConnection) async throws -> String {
        for try await json in try await conn.query(PostgresQuery(unsafeSQL: Self.shareDocument + " WHERE h.id = $1",
                                                                 binds: { var b = PostgresBindings(); b.append(share); return b }()),
                                                   logger: db.logger).decode(String.self) { return json }
        throw StoreError.notFound(entity: "signal share", id: share.uuidString.lowercased())
    }

    /// How the task's agency sees the signal (nil: not at all) and its current
    /// version; the row is locked when the agency owns it.
    func access(_ id: UUID, on conn: PostgresConnection) async throws -> (SignalAccess?, Int) {
        var loaded: (SignalAccess, Int)?
        for try await (own, version) in try await conn.query(
            "SELECT s.agency_id = current_agency(), (SELECT max(v.version) FROM signal_versions v WHERE v.signal_id = s.id) FROM signals s WHERE s.id = \(id)",
            logger: db.logger).decode((Bool?, Int?).self) {
            loaded = (own == true ? .own : .sharedToRead, version ?? 0)
        }
        if loaded?.0 == .own {
            for try await _ in try await conn.query("SELECT id FROM signals WHERE id = \(id) FOR UPDATE", logger: db.logger).decode(UUID.self) {}
        }
        return (loaded?.0, loaded?.1 ?? 0)
    }

    /// What Core refused, as the store's errors.
    static func refuse(_ refusal: SignalDecision.Refusal?, _ id: UUID) throws {
        switch refusal {
        case nil: return
        case .notFound: throw StoreError.notFound(entity: "signal", id: id.uuidString.lowercased())
        case .readOnly:
            throw StoreError.forbidden("This signal was shared with your agency to read; only the agency that recorded it changes or shares it.")
        case .versionConflict(let current): throw StoreError.versionConflict(current: current)
        case .alreadyShared: throw StoreError.conflict("this signal is already shared with that agency; revoke the share to change it")
        case .shareNotFound: throw StoreError.notFound(entity: "signal share", id: "")
        case .alreadyRevoked: throw StoreError.conflict("this share was already revoked")
        case .invalid(let problems): throw StoreError.invalid(problems)
        }
    }

    /// Records a signal, as one use case: the case loaded, Core's
    /// `SignalDecision.recording`, the first version saved with its audit event.
    public func create(_ draft: SignalDraft, actor: Actor) async throws -> (json: String, version: Int) {
        try await db.transaction { conn in
            let c = try await recordingCase(access: .own, version: 0, draft, on: conn)
            try Self.refuse(SignalDecision.recording(c, draft, correction: nil), UUID())
            let id = UUID()
            try await conn.query("INSERT INTO signals (id, created_by) VALUES (\(id), \(actor.userID.flatMap(UUID.init(uuidString:))))",
                                 logger: db.logger)
            try await writeVersion(id, version: 1, draft, reason: nil, actor: actor, on: conn)
            let record = try await document(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "signal.create", entityType: "signal",
                                      entityID: id.uuidString.lowercased(), before: nil, after: record.json, logger: db.logger)
            return try await apiRecord(id, on: conn)
        }
    }

    /// A correction: the whole signal restated as a new version, with the reason.
    public func correct(_ id: UUID, _ draft: SignalDraft, reason: String, expectedVersion: Int, actor: Actor) async throws -> (json: String, version: Int) {
        try await db.transaction { conn in
            let (access, version) = try await access(id, on: conn)
            let c = try await recordingCase(access: access, version: version, draft, on: conn)
            try Self.refuse(SignalDecision.recording(c, draft, correction: (reason, expectedVersion)), id)
            let before = try await document(id, on: conn)
            try await writeVersion(id, version: version + 1, draft, reason: reason, actor: actor, on: conn)
            let after = try await document(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "signal.correct", entityType: "signal",
                                      entityID: id.uuidString.lowercased(), before: before.json, after: after.json, logger: db.logger)
            return try await apiRecord(id, on: conn)
        }
    }

    /// What recording reads besides the access: the indicator catalogue, how
    /// many of the named suppliers are registered, today; in one statement.
    func recordingCase(access: SignalAccess?, version: Int, _ d: SignalDraft, on conn: PostgresConnection) async throws -> SignalRecordingCase {
        let ids = d.facilitatorIDs.compactMap { UUID(uuidString: $0) }
        for try await (known, registered, today) in try await conn.query(
            """
            SELECT ARRAY(SELECT code || ' ' || type || ' ' || array_to_string(stages, ',') FROM signal_indicators),
                   (SELECT count(*)::int FROM facilitators WHERE id = ANY(\(ids)::uuid[])), current_date::text
            """, logger: db.logger).decode(([String], Int, String).self) {
            var rules: [String: IndicatorRule] = [:]
            for line in known {
                let parts = line.split(separator: " ").map(String.init)
                guard parts.count == 3, let type = SignalType(rawValue: parts[1]) else { continue }
                rules[parts[0]] = IndicatorRule(type: type, stages: parts[2].split(separator: ",").compactMap { Stage(rawValue: String($0)) })
            }
            return SignalRecordingCase(access: access, version: version, knownIndicators: rules, registeredSuppliers: registered,
                                       supplierIDsWellFormed: ids.count == d.facilitatorIDs.count, today: today)
        }
        throw StoreError.conflict("the database gave no answer")
    }

    func writeVersion(_ id: UUID, version: Int, _ d: SignalDraft, reason: String?, actor: Actor, on conn: PostgresConnection) async throws {
        let ids = d.facilitatorIDs.compactMap { UUID(uuidString: $0) }
        try await conn.query(
            """
            INSERT INTO signal_versions (signal_id, version, type, stage, indicator_code, indicator_text, observed_on, source, reporter,
                description, facilitator_ids, market_actor, correction_reason, recorded_by, recorded_by_label)
            VALUES (\(id), \(version), \(d.type.rawValue), \(d.stage.rawValue), \(d.indicatorCode), \(d.indicatorText), \(d.observedOn)::date,
                \(d.source), \(d.reporter), \(d.description), \(ids), \(d.marketActor?.trimmingWhitespace), \(reason),
                \(actor.userID.flatMap(UUID.init(uuidString:))), \(actor.label))
            """, logger: db.logger)
        try await conn.query("DELETE FROM signal_facilitators WHERE signal_id = \(id)", logger: db.logger)
        try await conn.query(
            "INSERT INTO signal_facilitators (signal_id, facilitator_id) SELECT \(id), unnest(\(ids)::uuid[])", logger: db.logger)
    }

    func document(_ id: UUID, on conn: PostgresConnection) async throws -> (json: String, version: Int) {
        for try await row in try await conn.query("SELECT document::text, version FROM signal_documents WHERE id = \(id)", logger: db.logger)
            .decode((String, Int).self) { return row }
        throw StoreError.notFound(entity: "signal", id: id.uuidString.lowercased())
    }

    /// The signal as the API shows it (with `agency` and `read_only`, as `get`), inside a transaction.
    func apiRecord(_ id: UUID, on conn: PostgresConnection) async throws -> (json: String, version: Int) {
        let query = PostgresQuery(unsafeSQL: Self.apiDocument + " WHERE d.id = $1", binds: { var b = PostgresBindings(); b.append(id); return b }())
        for try await row in try await conn.query(query, logger: db.logger).decode((String, Int).self) { return row }
        throw StoreError.notFound(entity: "signal", id: id.uuidString.lowercased())
    }

    /// Adds an evidence file to a signal (type and size checked, SHA-256 stored).
    public func attach(_ id: UUID, _ file: UploadedDocument, actor: Actor) async throws -> (json: String, version: Int) {
        try await db.transaction { conn in
            let (access, _) = try await access(id, on: conn)
            try Self.refuse(SignalDecision.attaching(access: access, fileProblems: file.problems()), id)
            let rows = try await conn.query(
                """
                INSERT INTO signal_attachments (signal_id, name, content_type, bytes, sha256, recorded_by)
                VALUES (\(id), \(file.name), \(file.contentType), \(file.bytes), \(file.sha256), \(actor.userID.flatMap(UUID.init(uuidString:))))
                RETURNING id
                """, logger: db.logger)
            var attachment: UUID?
            for try await a in rows.decode(UUID.self) { attachment = a }
            let after = try await apiRecord(id, on: conn)
            try await AuditLog.append(
                on: conn, actor: actor, action: "signal.attach", entityType: "signal", entityID: id.uuidString.lowercased(), before: nil,
                after: "{\"attachment_id\": \"\(attachment?.uuidString.lowercased() ?? "")\", \"name\": \(jsonString(file.name)), \"sha256\": \"\(file.sha256.hex)\", \"bytes\": \(file.bytes.count)}",
                logger: db.logger)
            return after
        }
    }

    public func attachment(_ id: UUID, attachmentID: UUID) async throws -> UploadedDocument {
        let rows = try await db.query(
            "SELECT name, content_type, bytes FROM signal_attachments WHERE id = \(attachmentID) AND signal_id = \(id)")
        for try await (name, type, bytes) in rows.decode((String, String, Data).self) {
            return UploadedDocument(name: name, contentType: type, bytes: bytes)
        }
        throw StoreError.notFound(entity: "attachment", id: attachmentID.uuidString.lowercased())
    }
}
