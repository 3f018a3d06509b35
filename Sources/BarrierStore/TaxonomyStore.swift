import BarrierCore
import Foundation
import PostgresNIO

/// The catalogues of the barrier model (sectors, indicators, measures,
/// opportunities), kept up to date by administrators: each addition or change is
/// checked by Core (`TaxonomyDraft`), stored with a new version of the entry in
/// `taxonomy_versions`, and audited, in one transaction. Entries are shared by
/// every agency and never deleted.
public struct TaxonomyStore: Sendable {
    let db: Database

    public init(_ db: Database) { self.db = db }

    /// The table, the key of an entry and its document, per catalogue.
    struct Shape {
        var table: String
        var key: String
        var document: String
    }

    static func shape(_ catalogue: TaxonomyCatalogue) -> Shape {
        let meta = "'version', version, 'updated_at', updated_at, 'updated_by', updated_by_label"
        switch catalogue {
        case .sectors:
            return Shape(table: "sectors", key: "code", document: "json_build_object('key', code, 'code', code, 'label', label, 'names', names, 'letter_group', letter_group, 'postal', postal, \(meta))")
        case .indicators:
            return Shape(table: "signal_indicators", key: "code", document: """
                json_build_object('key', code, 'code', code, 'label', label, 'type', type, 'stages', stages, 'source', source,
                                  'source_note', source_note, \(meta))
                """)
        case .measures:
            return Shape(table: "measures", key: "code", document: """
                json_build_object('key', code, 'code', code, 'label', label, 'description', description, 'sectors', sectors, \(meta))
                """)
        case .opportunities:
            return Shape(table: "barrier_opportunities", key: "stage || ':' || position", document: """
                json_build_object('key', stage || ':' || position, 'stage', stage, 'position', position, 'label', label, 'source', source, \(meta))
                """)
        }
    }

    /// Every catalogue with its entries, in one JSON object.
    public func list() async throws -> String {
        let parts = TaxonomyCatalogue.allCases.map { c -> String in
            let s = Self.shape(c)
            return "'\(c.rawValue)', coalesce((SELECT json_agg(\(s.document) ORDER BY \(s.key)) FROM \(s.table)), '[]'::json)"
        }
        let rows = try await db.query(PostgresQuery(unsafeSQL: "SELECT json_build_object(\(parts.joined(separator: ", ")))::text"))
        for try await json in rows.decode(String.self) { return json }
        return "{}"
    }

    /// The sector codes as the catalogue stands: what a supplier, a report filter or a plan indicator may name.
    public func sectorCodes() async throws -> Set<String> {
        try await db.withConnection { conn in try await codes(.sectors, on: conn) }
    }

    /// How letters treat each sector: its first-contact letter and whether the postal-secrecy caveat applies.
    public func letterRules(on conn: PostgresConnection? = nil) async throws -> SectorLetterRules {
        let query: PostgresQuery = "SELECT code, letter_group, postal FROM sectors"
        let rows = if let conn { try await Rows(conn.query(query, logger: db.logger)) } else { try await db.query(query) }
        var rules = SectorLetterRules(groups: [:], postal: [])
        for try await (code, group, postal) in rows.decode((String, String, Bool).self) {
            rules.groups[code] = SectorGroup(rawValue: group) ?? .general
            if postal { rules.postal.insert(code) }
        }
        return rules
    }

    public func entry(_ catalogue: TaxonomyCatalogue, key: String) async throws -> (json: String, version: Int) {
        try await db.withConnection { conn in try await document(catalogue, key: key, on: conn) }
    }

    /// An entry's versions, oldest first, each with who changed it, when and why.
    public func versions(_ catalogue: TaxonomyCatalogue, key: String) async throws -> String {
        _ = try await entry(catalogue, key: key)
        let rows = try await db.query(
            """
            SELECT coalesce(json_agg(json_build_object('version', version, 'entry', entry, 'reason', reason, 'changed_at', changed_at,
                                                       'changed_by', changed_by_label) ORDER BY version), '[]'::json)::text
            FROM taxonomy_versions WHERE catalogue = \(catalogue.rawValue) AND key = \(key)
            """)
        for try await json in rows.decode(String.self) { return json }
        return "[]"
    }

    /// Adds an entry: Core's rules, then the row, its first version and the audit event.
    public func create(_ catalogue: TaxonomyCatalogue, _ draft: TaxonomyDraft, actor: Actor) async throws -> (json: String, key: String, version: Int) {
        try await db.transaction { conn in
            let existing = try await codes(catalogue, on: conn)
            let sectors = catalogue == .measures ? try await codes(.sectors, on: conn) : []
            let problems = draft.problems(catalogue, creating: true, existing: existing, knownSectors: sectors)
            if !problems.isEmpty { throw StoreError.invalid(problems) }
            let key: String
            switch catalogue {
            case .sectors:
                key = draft.code!
                try await conn.query(
                    """
                    INSERT INTO sectors (code, label, names, letter_group, postal, updated_by_label)
                    VALUES (\(key), \(draft.label!.trimmingWhitespace), \(try Self.json(draft.names))::jsonb,
                            \((draft.letterGroup ?? .general).rawValue), \(draft.postal ?? false), \(actor.label))
                    """, logger: db.logger)
            case .indicators:
                key = draft.code!
                let stages = Array(Set(draft.stages!)).sorted().map(\.rawValue)
                try await conn.query(
                    """
                    INSERT INTO signal_indicators (code, label, type, stage, stages, source, source_note, updated_by_label)
                    VALUES (\(key), \(draft.label!.trimmingWhitespace), \(draft.type!.rawValue), \(stages[0]), \(stages), \(draft.source!.rawValue),
                            \(draft.sourceNote?.trimmingWhitespace), \(actor.label))
                    """, logger: db.logger)
            case .measures:
                key = draft.code!
                try await conn.query(
                    """
                    INSERT INTO measures (code, label, description, sectors, updated_by_label)
                    VALUES (\(key), \(draft.label!.trimmingWhitespace), \(draft.description?.trimmingWhitespace ?? ""),
                            \(Array(Set(draft.sectors ?? [])).sorted()), \(actor.label))
                    """, logger: db.logger)
            case .opportunities:
                var position = 1
                for try await next in try await conn.query(
                    "SELECT coalesce(max(position), 0) + 1 FROM barrier_opportunities WHERE stage = \(draft.stage!.rawValue)",
                    logger: db.logger).decode(Int.self) { position = next }
                key = "\(draft.stage!.rawValue):\(position)"
                try await conn.query(
                    """
                    INSERT INTO barrier_opportunities (stage, position, label, source, updated_by_label)
                    VALUES (\(draft.stage!.rawValue), \(position), \(draft.label!.trimmingWhitespace), \(draft.source!.rawValue), \(actor.label))
                    """, logger: db.logger)
            }
            let after = try await document(catalogue, key: key, on: conn)
            try await record(catalogue, key: key, version: after.version, json: after.json, reason: draft.reason!, actor: actor, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "taxonomy.create", entityType: "taxonomy",
                                      entityID: "\(catalogue.rawValue)/\(key)", before: nil, after: after.json, logger: db.logger)
            return (after.json, key, after.version)
        }
    }

    /// Changes an entry (its label, names, description, sectors, stages…; never its code or stage):
    /// the fields first, then the version, then the new version stored and audited.
    public func update(_ catalogue: TaxonomyCatalogue, key: String, _ draft: TaxonomyDraft, expectedVersion: Int,
                       actor: Actor) async throws -> (json: String, version: Int) {
        try await db.transaction { conn in
            let sectors = catalogue == .measures ? try await codes(.sectors, on: conn) : []
            let problems = draft.problems(catalogue, creating: false, existing: [], knownSectors: sectors)
            if !problems.isEmpty { throw StoreError.invalid(problems) }
            let s = Self.shape(catalogue)
            var current: Int?
            for try await version in try await conn.query(
                PostgresQuery(unsafeSQL: "SELECT version FROM \(s.table) WHERE \(s.key) = $1 FOR UPDATE",
                              binds: { var b = PostgresBindings(); b.append(key); return b }()), logger: db.logger).decode(Int.self) {
                current = version
            }
            guard let current else { throw StoreError.notFound(entity: "\(catalogue.rawValue) entry", id: key) }
            guard current == expectedVersion else { throw StoreError.versionConflict(current: current) }
            let before = try await document(catalogue, key: key, on: conn)
            var sets: [String] = []
            var binds = PostgresBindings()
            func set(_ column: String, _ value: some PostgresEncodable & Sendable, cast: String = "") throws {
                try binds.append(value)
                sets.append("\(column) = $\(binds.count)\(cast)")
            }
            if let label = draft.label { try set("label", label.trimmingWhitespace) }
            if let names = draft.names { try set("names", try Self.json(names) ?? "{}", cast: "::jsonb") }
            if let type = draft.type { try set("type", type.rawValue) }
            if let group = draft.letterGroup { try set("letter_group", group.rawValue) }
            if let postal = draft.postal { try set("postal", postal) }
            if let stages = draft.stages {
                let sorted = Array(Set(stages)).sorted().map(\.rawValue)
                try set("stages", sorted)
                try set("stage", sorted[0])
            }
            if let source = draft.source { try set("source", source.rawValue) }
            if let note = draft.sourceNote { try set("source_note", note.trimmingWhitespace) }
            if let description = draft.description { try set("description", description.trimmingWhitespace) }
            if let sectors = draft.sectors { try set("sectors", Array(Set(sectors)).sorted()) }
            try set("updated_by_label", actor.label)
            binds.append(key)
            try await conn.query(PostgresQuery(unsafeSQL: """
                UPDATE \(s.table) SET \(sets.joined(separator: ", ")), version = version + 1, updated_at = now() WHERE \(s.key) = $\(binds.count)
                """, binds: binds), logger: db.logger)
            let after = try await document(catalogue, key: key, on: conn)
            if try await Self.sameEntry(before.json, after.json, on: conn, db: db) {
                throw StoreError.invalid([FieldError(field: "label", message: "nothing changed: the entry already reads so")])
            }
            try await record(catalogue, key: key, version: after.version, json: after.json, reason: draft.reason!, actor: actor, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "taxonomy.update", entityType: "taxonomy",
                                      entityID: "\(catalogue.rawValue)/\(key)", before: before.json, after: after.json, logger: db.logger)
            return after
        }
    }

    // MARK: Pieces

    func document(_ catalogue: TaxonomyCatalogue, key: String, on conn: PostgresConnection) async throws -> (json: String, version: Int) {
        let s = Self.shape(catalogue)
        let rows = try await conn.query(PostgresQuery(unsafeSQL: "SELECT \(s.document)::text, version FROM \(s.table) WHERE \(s.key) = $1",
                                                      binds: { var b = PostgresBindings(); b.append(key); return b }()), logger: db.logger)
        for try await row in rows.decode((String, Int).self) { return row }
        throw StoreError.notFound(entity: "\(catalogue.rawValue) entry", id: key)
    }

    func codes(_ catalogue: TaxonomyCatalogue, on conn: PostgresConnection) async throws -> Set<String> {
        let s = Self.shape(catalogue)
        var codes: Set<String> = []
        for try await code in try await conn.query(PostgresQuery(unsafeSQL: "SELECT \(s.key) FROM \(s.table)"), logger: db.logger).decode(String.self) {
            codes.insert(code)
        }
        return codes
    }

    /// The entry as it became, kept as its version (without the version's own bookkeeping).
    func record(_ catalogue: TaxonomyCatalogue, key: String, version: Int, json: String, reason: String, actor: Actor,
                on conn: PostgresConnection) async throws {
        try await conn.query(
            """
            INSERT INTO taxonomy_versions (catalogue, key, version, entry, reason, changed_by, changed_by_label)
            VALUES (\(catalogue.rawValue), \(key), \(version), \(json)::jsonb - 'key' - 'version' - 'updated_at' - 'updated_by',
                    \(reason.trimmingWhitespace), \(actor.userID.flatMap(UUID.init(uuidString:))), \(actor.label))
            """, logger: db.logger)
    }

    /// Whether two documents of an entry say the same, its bookkeeping aside.
    static func sameEntry(_ a: String, _ bDoc: String, on conn: PostgresConnection, db: Database) async throws -> Bool {
        let meta = "- 'version' - 'updated_at' - 'updated_by'"
        for try await same in try await conn.query(PostgresQuery(unsafeSQL: "SELECT ($1::jsonb \(meta)) = ($2::jsonb \(meta))",
                                                                 binds: { var b = PostgresBindings(); b.append(a); b.append(bDoc); return b }()),
                                                   logger: db.logger).decode(Bool.self) {
            return same
        }
        return false
    }

    static func json(_ names: [String: String]?) throws -> String? {
        guard let names else { return nil }
        let trimmed = names.mapValues { $0.trimmingWhitespace }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(trimmed), as: UTF8.self)
    }
}
