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
        "street", "postal_code", "city", "website", "email", "phone", "status", "notes", "contacts", "natural_person",
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
    public var fileSHA256: String
    /// The first `FacilitatorTransfer.flagLimit` flagged rows, by line.
    public var flags: [ImportFlag]
    /// Every flagged row, however many `flags` shows.
    public var flaggedTotal: Int
    public var auditSeq: Int64
}

/// A file checked against the registry without writing anything: what the
/// browser shows before the user confirms an import.
public struct ImportCheck: Sendable {
    public struct Row: Sendable {
        public var line: Int
        public var draft: FacilitatorDraft
    }
    /// The rows that would be written (none when `errors` is not empty).
    public var rows: Int
    /// The first of them, for the preview.
    public var firstRows: [Row]
    /// Every bad line with its number, column and reason; the header is line 1.
    public var errors: [FieldError]
    /// The first `FacilitatorTransfer.flagLimit` flagged rows, by line.
    public var flags: [ImportFlag]
    public var flaggedTotal: Int
    public var fileSHA256: String
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

    /// How many flagged rows a result lists (the first, by line); `flaggedTotal` counts them all.
    public static let flagLimit = 1_000

    /// Validates every row and writes all of them with COPY in one transaction,
    /// or nothing: any invalid row or registration-number clash throws
    /// `StoreError.invalid` listing each one with its line and column.
    ///
    /// Into an empty registry the rows stream into COPY while the file is still
    /// being checked, so parsing and PostgreSQL's index work overlap; the first
    /// bad row stops the sending, the rest of the file is still checked so every
    /// error is reported, and the transaction rolls back. Into a registry that
    /// has rows, the whole file is checked against it first, with set queries.
    /// (No staging table of whole rows: it would write every row twice.)
    ///
    /// Memory does not grow with the file: what the checks across rows need
    /// (registration number, VAT number, name, id: about 100 bytes a row) and the
    /// contact points wait in temporary files, and the duplicates within the file
    /// are found by PostgreSQL in a temporary table at the end.
    ///
    /// `pending` names a file staged for the browser (`stage`): it is deleted in
    /// the same transaction, so a second confirmation finds nothing to import.
    public func importCSV(_ data: Data, actor: Actor, pending: UUID? = nil,
                          progress: (@Sendable (String, Int) -> Void)? = nil) async throws -> ImportResult {
        try await Self.withTemporaryFile(data) { path in
            try await importCSV(file: path, actor: actor, pending: pending, progress: progress)
        }
    }

    /// `importCSV` of a file on disk, read in chunks: memory holds a few chunks, not the file.
    public func importCSV(file path: String, actor: Actor, pending: UUID? = nil,
                          progress: (@Sendable (String, Int) -> Void)? = nil) async throws -> ImportResult {
        do {
            return try await importChecked(file: path, actor: actor, pending: pending, progress: progress)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            // A registration number or id twice in the file met the unique index
            // while the rows streamed into an empty registry: every bad line is
            // named as a check of the file names them.
            let checked = try await check(file: path, firstRows: 0)
            if !checked.errors.isEmpty { throw StoreError.invalid(checked.errors) }
            throw error
        }
    }

    private func importChecked(file path: String, actor: Actor, pending: UUID?,
                               progress: (@Sendable (String, Int) -> Void)?) async throws -> ImportResult {
        let sectors = try await FacilitatorStore(db).sectors()
        let idBase = UUID()
        let parser = try RowParser(file: path, knownSectors: sectors, idBase: idBase, progress: progress)
        let actorID = actor.userID.map { $0.lowercased() }
        return try await db.transaction { conn in
            if let pending {
                let gone = try await conn.query("DELETE FROM pending_imports WHERE id = \(pending) RETURNING id", logger: db.logger)
                var found = false
                for try await _ in gone.decode(UUID.self) { found = true }
                if !found { throw StoreError.notFound(entity: "uploaded file", id: pending.uuidString.lowercased()) }
            }
            try await conn.query("SELECT pg_advisory_xact_lock(hashtext('barrier.facilitator_registration'))", logger: db.logger)
            // Sorting and index work for the tally triggers' transition tables and
            // the in-file checks stays in memory.
            try await conn.query("SET LOCAL work_mem = '256MB'", logger: db.logger)
            // The contact points wait in a file as COPY text until their suppliers are in.
            let contacts = try SpillFile()
            var created = 0
            func keep(_ row: Row) throws {
                created += 1
                for (position, c) in row.draft.contacts.enumerated() {
                    try contacts.write([row.id.uuidString.lowercased(), String(position), c.name, c.role, c.email, c.phone])
                }
            }
            let checked: Checked
            if try await isEmpty(conn) {
                try await copyRows(on: conn, actorID: actorID) { emit in
                    while let row = await parser.next() {
                        guard parser.errors.isEmpty else { continue }  // keep checking, stop sending
                        try await emit(row)
                        try keep(row)
                    }
                }
                checked = try await finish(parser, count: parser.count, on: conn, clashes: [], similar: FlagList())
            } else {
                // Two readings of the file: the first checks every row against the
                // registry in batches, the second writes them; no row is held between.
                checked = try await checkAll(parser, on: conn, keepFirst: 0)
                if checked.errors.isEmpty {
                    let writer = try RowParser(file: path, knownSectors: sectors, idBase: idBase, spillKeys: false, progress: progress)
                    try await copyRows(on: conn, actorID: actorID) { emit in
                        while let row = await writer.next() {
                            try await emit(row)
                            try keep(row)
                        }
                    }
                }
            }
            if !checked.errors.isEmpty { throw StoreError.invalid(checked.errors) }
            progress?("written", created)
            try await copyContacts(contacts, on: conn)
            let sha = parser.fileSHA256
            let after = """
                {"file_sha256": "\(sha)", "rows": \(created), "flagged": \(checked.flags.total), "created": "import_rows"}
                """
            let seq = try await AuditLog.append(on: conn, actor: actor, action: "facilitator.import", entityType: "import",
                                                entityID: sha, before: nil, after: after, logger: db.logger)
            try await conn.query("INSERT INTO import_rows (audit_seq, facilitator_id) SELECT \(seq), id FROM import_keys", logger: db.logger)
            return ImportResult(created: created, fileSHA256: sha, flags: checked.flags.first,
                                flaggedTotal: checked.flags.total, auditSeq: seq)
        }
    }

    /// Checks a file as `importCSV` would, against the registry as it is now, and
    /// writes nothing: every bad line (the format, then clashes with registered
    /// suppliers), the rows that look like registered ones, and the first rows.
    public func check(_ data: Data, firstRows: Int = 10) async throws -> ImportCheck {
        try await Self.withTemporaryFile(data) { path in try await check(file: path, firstRows: firstRows) }
    }

    public func check(file path: String, firstRows: Int = 10) async throws -> ImportCheck {
        let parser: RowParser
        do {
            parser = try RowParser(file: path, knownSectors: try await FacilitatorStore(db).sectors(), progress: nil)
        } catch StoreError.invalid(let errors) {
            return ImportCheck(rows: 0, firstRows: [], errors: errors, flags: [], flaggedTotal: 0, fileSHA256: try Self.sha256(file: path))
        }
        return try await db.transaction { conn in
            let checked = try await checkAll(parser, on: conn, keepFirst: firstRows)
            let ok = checked.errors.isEmpty
            return ImportCheck(rows: ok ? checked.count : 0,
                               firstRows: checked.first.map { ImportCheck.Row(line: $0.line, draft: $0.draft) },
                               errors: checked.errors, flags: ok ? checked.flags.first : [], flaggedTotal: ok ? checked.flags.total : 0,
                               fileSHA256: parser.fileSHA256)
        }
    }

    /// Keeps an uploaded file (of the caller's agency) until the user confirms
    /// its import or an hour passes; older unconfirmed files are dropped here.
    public func stage(_ data: Data, fileName: String, actor: Actor) async throws -> UUID {
        let name = String(fileName.trimmingWhitespace.prefix(255))
        let user = actor.userID.flatMap(UUID.init(uuidString:))
        return try await db.transaction { conn in
            try await conn.query("DELETE FROM pending_imports WHERE created_at < now() - interval '1 hour'", logger: db.logger)
            let rows = try await conn.query(
                """
                INSERT INTO pending_imports (user_id, file_name, file_sha256, content)
                VALUES (\(user), \(name.isEmpty ? "upload.csv" : name), \(Self.sha256(data)), \(data)) RETURNING id
                """, logger: db.logger)
            for try await id in rows.decode(UUID.self) { return id }
            throw StoreError.conflict("the file could not be kept")
        }
    }

    /// A staged file of the caller's agency, younger than an hour.
    public func staged(_ id: UUID) async throws -> (fileName: String, data: Data) {
        let rows = try await db.query(
            "SELECT file_name, content FROM pending_imports WHERE id = \(id) AND created_at > now() - interval '1 hour'")
        for try await (name, data) in rows.decode((String, Data).self) { return (name, data) }
        throw StoreError.notFound(entity: "uploaded file", id: id.uuidString.lowercased())
    }

    /// Imports a staged file and deletes it, in one transaction.
    public func importStaged(_ id: UUID, actor: Actor) async throws -> ImportResult {
        try await importCSV(try await staged(id).data, actor: actor, pending: id)
    }

    static let noRows = FieldError(field: "file", message: "has a header but no rows", line: 1)

    static func sha256(_ data: Data) -> String {
        Data(SHA256.hash(data: data)).hex
    }

    static func sha256(file path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return Data(hasher.finalize()).hex
    }

    /// Runs `body` with `data` in a private temporary file, removed afterwards.
    public static func withTemporaryFile<T>(_ data: Data, _ body: (String) async throws -> T) async throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("barrier-import-\(UUID().uuidString).csv").path
        guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw StoreError.conflict("the uploaded file could not be kept for reading")
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await body(path)
    }

    /// The flagged rows a result lists, the first `flagLimit` by line, and how many there are.
    struct FlagList {
        private(set) var first: [ImportFlag]
        private(set) var total: Int

        init(first: [ImportFlag] = [], total: Int = 0) {
            self.first = first
            self.total = total
        }

        /// Adds flags that come in line order (a batch after the one before).
        mutating func append(_ flags: [ImportFlag]) {
            total += flags.count
            let room = FacilitatorTransfer.flagLimit - first.count
            if room > 0 { first += flags.sorted { $0.line < $1.line }.prefix(room) }
        }

        /// Both lists' first `flagLimit` by line (one line's flags in the order they came), and both totals.
        func merged(with other: FlagList) -> FlagList {
            var merged = FlagList()
            merged.first = (first.map { ($0, 0) } + other.first.map { ($0, 1) })
                .enumerated().sorted { ($0.element.0.line, $0.element.1, $0.offset) < ($1.element.0.line, $1.element.1, $1.offset) }
                .prefix(FacilitatorTransfer.flagLimit).map(\.element.0)
            merged.total = total + other.total
            return merged
        }
    }

    struct Checked {
        var count: Int
        var errors: [FieldError]
        var flags: FlagList
        var first: [Row]
    }

    /// Every row of the file, read once: the format of each, and the clashes with
    /// the registry and the look-alikes, asked in batches; then the duplicates
    /// within the file (`finish`). Only the first `keepFirst` rows are kept.
    private func checkAll(_ parser: RowParser, on conn: PostgresConnection, keepFirst: Int) async throws -> Checked {
        var batch: [Row] = [], first: [Row] = [], count = 0
        var clashErrors: [FieldError] = [], similar = FlagList()
        func flush() async throws {
            guard !batch.isEmpty else { return }
            clashErrors += try await clashes(batch, on: conn)
            // Look-alikes only matter for a file that will be imported.
            if clashErrors.isEmpty && parser.errors.isEmpty { similar.append(try await self.similar(batch, on: conn)) }
            batch.removeAll(keepingCapacity: true)
        }
        while let row = await parser.next() {
            count += 1
            if first.count < keepFirst { first.append(row) }
            batch.append(row)
            if batch.count == 5_000 { try await flush() }
        }
        try await flush()
        var checked = try await finish(parser, count: count, on: conn, clashes: clashErrors, similar: similar)
        checked.first = first
        return checked
    }

    /// The columns of `RowParser.keys`, one row per checked row of the file.
    static let keyColumns = ["line", "id", "given_id", "reg_key", "reg_label", "vat", "name_key"]

    /// After the last row: the duplicates within the file, found by PostgreSQL in
    /// the temporary table `import_keys` (which an import then turns into its
    /// `import_rows`), with every error in line order (a line's format errors
    /// before its clashes) and the flags.
    private func finish(_ parser: RowParser, count: Int, on conn: PostgresConnection,
                        clashes: [FieldError], similar: FlagList) async throws -> Checked {
        try await conn.query(
            """
            CREATE TEMP TABLE import_keys (line int NOT NULL, id uuid NOT NULL, given_id text, reg_key text, reg_label text,
                vat text, name_key text NOT NULL) ON COMMIT DROP
            """, logger: db.logger)
        try await parser.keys?.copy(into: "import_keys", columns: Self.keyColumns, on: conn, logger: db.logger)
        var inFile: [FieldError] = []
        let duplicates = try await conn.query(
            """
            SELECT line, 'registration_number', reg_label || ' is already on line ' || first FROM (
                SELECT line, reg_label, min(line) OVER (PARTITION BY reg_key) AS first FROM import_keys WHERE reg_key IS NOT NULL) r
            WHERE line > first
            UNION ALL
            SELECT line, 'id', given_id || ' is already used on line ' || first FROM (
                SELECT line, given_id, min(line) OVER (PARTITION BY id) AS first FROM import_keys WHERE given_id IS NOT NULL) i
            WHERE line > first
            ORDER BY 1, 2 DESC
            """, logger: db.logger)
        for try await (line, field, message) in duplicates.decode((Int, String, String).self) {
            inFile.append(FieldError(field: field, message: message, line: line))
        }
        var errors = parser.errors + inFile
        if count == 0 && errors.isEmpty { errors.append(Self.noRows) }
        errors += clashes
        let sorted = errors.enumerated().sorted { ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset) }.map(\.element)
        var flags = FlagList()
        if sorted.isEmpty {
            let found = try await conn.query(
                """
                WITH f AS (
                    SELECT line, 'vat_number' AS field, 'same VAT number as line ' || first AS message FROM (
                        SELECT line, min(line) OVER (PARTITION BY vat) AS first FROM import_keys WHERE vat IS NOT NULL) v
                    WHERE line > first
                    UNION ALL
                    SELECT line, 'legal_name', 'same name and country as line ' || first FROM (
                        SELECT line, min(line) OVER (PARTITION BY name_key) AS first FROM import_keys) n
                    WHERE line > first)
                SELECT line, field, message, count(*) OVER ()::int FROM f ORDER BY line, field DESC LIMIT \(Self.flagLimit)
                """, logger: db.logger)
            var first: [ImportFlag] = [], total = 0
            for try await (line, field, message, all) in found.decode((Int, String, String, Int).self) {
                first.append(ImportFlag(line: line, field: field, message: message))
                total = all
            }
            flags = FlagList(first: first, total: total).merged(with: similar)
        }
        return Checked(count: count, errors: sorted, flags: flags, first: [])
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
            JOIN facilitators f ON f.country = s.country AND f.registration_number IS NOT NULL
                AND registration_key(f.registration_number) = registration_key(s.reg)
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

    /// COPYs the rows that `produce` emits into facilitators, in 1 MB messages.
    private func copyRows(
        on conn: PostgresConnection, actorID: String?,
        _ produce: (_ emit: (Row) async throws -> Void) async throws -> Void
    ) async throws {
        let columns = [
            "id", "legal_name", "aliases", "sector", "stages", "markets", "country", "registration_number", "vat_number",
            "street", "postal_code", "city", "website", "email", "phone", "status", "notes", "created_by", "updated_by", "natural_person",
        ]
        try await conn.copyFrom(table: "facilitators", columns: columns, logger: db.logger) { writer in
            var buffer = ByteBuffer()
            buffer.reserveCapacity(1 << 20)
            try await produce { row in
                let d = row.draft
                CopyText.writeRow([
                    row.id.uuidString.lowercased(), d.legalName, CopyText.array(d.aliases), d.sector,
                    CopyText.array(d.stages.map(\.rawValue)), CopyText.array(d.markets.map(\.rawValue)), d.country,
                    d.registrationNumber, d.vatNumber, d.street, d.postalCode, d.city, d.website, d.email, d.phone,
                    d.status.rawValue, d.notes, actorID, actorID, d.naturalPerson ? "t" : "f",
                ], into: &buffer)
                if buffer.readableBytes > 1 << 20 {
                    try await writer.write(buffer)
                    buffer.clear()
                }
            }
            if buffer.readableBytes > 0 { try await writer.write(buffer) }
        }
    }

    /// COPYs the contact points written as COPY text to a file while the rows streamed.
    ///
    /// A large load goes in with the table's foreign keys dropped and added
    /// back after, in the same transaction (PostgreSQL's advice for bulk
    /// loads): adding a key checks every row with one join, where COPY checks
    /// and locks the supplier row by row (900k contact points: 3.9 s against
    /// 8.5 s). The table is locked from the drop to the commit, a few seconds,
    /// and nothing commits unchecked. Done only where this role owns the table.
    private func copyContacts(_ contacts: SpillFile, on conn: PostgresConnection) async throws {
        guard contacts.rows > 0 else { return }
        var keys: [(drop: String, add: String)] = []
        if contacts.rows >= 10_000 {
            let found = try await conn.query(
                """
                SELECT format('ALTER TABLE contact_points DROP CONSTRAINT %I', c.conname),
                       format('ALTER TABLE contact_points ADD CONSTRAINT %I %s', c.conname, pg_get_constraintdef(c.oid))
                FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
                WHERE c.conrelid = 'contact_points'::regclass AND c.contype = 'f' AND pg_has_role(current_user, t.relowner, 'USAGE')
                """, logger: db.logger)
            for try await key in found.decode((String, String).self) { keys.append(key) }
        }
        for key in keys { try await conn.query(PostgresQuery(unsafeSQL: key.drop), logger: db.logger) }
        try await contacts.copy(into: "contact_points", columns: ["facilitator_id", "position", "name", "role", "email", "phone"],
                                on: conn, logger: db.logger)
        for key in keys { try await conn.query(PostgresQuery(unsafeSQL: key.add), logger: db.logger) }
    }

    // MARK: Export

    /// Writes the whole registry as CSV, in chunks, ordered by name so two exports
    /// of the same registry are byte for byte equal.
    public func exportCSV(_ write: (Data) async throws -> Void) async throws -> Int {
        try await write(try Self.csvLines([FacilitatorCSV.columns]))
        // Streamed on one connection: a national registry is not held in memory.
        return try await db.withConnection { conn in
        let rows = try await conn.query(
            """
            SELECT f.id::text, f.legal_name, array_to_string(f.aliases, '|'), f.sector, array_to_string(f.stages, '|'),
                   array_to_string(f.markets, '|'), f.country::text, coalesce(f.registration_number, ''), coalesce(f.vat_number, ''),
                   coalesce(f.street, ''), coalesce(f.postal_code, ''), coalesce(f.city, ''), coalesce(f.website, ''),
                   coalesce(f.email, ''), coalesce(f.phone, ''), f.status, f.notes,
                   coalesce((SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object('name', c.name, 'role', c.role,
                             'email', c.email, 'phone', c.phone)) ORDER BY c.position)
                             FROM contact_points c WHERE c.facilitator_id = f.id)::text, ''), f.natural_person::text
            FROM facilitators f ORDER BY lower(f.legal_name), f.id
            """, logger: db.logger)
        var batch: [[String]] = []
        var count = 0
        for try await row in rows {
            let r = try row.decode((String, String, String, String, String, String, String, String, String, String, String, String, String, String, String, String, String, String, String).self)
            batch.append([r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11, r.12, r.13, r.14, r.15, r.16, r.17, r.18])
            count += 1
            if batch.count == 2000 {
                try await write(try Self.csvLines(batch))
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try await write(try Self.csvLines(batch)) }
        return count
        }
    }

    static func csvLines(_ rows: [[String]]) throws -> Data {
        let stream = OutputStream(toMemory: ())
        stream.open()
        let writer = try CSVWriter(stream: stream)
        for row in rows { try writer.write(row: row.map(CSVCell.neutralised)) }
        writer.stream.close()
        var data = (stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data) ?? Data()
        data.append(10)
        return data
    }
}

/// Every CSV this product writes (the registry, campaign manifests, report
/// tables, the public register) is opened in spreadsheets, which run a cell
/// starting with `=`, `+`, `-` or `@` (or tab or CR) as a formula. As OWASP
/// advises, such a cell is written with a leading `'`; a plain number (`-12`,
/// `+3.5`) is left alone. A cell that starts with `'` gets one more, so the
/// registry's import can take exactly one away and an export imports unchanged.
public enum CSVCell {
    static let triggers: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]

    public static func neutralised(_ cell: String) -> String {
        guard let first = cell.unicodeScalars.first, triggers.contains(first) || first == "'" else { return cell }
        if first == "+" || first == "-", isPlainNumber(cell) { return cell }
        return "'" + cell
    }

    /// The cell as it was before `neutralised`.
    public static func restored(_ cell: String) -> String {
        guard cell.hasPrefix("'"), let second = cell.unicodeScalars.dropFirst().first, triggers.contains(second) || second == "'" else {
            return cell
        }
        return String(cell.dropFirst())
    }

    /// A sign, then digits with at most one inner dot.
    static func isPlainNumber(_ cell: String) -> Bool {
        var digits = cell.utf8.dropFirst()  // the sign
        guard !digits.isEmpty else { return false }
        var seenDot = false
        while let b = digits.first {
            digits = digits.dropFirst()
            if b == UInt8(ascii: "."), !seenDot, !digits.isEmpty { seenDot = true } else if !(48...57).contains(b) { return false }
        }
        return true
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
            if !field.utf8.contains(where: { $0 == 92 || $0 == 9 || $0 == 10 || $0 == 13 }) {
                buffer.writeString(field)
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
        var out = "{"
        for (i, value) in values.enumerated() {
            if i > 0 { out += "," }
            out += "\""
            if value.utf8.contains(where: { $0 == 0x22 || $0 == 0x5C }) {
                for c in value.unicodeScalars {
                    if c == "\"" || c == "\\" { out.unicodeScalars.append("\\") }
                    out.unicodeScalars.append(c)
                }
            } else {
                out += value
            }
            out += "\""
        }
        return out + "}"
    }
}
