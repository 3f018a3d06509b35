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
            SELECT coalesce(json_agg(json_build_object('code', code, 'label', label, 'type', type, 'stage', stage) ORDER BY code),
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
            try await ownSignal(id, on: conn)
            var errors = FieldErrors()
            errors.text("legal_basis", legalBasis, max: 500, missing: "is required: name the provision that allows sharing this signal")
            if handlingNote.count > 5000 { errors.add("handling_note", "must be at most 5000 characters") }
            var receiver: UUID?
            for try await (found, isOwn) in try await conn.query(
                "SELECT id, id = current_agency() FROM agencies WHERE id = \(UUID(uuidString: agency)) OR lower(name) = lower(\(agency))",
                logger: db.logger).decode((UUID, Bool?).self) {
                if isOwn == true { errors.add("agency", "is your own agency; a signal is shared with another") } else { receiver = found }
            }
            if receiver == nil && errors.isEmpty { errors.add("agency", "no agency '\(agency)' (give its id or name)") }
            if !errors.isEmpty { throw StoreError.invalid(errors.errors) }
            var open = false
            for try await _ in try await conn.query(
                "SELECT 1 FROM signal_shares WHERE signal_id = \(id) AND shared_with = \(receiver!) AND revoked_at IS NULL", logger: db.logger)
                .decode(Int.self) { open = true }
            if open { throw StoreError.conflict("this signal is already shared with that agency; revoke the share to change it") }
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
            try await ownSignal(id, on: conn)
            var revoked: Bool?
            for try await r in try await conn.query(
                "SELECT revoked_at IS NOT NULL FROM signal_shares WHERE id = \(share) AND signal_id = \(id) FOR UPDATE", logger: db.logger)
                .decode(Bool.self) { revoked = r }
            guard let revoked else { throw StoreError.notFound(entity: "signal share", id: share.uuidString.lowercased()) }
            if revoked { throw StoreError.conflict("this share was already revoked") }
            var errors = FieldErrors()
            errors.text("reason", reason, max: 5000, missing: "is required: say why the share ends")
            if !errors.isEmpty { throw StoreError.invalid(errors.errors) }
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

    /// Locks the task's agency's own signal: 404 when it does not exist or is not
    /// visible, 403 when it was only shared with this agency.
    func ownSignal(_ id: UUID, on conn: PostgresConnection) async throws {
        var own: Bool?
        for try await isOwn in try await conn.query(
            "SELECT agency_id = current_agency() FROM signals WHERE id = \(id)", logger: db.logger).decode(Bool?.self) { own = isOwn ?? false }
        guard let own else { throw StoreError.notFound(entity: "signal", id: id.uuidString.lowercased()) }
        if !own { throw StoreError.forbidden("This signal was shared with your agency to read; only the agency that recorded it changes or shares it.") }
        for try await _ in try await conn.query("SELECT id FROM signals WHERE id = \(id) FOR UPDATE", logger: db.logger).decode(UUID.self) {}
    }

    public func create(_ draft: SignalDraft, actor: Actor) async throws -> (json: String, version: Int) {
        try await db.transaction { conn in
            let id = UUID()
            try await conn.query("INSERT INTO signals (id, created_by) VALUES (\(id), \(actor.userID.flatMap(UUID.init(uuidString:))))",
                                 logger: db.logger)
            try await writeVersion(id, version: 1, draft, reason: nil, actor: actor, on: conn)
            let record = try await document(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "signal.create", entityType: "signal",
                                      entityID: id.uuidString.lowercased(), before: nil, after: record.json, logger: db.logger)
            return record
        }
    }

    /// A correction: the whole signal restated as a new version, with the reason.
    public func correct(_ id: UUID, _ draft: SignalDraft, reason: String, expectedVersion: Int, actor: Actor) async throws -> (json: String, version: Int) {
        try await db.transaction { conn in
            try await ownSignal(id, on: conn)
            var current: Int?
            for try await v in try await conn.query(
                "SELECT max(version) FROM signal_versions WHERE signal_id = \(id)", logger: db.logger).decode(Int?.self) { current = v }
            guard let version = current else { throw StoreError.notFound(entity: "signal", id: id.uuidString.lowercased()) }
            guard version == expectedVersion else { throw StoreError.versionConflict(current: version) }
            if reason.allSatisfy(\.isWhitespace) || reason.count > 5000 {
                throw StoreError.invalid([FieldError(field: "correction_reason", message: "is required (1 to 5000 characters): say what was wrong")])
            }
            let before = try await document(id, on: conn)
            try await writeVersion(id, version: version + 1, draft, reason: reason, actor: actor, on: conn)
            let after = try await document(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "signal.correct", entityType: "signal",
                                      entityID: id.uuidString.lowercased(), before: before.json, after: after.json, logger: db.logger)
            return after
        }
    }

    func writeVersion(_ id: UUID, version: Int, _ d: SignalDraft, reason: String?, actor: Actor, on conn: PostgresConnection) async throws {
        let today = try await LetterStore.today(on: conn, logger: db.logger)
        var known: Set<String> = []
        for try await code in try await conn.query("SELECT code FROM signal_indicators", logger: db.logger).decode(String.self) { known.insert(code) }
        var problems = d.problems(today: today, knownIndicators: known)
        let ids = d.facilitatorIDs.compactMap { UUID(uuidString: $0) }
        if ids.count != d.facilitatorIDs.count {
            problems.append(FieldError(field: "facilitator_ids", message: "must be supplier ids (UUIDs)"))
        } else if !ids.isEmpty {
            var found = 0
            for try await n in try await conn.query("SELECT count(*)::int FROM facilitators WHERE id = ANY(\(ids)::uuid[])", logger: db.logger).decode(Int.self) { found = n }
            if found != ids.count { problems.append(FieldError(field: "facilitator_ids", message: "names a supplier that is not registered")) }
        }
        if !problems.isEmpty { throw StoreError.invalid(problems) }
        try await conn.query(
            """
            INSERT INTO signal_versions (signal_id, version, type, stage, indicator_code, indicator_text, observed_on, source, reporter,
                description, facilitator_ids, correction_reason, recorded_by, recorded_by_label)
            VALUES (\(id), \(version), \(d.type.rawValue), \(d.stage.rawValue), \(d.indicatorCode), \(d.indicatorText), \(d.observedOn)::date,
                \(d.source), \(d.reporter), \(d.description), \(ids), \(reason), \(actor.userID.flatMap(UUID.init(uuidString:))), \(actor.label))
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

    /// Adds an evidence file to a signal (type and size checked, SHA-256 stored).
    public func attach(_ id: UUID, _ file: UploadedDocument, actor: Actor) async throws -> (json: String, version: Int) {
        _ = try await get(id)  // 404 before 422
        let problems = file.problems()
        if !problems.isEmpty { throw StoreError.invalid(problems.map { FieldError(field: "attachment", message: $0.message) }) }
        return try await db.transaction { conn in
            try await ownSignal(id, on: conn)
            let rows = try await conn.query(
                """
                INSERT INTO signal_attachments (signal_id, name, content_type, bytes, sha256, recorded_by)
                VALUES (\(id), \(file.name), \(file.contentType), \(file.bytes), \(file.sha256), \(actor.userID.flatMap(UUID.init(uuidString:))))
                RETURNING id
                """, logger: db.logger)
            var attachment: UUID?
            for try await a in rows.decode(UUID.self) { attachment = a }
            let after = try await document(id, on: conn)
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
