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

    public func get(_ id: UUID) async throws -> (json: String, version: Int) {
        let rows = try await db.query("SELECT document::text, version FROM signal_documents WHERE id = \(id)")
        for try await row in rows.decode((String, Int).self) { return row }
        throw StoreError.notFound(entity: "signal", id: id.uuidString.lowercased())
    }

    /// Signals, newest observation first, by supplier, type or stage.
    public func list(facilitatorID: UUID? = nil, type: SignalType? = nil, stage: Stage? = nil, limit: Int = 100) async throws -> [String] {
        var binds = SQLBinds()
        var sql = "SELECT d.document::text FROM signal_documents d WHERE true"
        if let facilitatorID {
            sql += " AND d.id IN (SELECT signal_id FROM signal_facilitators WHERE facilitator_id = \(binds.add(facilitatorID)))"
        }
        if let type { sql += " AND d.document->>'type' = \(binds.add(type.rawValue))" }
        if let stage { sql += " AND d.document->>'stage' = \(binds.add(stage.rawValue))" }
        sql += " ORDER BY d.document->>'observed_on' DESC, d.id LIMIT \(binds.add(limit))"
        var items: [String] = []
        for try await json in try await db.query(PostgresQuery(unsafeSQL: sql, binds: binds.binds)).decode(String.self) {
            items.append(json)
        }
        return items
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
            var current: Int?
            for try await v in try await conn.query(
                "SELECT max(version) FROM signal_versions WHERE signal_id = (SELECT id FROM signals WHERE id = \(id) FOR UPDATE)",
                logger: db.logger).decode(Int?.self) { current = v }
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
            _ = try await document(id, on: conn)
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
