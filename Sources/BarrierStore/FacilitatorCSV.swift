import BarrierCore
import CSV
import Crypto
import Foundation
import NIOCore
import PostgresNIO

/// The registry's CSV file: one header row naming the columns, one supplier per
/// row. `aliases`, `stages` and `markets` separate values with `|`; `contacts`
/// is a JSON array of {name, role, email, phone}. Export and import use the same
/// columns, so an exported file imports into an empty registry unchanged.
public enum FacilitatorCSV {
    public static let columns = [
        "id", "legal_name", "aliases", "sector", "stages", "markets", "country", "registration_number", "vat_number",
        "street", "postal_code", "city", "website", "email", "phone", "status", "notes", "contacts",
    ]
    public static let requiredColumns: Set<String> = ["legal_name", "sector", "stages", "country"]
}

/// A row that looks like an existing supplier or like another row of the same
/// file; flagged in the result, not refused.
public struct ImportFlag: Codable, Sendable, Equatable {
    public var line: Int
    public var field: String
    public var message: String
    public var existingID: String?
    public var score: Double?

    enum CodingKeys: String, CodingKey {
        case line, field, message, existingID = "existing_id", score
    }
}

/// What an import wrote.
public struct ImportResult: Sendable {
    public var created: Int
    public var ids: [UUID]
    public var fileSHA256: String
    public var flags: [ImportFlag]
    public var auditSeq: Int64
}

/// Import and export of the registry as CSV.
public struct FacilitatorTransfer: Sendable {
    let db: Database

    public init(_ db: Database) { self.db = db }

    struct Row {
        var line: Int
        var id: UUID
        var draft: FacilitatorDraft
    }

    /// Validates every row, then writes all of them with COPY in one transaction,
    /// or nothing: any invalid row or registration-number clash throws
    /// `StoreError.invalid` listing each one with its line and column.
    public func importCSV(_ data: Data, actor: Actor, progress: (@Sendable (String, Int) -> Void)? = nil) async throws -> ImportResult {
        let sha = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        let sectors = try await FacilitatorStore(db).sectors()
        var (rows, errors, flags) = try parse(data, knownSectors: sectors, progress: progress)
        guard !rows.isEmpty || !errors.isEmpty else {
            throw StoreError.invalid([FieldError(field: "file", message: "has a header but no rows", line: 1)])
        }
        if !errors.isEmpty { throw StoreError.invalid(errors) }

        return try await db.transaction { conn in
            try await conn.query("SELECT pg_advisory_xact_lock(hashtext('barrier.facilitator_registration'))", logger: db.logger)
            let registryEmpty = try await isEmpty(conn)
            if !registryEmpty {
                errors += try await clashes(rows, on: conn)
                if !errors.isEmpty { throw StoreError.invalid(errors.sorted { ($0.line ?? 0) < ($1.line ?? 0) }) }
                flags += try await similar(rows, on: conn)
            }
            progress?("writing", 0)
            try await copy(rows, actor: actor, on: conn, progress: progress)
            let ids = rows.map(\.id)
            let after = """
                {"file_sha256": "\(sha)", "rows": \(rows.count), "flagged": \(flags.count), "created_ids": [\(ids.map { "\"\($0.uuidString.lowercased())\"" }.joined(separator: ","))]}
                """
            let seq = try await AuditLog.append(on: conn, actor: actor, action: "facilitator.import", entityType: "import",
                                                entityID: sha, before: nil, after: after, logger: db.logger)
            return ImportResult(created: rows.count, ids: ids, fileSHA256: sha,
                                flags: flags.sorted { $0.line < $1.line }, auditSeq: seq)
        }
    }

    // MARK: Parsing and checks that need no database

    func parse(_ data: Data, knownSectors: Set<String>, progress: (@Sendable (String, Int) -> Void)?) throws -> ([Row], [FieldError], [ImportFlag]) {
        let reader: CSVReader
        do {
            reader = try CSVReader(stream: InputStream(data: data), hasHeaderRow: true)
        } catch {
            throw StoreError.invalid([FieldError(field: "file", message: "is not a readable UTF-8 CSV file with a header row", line: 1)])
        }
        let header = (reader.headerRow ?? []).map { $0.trimmingWhitespace }
        var errors: [FieldError] = []
        var seenColumns: Set<String> = []
        for name in header {
            if !FacilitatorCSV.columns.contains(name) {
                errors.append(FieldError(field: name, message: "is not a column; use \(FacilitatorCSV.columns.joined(separator: ", "))", line: 1))
            } else if !seenColumns.insert(name).inserted {
                errors.append(FieldError(field: name, message: "appears twice in the header", line: 1))
            }
        }
        for name in FacilitatorCSV.requiredColumns.sorted() where !seenColumns.contains(name) {
            errors.append(FieldError(field: name, message: "column is missing", line: 1))
        }
        if !errors.isEmpty { return ([], errors, []) }
        let index = Dictionary(header.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })

        var rows: [Row] = []
        var flags: [ImportFlag] = []
        var line = 2 + (reader.headerRow ?? []).reduce(0) { $0 + $1.count { $0 == "\n" } }
        var registrations: [String: Int] = [:]
        var vats: [String: Int] = [:]
        var names: [String: Int] = [:]
        var ids: [UUID: Int] = [:]
        let decoder = JSONDecoder()
        while let fields = reader.next() {
            let thisLine = line
            line += 1 + fields.reduce(0) { $0 + $1.utf8.count { $0 == 10 } }
            if fields.count == 1 && fields[0].isEmpty { continue }
            func value(_ column: String) -> String? {
                guard let i = index[column] else { return nil }
                return i < fields.count ? fields[i] : ""
            }
            func fail(_ column: String, _ message: String) {
                errors.append(FieldError(field: column, message: message, line: thisLine))
            }
            if fields.count != header.count {
                fail("row", "has \(fields.count) fields, the header has \(header.count)")
                continue
            }
            var patch = FacilitatorPatch()
            patch.legalName = value("legal_name")
            patch.sector = value("sector")
            patch.country = value("country")
            if let raw = value("aliases") { patch.aliases = Self.split(raw) }
            if let raw = value("stages") {
                var stages: [Stage] = []
                for s in Self.split(raw) {
                    if let stage = Stage(rawValue: s) { stages.append(stage) } else {
                        fail("stages", "'\(s)' is not a stage; use \(Stage.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                }
                patch.stages = stages
            }
            if let raw = value("markets") {
                var markets: [Market] = []
                for s in Self.split(raw) {
                    if let market = Market(rawValue: s) { markets.append(market) } else {
                        fail("markets", "'\(s)' is not a market; use \(Market.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                }
                patch.markets = markets
            }
            patch.registrationNumber = value("registration_number").map { $0 }
            patch.vatNumber = value("vat_number").map { $0 }
            patch.street = value("street").map { $0 }
            patch.postalCode = value("postal_code").map { $0 }
            patch.city = value("city").map { $0 }
            patch.website = value("website").map { $0 }
            patch.email = value("email").map { $0 }
            patch.phone = value("phone").map { $0 }
            patch.notes = value("notes")
            if let raw = value("status"), !raw.trimmingWhitespace.isEmpty {
                if let status = FacilitatorStatus(rawValue: raw.trimmingWhitespace) { patch.status = status } else {
                    fail("status", "'\(raw)' is not a status; use \(FacilitatorStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
            }
            if let raw = value("contacts"), !raw.trimmingWhitespace.isEmpty {
                if let contacts = try? decoder.decode([ContactPoint].self, from: Data(raw.utf8)) {
                    patch.contacts = contacts
                } else {
                    fail("contacts", "must be a JSON array of {\"name\", \"role\", \"email\", \"phone\"}")
                }
            }
            var id = UUID()
            if let raw = value("id")?.trimmingWhitespace, !raw.isEmpty {
                if let parsed = UUID(uuidString: raw) {
                    id = parsed
                    if let earlier = ids[parsed] { fail("id", "\(raw) is already used on line \(earlier)") }
                    ids[parsed] = thisLine
                } else {
                    fail("id", "'\(raw)' is not a UUID")
                }
            }
            let draft = patch.applied(to: FacilitatorPatch.blank).normalised()
            let alreadyNamed = Set(errors.filter { $0.line == thisLine }.map(\.field))
            for problem in draft.problems(knownSectors: knownSectors) {
                let column = problem.field.split(separator: "[").first.map(String.init) ?? problem.field
                if !alreadyNamed.contains(column) { fail(column, problem.message) }
            }
            if let reg = draft.registrationNumber {
                let key = draft.country + " " + reg
                if let earlier = registrations[key] {
                    fail("registration_number", "\(reg) (\(draft.country)) is already on line \(earlier)")
                } else {
                    registrations[key] = thisLine
                }
            }
            if let vat = draft.vatNumber {
                if let earlier = vats[vat] {
                    flags.append(ImportFlag(line: thisLine, field: "vat_number", message: "same VAT number as line \(earlier)"))
                } else {
                    vats[vat] = thisLine
                }
            }
            let nameKey = draft.legalName.lowercased() + "|" + draft.country
            if let earlier = names[nameKey] {
                flags.append(ImportFlag(line: thisLine, field: "legal_name", message: "same name and country as line \(earlier)"))
            } else {
                names[nameKey] = thisLine
            }
            rows.append(Row(line: thisLine, id: id, draft: draft))
            if rows.count % 50_000 == 0 { progress?("checked", rows.count) }
        }
        if reader.error != nil {
            errors.append(FieldError(field: "file", message: "is not valid UTF-8 CSV (unreadable after line \(line))", line: line))
        }
        progress?("checked", rows.count)
        return (rows, errors, flags)
    }

    static func split(_ raw: String) -> [String] {
        raw.split(separator: "|").map { $0.trimmingWhitespace }.filter { !$0.isEmpty }
    }

    // MARK: Checks against the registry

    private func isEmpty(_ conn: PostgresConnection) async throws -> Bool {
        let rows = try await conn.query("SELECT NOT EXISTS (SELECT 1 FROM facilitators)", logger: db.logger)
        for try await empty in rows.decode(Bool.self) { return empty }
        return true
    }

    /// Rows whose registration number (same country) or id is already registered.
    private func clashes(_ rows: [Row], on conn: PostgresConnection) async throws -> [FieldError] {
        let withReg = rows.filter { $0.draft.registrationNumber != nil }
        var errors: [FieldError] = []
        let regRows = try await conn.query(
            """
            SELECT s.line, f.id, f.legal_name FROM unnest(\(withReg.map(\.line))::int[], \(withReg.map(\.draft.country))::text[],
                \(withReg.map { $0.draft.registrationNumber! })::text[]) AS s(line, country, reg)
            JOIN facilitators f ON f.country = s.country AND f.registration_number = s.reg
            """, logger: db.logger)
        for try await (line, id, name) in regRows.decode((Int, UUID, String).self) {
            errors.append(FieldError(field: "registration_number",
                                     message: "is already registered for \(name) (\(id.uuidString.lowercased()))", line: line))
        }
        let idRows = try await conn.query(
            """
            SELECT s.line FROM unnest(\(rows.map(\.line))::int[], \(rows.map(\.id))::uuid[]) AS s(line, id)
            JOIN facilitators f ON f.id = s.id
            """, logger: db.logger)
        for try await line in idRows.decode(Int.self) {
            errors.append(FieldError(field: "id", message: "is already used by a registered supplier", line: line))
        }
        return errors
    }

    /// Rows whose name or VAT number matches a registered supplier.
    private func similar(_ rows: [Row], on conn: PostgresConnection) async throws -> [ImportFlag] {
        var flags: [ImportFlag] = []
        let result = try await conn.query(
            """
            SELECT s.line, m.id, m.legal_name, m.score::float8
            FROM unnest(\(rows.map(\.line))::int[], \(rows.map { $0.draft.legalName.lowercased() })::text[]) AS s(line, name)
            CROSS JOIN LATERAL (
                SELECT f.id, f.legal_name, similarity(s.name, lower(f.legal_name)) AS score FROM facilitators f
                WHERE s.name <% f.search_names AND f.merged_into IS NULL
                ORDER BY 3 DESC LIMIT 3) m
            WHERE m.score >= \(DuplicatePolicy.nameSimilarity)
            """, logger: db.logger)
        for try await (line, id, name, score) in result.decode((Int, UUID, String, Double).self) {
            flags.append(ImportFlag(line: line, field: "legal_name", message: "looks like registered supplier \(name)",
                                    existingID: id.uuidString.lowercased(), score: (score * 1000).rounded() / 1000))
        }
        let withVAT = rows.filter { $0.draft.vatNumber != nil }
        let vatRows = try await conn.query(
            """
            SELECT s.line, f.id, f.legal_name FROM unnest(\(withVAT.map(\.line))::int[], \(withVAT.map { $0.draft.vatNumber! })::text[]) AS s(line, vat)
            JOIN facilitators f ON f.vat_number = s.vat
            """, logger: db.logger)
        for try await (line, id, name) in vatRows.decode((Int, UUID, String).self) {
            flags.append(ImportFlag(line: line, field: "vat_number", message: "same VAT number as registered supplier \(name)",
                                    existingID: id.uuidString.lowercased(), score: 1))
        }
        return flags
    }

    // MARK: COPY

    private func copy(_ rows: [Row], actor: Actor, on conn: PostgresConnection, progress: (@Sendable (String, Int) -> Void)?) async throws {
        let actorID = actor.userID.map { $0.lowercased() }
        try await conn.copyFrom(
            table: "facilitators",
            columns: ["id", "legal_name", "aliases", "sector", "stages", "markets", "country", "registration_number", "vat_number",
                      "street", "postal_code", "city", "website", "email", "phone", "status", "notes", "created_by", "updated_by"],
            logger: db.logger
        ) { writer in
            var buffer = ByteBuffer()
            buffer.reserveCapacity(1 << 20)
            for (n, row) in rows.enumerated() {
                let d = row.draft
                let fields: [String?] = [
                    row.id.uuidString.lowercased(), d.legalName, CopyText.array(d.aliases), d.sector,
                    CopyText.array(d.stages.map(\.rawValue)), CopyText.array(d.markets.map(\.rawValue)), d.country,
                    d.registrationNumber, d.vatNumber, d.street, d.postalCode, d.city, d.website, d.email, d.phone,
                    d.status.rawValue, d.notes, actorID, actorID,
                ]
                CopyText.writeRow(fields, into: &buffer)
                if buffer.readableBytes > 1 << 20 {
                    try await writer.write(buffer)
                    buffer.clear()
                }
                if (n + 1) % 100_000 == 0 { progress?("written", n + 1) }
            }
            if buffer.readableBytes > 0 { try await writer.write(buffer) }
        }
        let withContacts = rows.filter { !$0.draft.contacts.isEmpty }
        guard !withContacts.isEmpty else { return }
        try await conn.copyFrom(table: "contact_points", columns: ["facilitator_id", "position", "name", "role", "email", "phone"],
                                logger: db.logger) { writer in
            var buffer = ByteBuffer()
            for row in withContacts {
                for (position, c) in row.draft.contacts.enumerated() {
                    CopyText.writeRow([row.id.uuidString.lowercased(), String(position), c.name, c.role, c.email, c.phone], into: &buffer)
                }
                if buffer.readableBytes > 1 << 20 {
                    try await writer.write(buffer)
                    buffer.clear()
                }
            }
            if buffer.readableBytes > 0 { try await writer.write(buffer) }
        }
    }

    // MARK: Export

    /// Writes the whole registry as CSV, in chunks, ordered by name so two exports
    /// of the same registry are byte for byte equal.
    public func exportCSV(_ write: (Data) async throws -> Void) async throws -> Int {
        try await write(try Self.csvLines([FacilitatorCSV.columns]))
        let rows = try await db.client.query(
            """
            SELECT f.id::text, f.legal_name, array_to_string(f.aliases, '|'), f.sector, array_to_string(f.stages, '|'),
                   array_to_string(f.markets, '|'), f.country::text, coalesce(f.registration_number, ''), coalesce(f.vat_number, ''),
                   coalesce(f.street, ''), coalesce(f.postal_code, ''), coalesce(f.city, ''), coalesce(f.website, ''),
                   coalesce(f.email, ''), coalesce(f.phone, ''), f.status, f.notes,
                   coalesce((SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object('name', c.name, 'role', c.role,
                             'email', c.email, 'phone', c.phone)) ORDER BY c.position)
                             FROM contact_points c WHERE c.facilitator_id = f.id)::text, '')
            FROM facilitators f ORDER BY lower(f.legal_name), f.id
            """, logger: db.logger)
        var batch: [[String]] = []
        var count = 0
        for try await row in rows {
            let r = try row.decode((String, String, String, String, String, String, String, String, String, String, String, String, String, String, String, String, String, String).self)
            batch.append([r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11, r.12, r.13, r.14, r.15, r.16, r.17])
            count += 1
            if batch.count == 2000 {
                try await write(try Self.csvLines(batch))
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try await write(try Self.csvLines(batch)) }
        return count
    }

    static func csvLines(_ rows: [[String]]) throws -> Data {
        let stream = OutputStream(toMemory: ())
        stream.open()
        let writer = try CSVWriter(stream: stream)
        for row in rows { try writer.write(row: row) }
        writer.stream.close()
        var data = (stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data) ?? Data()
        data.append(10)
        return data
    }
}

/// PostgreSQL's COPY text format: tab-separated, `\N` for NULL, backslash escapes.
enum CopyText {
    static func writeRow(_ fields: [String?], into buffer: inout ByteBuffer) {
        for (i, field) in fields.enumerated() {
            if i > 0 { buffer.writeInteger(UInt8(9)) }
            guard let field else {
                buffer.writeStaticString("\\N")
                continue
            }
            for byte in field.utf8 {
                switch byte {
                case 92: buffer.writeStaticString("\\\\")
                case 9: buffer.writeStaticString("\\t")
                case 10: buffer.writeStaticString("\\n")
                case 13: buffer.writeStaticString("\\r")
                default: buffer.writeInteger(byte)
                }
            }
        }
        buffer.writeInteger(UInt8(10))
    }

    /// A text[] literal with every element quoted.
    static func array(_ values: [String]) -> String {
        "{" + values.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "}"
    }
}
