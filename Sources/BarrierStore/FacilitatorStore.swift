import BarrierCore
import Foundation
import PostgresNIO

/// The supplier registry. Reads return the API's JSON document as built by the
/// `facilitator_documents` SQL view; every write runs in one transaction
/// with its audit event.
public struct FacilitatorStore: Sendable {
    let db: Database

    public init(_ db: Database) { self.db = db }

    /// One supplier as stored: its JSON document and its version (the ETag).
    public struct Record: Sendable {
        public var id: UUID
        public var json: String
        public var version: Int
    }

    // MARK: Reading

    struct ByID: PostgresPreparedStatement {
        static let sql = "SELECT document::text, version FROM facilitator_documents WHERE id = $1"
        typealias Row = (String, Int)
        var id: UUID
        func makeBindings() -> PostgresBindings {
            var b = PostgresBindings()
            b.append(id)
            return b
        }
        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    public func get(_ id: UUID) async throws -> Record {
        for try await (json, version) in try await db.client.execute(ByID(id: id), logger: db.logger) {
            return Record(id: id, json: json, version: version)
        }
        throw StoreError.notFound(entity: "facilitator", id: id.uuidString.lowercased())
    }

    public func sectors() async throws -> Set<String> { try await TaxonomyStore(db).sectorCodes() }

    /// One page of suppliers and the cursor of the next page (nil on the last).
    public func list(_ query: FacilitatorQuery) async throws -> (items: [String], nextCursor: String?) {
        let rows = try await db.query(Self.listStatement(query).query)
        var items: [String] = []
        var last: (UUID, String)?
        for try await (json, id, sortKey) in rows.decode((String, UUID, String).self) {
            if items.count == query.limit {
                let cursor = FacilitatorQuery.Cursor(s: query.sort.rawValue, k: last!.1, id: last!.0)
                return (items, FacilitatorQuery.encodeCursor(cursor))
            }
            items.append(json)
            last = (id, sortKey)
        }
        return (items, nil)
    }

    /// The one statement behind a page of `list`: each row's document, id and
    /// sort key, one row more than the page to tell whether another follows.
    /// (`scripts/bench registry` runs this very statement through pgbench.)
    public static func listStatement(_ query: FacilitatorQuery) -> (query: PostgresQuery, values: [String]) {
        var sql = "SELECT (SELECT d.document FROM facilitator_documents d WHERE d.id = f.id)::text, f.id, "
        var binder = SQLBinds()
        func bind<T: PostgresEncodable>(_ value: T) -> String { binder.add(value) }
        let needle = query.q?.lowercased()
        let key: String
        switch query.sort {
        case .name, .nameDescending: key = "lower(f.legal_name)"
        case .createdAt, .createdAtDescending: key = "(extract(epoch FROM f.created_at) * 1000000)::bigint"
        case .updatedAt, .updatedAtDescending: key = "(extract(epoch FROM f.updated_at) * 1000000)::bigint"
        case .relevance: key = "word_similarity(\(bind(needle ?? "")), f.search_names)"
        }
        sql += "(\(key))::text FROM facilitators f WHERE " + query.conditions(&binder)
        let descending = [.nameDescending, .createdAtDescending, .updatedAtDescending, .relevance].contains(query.sort)
        if let after = query.after {
            let typed: String
            switch query.sort {
            case .name, .nameDescending: typed = bind(after.k)
            case .relevance: typed = "\(bind(Float(after.k) ?? 0))::real"
            default: typed = "\(bind(Int64(after.k) ?? 0))::bigint"
            }
            if query.sort == .relevance {
                sql += " AND ((\(key)) < \(typed) OR ((\(key)) = \(typed) AND f.id > \(bind(after.id))))"
            } else {
                sql += " AND ((\(key)), f.id) \(descending ? "<" : ">") (\(typed), \(bind(after.id)))"
            }
        }
        if query.sort == .relevance {
            sql += " ORDER BY \(key) DESC, f.id ASC"
        } else {
            sql += " ORDER BY \(key) \(descending ? "DESC" : "ASC"), f.id \(descending ? "DESC" : "ASC")"
        }
        sql += " LIMIT \(bind(query.limit + 1))"
        return (PostgresQuery(unsafeSQL: sql, binds: binder.binds), binder.shown)
    }

    // MARK: Duplicates

    /// Existing suppliers that look like `draft`: equal registration or VAT number,
    /// or a legal name or alias at least `DuplicatePolicy.nameSimilarity` alike.
    public func duplicateCandidates(of draft: FacilitatorDraft, excluding: UUID? = nil, on conn: PostgresConnection? = nil) async throws -> [DuplicateCandidate] {
        let names = [draft.legalName.lowercased()] + draft.aliases.map { $0.lowercased() }
        let query: PostgresQuery = """
            WITH names AS (SELECT unnest(\(names)::text[]) AS name),
            by_name AS (
                SELECT f.id, f.legal_name, f.country,
                       similarity(n.name, lower(f.legal_name))::float8 AS legal_score,
                       coalesce((SELECT max(similarity(n.name, lower(a))) FROM unnest(f.aliases) a), 0)::float8 AS alias_score
                FROM names n JOIN facilitators f ON n.name <% f.search_names
                WHERE f.merged_into IS NULL AND f.id IS DISTINCT FROM \(excluding)
            )
            SELECT id, legal_name, country, 1.0::float8, 'registration_number', country = \(draft.country)
            FROM facilitators
            WHERE \(draft.registrationNumber)::text IS NOT NULL AND registration_number IS NOT NULL
              AND registration_key(registration_number) = registration_key(\(draft.registrationNumber))
              AND merged_into IS NULL AND id IS DISTINCT FROM \(excluding)
            UNION ALL
            SELECT id, legal_name, country, 1.0::float8, 'vat_number', false
            FROM facilitators
            WHERE \(draft.vatNumber)::text IS NOT NULL AND vat_number = \(draft.vatNumber)
              AND merged_into IS NULL AND id IS DISTINCT FROM \(excluding)
            UNION ALL
            SELECT id, legal_name, country, max(greatest(legal_score, alias_score)),
                   CASE WHEN max(legal_score) >= max(alias_score) THEN 'legal_name' ELSE 'aliases' END, false
            FROM by_name GROUP BY id, legal_name, country
            HAVING max(greatest(legal_score, alias_score)) >= \(DuplicatePolicy.nameSimilarity)
            """
        let rows: Rows
        if let conn {
            rows = try await Rows(conn.query(query, logger: db.logger))
        } else {
            rows = try await db.query(query)
        }
        var byID: [UUID: DuplicateCandidate] = [:]
        var blocking: Set<UUID> = []
        for try await (id, name, country, score, field, sameCountryRegistration) in rows.decode((UUID, String, String, Double, String, Bool).self) {
            if sameCountryRegistration { blocking.insert(id) }
            let candidate = DuplicateCandidate(id: id.uuidString.lowercased(), legalName: name, country: country,
                                               score: (score * 1000).rounded() / 1000, matchedField: field)
            if let existing = byID[id], existing.score >= candidate.score { continue }
            byID[id] = candidate
        }
        let sorted = byID.values.sorted { ($0.score, $1.legalName) > ($1.score, $0.legalName) }
        return blocking.isEmpty ? sorted : sorted.map { c in
            var c = c
            if blocking.contains(UUID(uuidString: c.id)!) { c.matchedField = "registration_number" }
            return c
        }
    }

    /// Candidates for an existing supplier (`GET /facilitators/{id}/duplicates`).
    public func duplicates(of id: UUID) async throws -> [DuplicateCandidate] {
        let draft = try await db.transaction { conn in try await load(id, on: conn, lock: false).draft }
        return try await duplicateCandidates(of: draft, excluding: id)
    }

    /// Throws `.duplicates` when a candidate blocks the creation or, unless
    /// `allowDuplicates`, when there is any candidate.
    func checkDuplicates(_ draft: FacilitatorDraft, excluding: UUID?, allowDuplicates: Bool, on conn: PostgresConnection) async throws {
        let candidates = try await duplicateCandidates(of: draft, excluding: excluding, on: conn)
        let blocking = candidates.filter { $0.matchedField == "registration_number" && $0.country == draft.country }
        if !blocking.isEmpty {
            throw StoreError.duplicates(candidates, overridable: false)
        }
        if !candidates.isEmpty && !allowDuplicates {
            throw StoreError.duplicates(candidates, overridable: true)
        }
    }

    // MARK: Writing

    /// Registers a supplier. Similar existing suppliers stop it with `.duplicates`
    /// unless `allowDuplicates`; an equal registration number in the same country always does.
    public func create(_ patch: FacilitatorPatch, allowDuplicates: Bool, actor: Actor) async throws -> Record {
        let draft = patch.applied(to: FacilitatorPatch.blank).normalised()
        let problems = patch.problemsForCreate(knownSectors: try await sectors())
        if !problems.isEmpty { throw StoreError.invalid(problems) }
        return try await db.transaction { conn in
            // Serialise registrations so two concurrent creates cannot both miss each other's duplicate.
            try await conn.query("SELECT pg_advisory_xact_lock(hashtext('barrier.facilitator_registration'))", logger: db.logger)
            try await checkDuplicates(draft, excluding: nil, allowDuplicates: allowDuplicates, on: conn)
            let id = UUID()
            try await insert(id: id, draft, actor: actor, on: conn)
            let record = try await document(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "facilitator.create", entityType: "facilitator",
                                      entityID: id.uuidString.lowercased(), before: nil, after: record.json, logger: db.logger)
            return record
        }
    }

    /// Applies `patch` if `expectedVersion` is still the current version.
    public func update(_ id: UUID, _ patch: FacilitatorPatch, expectedVersion: Int, actor: Actor) async throws -> Record {
        let sectors = try await sectors()
        return try await db.transaction { conn in
            let current = try await load(id, on: conn, lock: true)
            // Invalid input is refused (422) before the version is compared.
            let draft = patch.applied(to: current.draft).normalised()
            let problems = draft.problems(knownSectors: sectors)
            if !problems.isEmpty { throw StoreError.invalid(problems) }
            guard current.version == expectedVersion else { throw StoreError.versionConflict(current: current.version) }
            if draft.registrationNumber.map(FacilitatorDraft.registrationKey) != current.draft.registrationNumber.map(FacilitatorDraft.registrationKey)
                || draft.country != current.draft.country {
                try await checkDuplicates(
                    FacilitatorDraft(legalName: "", sector: draft.sector, stages: draft.stages, country: draft.country,
                                     registrationNumber: draft.registrationNumber),
                    excluding: id, allowDuplicates: true, on: conn)
            }
            let before = try await document(id, on: conn)
            try await write(id: id, draft, actor: actor, on: conn)
            let after = try await document(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "facilitator.update", entityType: "facilitator",
                                      entityID: id.uuidString.lowercased(), before: before.json, after: after.json, logger: db.logger)
            return after
        }
    }

    /// Archives a supplier: it leaves the default listings but keeps its history.
    public func archive(_ id: UUID, expectedVersion: Int, actor: Actor) async throws -> Record {
        var patch = FacilitatorPatch()
        patch.status = .archived
        return try await db.transaction { conn in
            let current = try await load(id, on: conn, lock: true)
            guard current.version == expectedVersion else { throw StoreError.versionConflict(current: current.version) }
            guard current.draft.status != .archived else { throw StoreError.conflict("the supplier is already archived") }
            let before = try await document(id, on: conn)
            try await write(id: id, patch.applied(to: current.draft), actor: actor, on: conn)
            let after = try await document(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "facilitator.archive", entityType: "facilitator",
                                      entityID: id.uuidString.lowercased(), before: before.json, after: after.json, logger: db.logger)
            return after
        }
    }

    /// Folds `duplicate` into `survivor`: the survivor gains the duplicate's names
    /// as aliases, its contact points and any identifiers and address fields it
    /// lacked; the duplicate is archived and points to the survivor. Both records'
    /// audit histories stay; the merge itself is one audit event with both before and after.
    public func merge(_ survivor: UUID, duplicate: UUID, expectedVersion: Int, actor: Actor) async throws -> Record {
        guard survivor != duplicate else { throw StoreError.conflict("a supplier cannot be merged into itself") }
        return try await db.transaction { conn in
            // Lock both rows in id order so two opposite merges cannot deadlock.
            let ordered = [survivor, duplicate].sorted { $0.uuidString < $1.uuidString }
            var loaded: [UUID: Loaded] = [:]
            for id in ordered { loaded[id] = try await load(id, on: conn, lock: true) }
            let keep = loaded[survivor]!, gone = loaded[duplicate]!
            guard keep.version == expectedVersion else { throw StoreError.versionConflict(current: keep.version) }
            guard keep.mergedInto == nil else { throw StoreError.conflict("the surviving supplier was itself merged into another") }
            guard gone.mergedInto == nil else { throw StoreError.conflict("the duplicate was already merged") }
            let beforeKeep = try await document(survivor, on: conn)
            let beforeGone = try await document(duplicate, on: conn)

            var merged = keep.draft
            let d = gone.draft
            merged.aliases += [d.legalName] + d.aliases
            let sameCountry = d.country == merged.country
            var goneDraft = d
            goneDraft.status = .archived
            if merged.registrationNumber == nil && sameCountry && d.registrationNumber != nil {
                merged.registrationNumber = d.registrationNumber
                goneDraft.registrationNumber = nil
            } else if merged.registrationNumber == d.registrationNumber && sameCountry {
                goneDraft.registrationNumber = nil
            }
            if merged.vatNumber == nil && sameCountry { merged.vatNumber = d.vatNumber }
            if merged.street == nil && merged.city == nil && sameCountry {
                merged.street = d.street
                merged.postalCode = d.postalCode
                merged.city = d.city
            }
            merged.website = merged.website ?? d.website
            merged.email = merged.email ?? d.email
            merged.phone = merged.phone ?? d.phone
            merged.markets += d.markets
            merged.stages += d.stages
            if !d.notes.isEmpty {
                merged.notes += (merged.notes.isEmpty ? "" : "\n\n") + "Merged from \(d.legalName): \(d.notes)"
            }
            merged.contacts += d.contacts
            goneDraft.contacts = []
            merged = merged.normalised()
            // The duplicate gives up its identifiers first so the unique index sees no clash.
            try await write(id: duplicate, goneDraft, actor: actor, on: conn)
            try await conn.query("UPDATE facilitators SET merged_into = \(survivor) WHERE id = \(duplicate)", logger: db.logger)
            try await write(id: survivor, merged, actor: actor, on: conn)
            let afterKeep = try await document(survivor, on: conn)
            let afterGone = try await document(duplicate, on: conn)
            try await AuditLog.append(
                on: conn, actor: actor, action: "facilitator.merge", entityType: "facilitator",
                entityID: survivor.uuidString.lowercased(),
                before: "{\"survivor\": \(beforeKeep.json), \"duplicate\": \(beforeGone.json)}",
                after: "{\"survivor\": \(afterKeep.json), \"duplicate\": \(afterGone.json)}", logger: db.logger)
            return afterKeep
        }
    }

    // MARK: Rows

    struct Loaded {
        var draft: FacilitatorDraft
        var version: Int
        var mergedInto: UUID?
    }

    func load(_ id: UUID, on conn: PostgresConnection, lock: Bool) async throws -> Loaded {
        let rows = try await conn.query(
            PostgresQuery(unsafeSQL: """
            SELECT legal_name, aliases, sector, stages, markets, country::text, registration_number, vat_number, street,
                   postal_code, city, website, email, phone, status, notes, version, merged_into, natural_person
            FROM facilitators WHERE id = $1 \(lock ? "FOR UPDATE" : "")
            """, binds: { var b = PostgresBindings(); b.append(id); return b }()), logger: db.logger)
        var found: Loaded?
        for try await row in rows {
            let r = try row.decode((String, [String], String, [String], [String], String, String?, String?, String?, String?, String?, String?, String?, String?, String, String, Int, UUID?, Bool).self)
            found = Loaded(
                draft: FacilitatorDraft(
                    legalName: r.0, aliases: r.1, sector: r.2, stages: r.3.compactMap(Stage.init(rawValue:)),
                    markets: r.4.compactMap(Market.init(rawValue:)), country: r.5, registrationNumber: r.6, vatNumber: r.7,
                    street: r.8, postalCode: r.9, city: r.10, website: r.11, email: r.12, phone: r.13,
                    status: FacilitatorStatus(rawValue: r.14) ?? .active, notes: r.15, naturalPerson: r.18),
                version: r.16, mergedInto: r.17)
        }
        guard var loaded = found else { throw StoreError.notFound(entity: "facilitator", id: id.uuidString.lowercased()) }
        let contacts = try await conn.query(
            "SELECT name, role, email, phone FROM contact_points WHERE facilitator_id = \(id) ORDER BY position", logger: db.logger)
        for try await (name, role, email, phone) in contacts.decode((String, String?, String?, String?).self) {
            loaded.draft.contacts.append(ContactPoint(name: name, role: role, email: email, phone: phone))
        }
        return loaded
    }

    func document(_ id: UUID, on conn: PostgresConnection) async throws -> Record {
        let rows = try await conn.query(
            "SELECT document::text, version FROM facilitator_documents WHERE id = \(id)", logger: db.logger)
        for try await (json, version) in rows.decode((String, Int).self) { return Record(id: id, json: json, version: version) }
        throw StoreError.notFound(entity: "facilitator", id: id.uuidString.lowercased())
    }

    private func insert(id: UUID, _ d: FacilitatorDraft, actor: Actor, on conn: PostgresConnection) async throws {
        let userID = actor.userID.flatMap(UUID.init(uuidString:))
        try await conn.query(
            """
            INSERT INTO facilitators (id, legal_name, aliases, sector, stages, markets, country, registration_number,
                vat_number, street, postal_code, city, website, email, phone, status, notes, natural_person, created_by, updated_by)
            VALUES (\(id), \(d.legalName), \(d.aliases), \(d.sector), \(d.stages.map(\.rawValue)), \(d.markets.map(\.rawValue)),
                \(d.country), \(d.registrationNumber), \(d.vatNumber), \(d.street), \(d.postalCode), \(d.city), \(d.website),
                \(d.email), \(d.phone), \(d.status.rawValue), \(d.notes), \(d.naturalPerson), \(userID), \(userID))
            """, logger: db.logger)
        try await replaceContacts(id, d.contacts, on: conn)
    }

    private func write(id: UUID, _ d: FacilitatorDraft, actor: Actor, on conn: PostgresConnection) async throws {
        let userID = actor.userID.flatMap(UUID.init(uuidString:))
        try await conn.query(
            """
            UPDATE facilitators SET legal_name = \(d.legalName), aliases = \(d.aliases), sector = \(d.sector),
                stages = \(d.stages.map(\.rawValue)), markets = \(d.markets.map(\.rawValue)), country = \(d.country),
                registration_number = \(d.registrationNumber), vat_number = \(d.vatNumber), street = \(d.street),
                postal_code = \(d.postalCode), city = \(d.city), website = \(d.website), email = \(d.email),
                phone = \(d.phone), status = \(d.status.rawValue), notes = \(d.notes), natural_person = \(d.naturalPerson),
                updated_at = now(), updated_by = \(userID), version = version + 1
            WHERE id = \(id)
            """, logger: db.logger)
        try await replaceContacts(id, d.contacts, on: conn)
    }

    private func replaceContacts(_ id: UUID, _ contacts: [ContactPoint], on conn: PostgresConnection) async throws {
        try await conn.query("DELETE FROM contact_points WHERE facilitator_id = \(id)", logger: db.logger)
        guard !contacts.isEmpty else { return }
        try await conn.query(
            """
            INSERT INTO contact_points (facilitator_id, position, name, role, email, phone)
            SELECT \(id), ordinality - 1, name, nullif(role, ''), nullif(email, ''), nullif(phone, '')
            FROM unnest(\(contacts.map(\.name))::text[], \(contacts.map { $0.role ?? "" })::text[],
                        \(contacts.map { $0.email ?? "" })::text[], \(contacts.map { $0.phone ?? "" })::text[])
                 WITH ORDINALITY AS c(name, role, email, phone, ordinality)
            """, logger: db.logger)
    }
}

extension FacilitatorStore {
    /// One happening in a supplier's history, as the task's agency sees it.
    public struct TimelineEntry: Sendable, Equatable {
        /// When it happened (a day) and when it was recorded.
        public var day: String
        public var recordedAt: Date
        /// letter, cooperation, contact, commitment, signal, licensing, audit.
        public var kind: String
        public var summary: String
        /// The id of the letter, signal or action it belongs to.
        public var subject: UUID?
    }

    /// Everything that happened with a supplier, newest first, at most `limit`
    /// entries: the agency's letters and their events, cooperation changes,
    /// contacts, commitments and their steps, signals about the supplier (its
    /// own and those shared with it), licensing actions and their events, and
    /// the registry's audit events of the record.
    public func timeline(_ id: UUID, limit: Int = 500) async throws -> [TimelineEntry] {
        _ = try await get(id)
        let rows = try await db.query(
            """
            SELECT day, recorded_at, kind, summary, subject FROM (
                SELECT e.occurred_on::text AS day, e.recorded_at, 'letter' AS kind,
                       initcap(replace(l.kind, '_', ' ')) || coalesce(' ' || l.reference, '') || ': ' || replace(e.status, '_', ' ')
                           || coalesce(' (' || e.note || ')', '') AS summary, l.id AS subject
                FROM letters l JOIN letter_events e ON e.letter_id = l.id
                WHERE l.facilitator_id = \(id) AND l.agency_id = current_agency()
                UNION ALL
                SELECT c.changed_at::date::text, c.changed_at, 'cooperation',
                       'Cooperation ' || replace(c.from_level, '_', ' ') || ' → ' || replace(c.to_level, '_', ' ')
                           || CASE WHEN c.automatic THEN ' (automatic)' ELSE '' END || ': ' || c.reason, c.letter_id
                FROM cooperation_changes c WHERE c.facilitator_id = \(id) AND c.agency_id = current_agency()
                UNION ALL
                SELECT s.occurred_on::text, s.created_at, 'contact', 'Contact (' || s.kind || ')'
                           || CASE WHEN s.notes <> '' THEN ': ' || left(s.notes, 200) ELSE '' END, NULL
                FROM supplier_contacts s WHERE s.facilitator_id = \(id) AND s.agency_id = current_agency()
                UNION ALL
                SELECT x.day::text, m.created_at, 'commitment', 'Measure ' || m.measure_code || ' ' || x.step, NULL
                FROM measure_commitments m
                CROSS JOIN LATERAL (VALUES (m.committed_on, 'committed (due ' || m.due_on || ')'), (m.implemented_on, 'implemented'),
                                           (m.verified_on, 'verified')) x(day, step)
                WHERE m.facilitator_id = \(id) AND m.agency_id = current_agency() AND x.day IS NOT NULL
                UNION ALL
                SELECT v.observed_on::text, v.recorded_at, 'signal',
                       'Signal (' || v.type || ', ' || replace(v.stage, '_', ' ') || '): ' || coalesce(v.indicator_code, v.indicator_text)
                           || ' — ' || v.source, s.id
                FROM signal_facilitators f JOIN signals s ON s.id = f.signal_id
                JOIN LATERAL (SELECT * FROM signal_versions sv WHERE sv.signal_id = s.id ORDER BY sv.version DESC LIMIT 1) v ON true
                WHERE f.facilitator_id = \(id)
                UNION ALL
                SELECT e.occurred_on::text, e.recorded_at, 'licensing',
                       initcap(a.type) || ': ' || replace(e.status, '_', ' ') || coalesce(' (' || e.note || ')', ''), a.id
                FROM licensing_actions a JOIN licensing_action_events e ON e.action_id = a.id
                WHERE a.facilitator_id = \(id) AND a.agency_id = current_agency()
                UNION ALL
                SELECT a.occurred_at::date::text, a.occurred_at, 'audit', a.action || ' by ' || a.actor_label, NULL
                FROM audit_events a WHERE a.entity_type = 'facilitator' AND a.entity_id = \(id.uuidString.lowercased())
            ) t ORDER BY day DESC, recorded_at DESC LIMIT \(limit)
            """)
        var entries: [TimelineEntry] = []
        for try await r in rows.decode((String, Date, String, String, UUID?).self) {
            entries.append(TimelineEntry(day: r.0, recordedAt: r.1, kind: r.2, summary: r.3, subject: r.4))
        }
        return entries
    }
}
