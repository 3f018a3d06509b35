import BarrierCore
import BarrierLetters
import Crypto
import Foundation
import PostgresNIO
import ZIPFoundation

/// Campaigns: one letter kind over a saved filter of suppliers. Approving a
/// campaign queues a job that writes (and freezes) every letter in batches,
/// then one that prints their PDFs; both are rows in `jobs`, claimed with
/// `FOR UPDATE SKIP LOCKED`, so they survive a restart and never run twice at once.
public struct CampaignStore: Sendable {
    let db: Database
    let letters: LetterStore
    /// Letters written per transaction.
    let batchSize: Int
    /// The filter keys a campaign may save (the supplier list's filters).
    public static let filterKeys = CampaignDrafting.filterKeys

    public init(_ db: Database, letters: LetterStore, batchSize: Int = 500) {
        self.db = db
        self.letters = letters
        self.batchSize = batchSize
    }

    public struct Draft: Sendable {
        public var name: String
        public var kind: LetterKind
        public var filter: [String: String]
        public var languageByCountry: [String: LetterLanguage]
        public var languageOverrides: [UUID: LetterLanguage]
        public var responseDays: Int?

        public init(name: String, kind: LetterKind = .informCallToAction, filter: [String: String],
                    languageByCountry: [String: LetterLanguage] = [:], languageOverrides: [UUID: LetterLanguage] = [:],
                    responseDays: Int? = nil) {
            self.name = name; self.kind = kind; self.filter = filter; self.languageByCountry = languageByCountry
            self.languageOverrides = languageOverrides; self.responseDays = responseDays
        }
    }

    public struct Record: Sendable {
        public var id: UUID
        public var json: String
        public var version: Int
    }

    static let documentSQL = """
        SELECT json_build_object('id', c.id, 'agency_id', c.agency_id, 'name', c.name, 'kind', c.kind, 'filter', c.filter,
            'language_by_country', c.language_by_country, 'language_overrides', c.language_overrides,
            'response_days', c.response_days, 'status', c.status, 'letter_date', c.letter_date,
            'progress', json_build_object('letters_total', c.letters_total, 'letters_done', c.letters_done,
                                          'letters_skipped', c.letters_skipped, 'pdfs_done', c.pdfs_done),
            'last_error', c.last_error, 'created_at', c.created_at, 'created_by', c.created_by,
            'approved_at', c.approved_at, 'approved_by', c.approved_by, 'version', c.version)::text, c.version
        FROM campaigns c WHERE c.id = $1
        """

    public func get(_ id: UUID, on conn: PostgresConnection? = nil) async throws -> Record {
        let query = PostgresQuery(unsafeSQL: Self.documentSQL, binds: { var b = PostgresBindings(); b.append(id); return b }())
        let rows = if let conn { try await Rows(conn.query(query, logger: db.logger)) } else { try await db.query(query) }
        for try await (json, version) in rows.decode((String, Int).self) { return Record(id: id, json: json, version: version) }
        throw StoreError.notFound(entity: "campaign", id: id.uuidString.lowercased())
    }

    public func list() async throws -> [String] {
        var items: [String] = []
        let ids = try await db.query("SELECT id FROM campaigns ORDER BY created_at DESC, id")
        for try await id in ids.decode(UUID.self) { items.append(try await get(id).json) }
        return items
    }

    // MARK: Creating and previewing

    /// Sets up a campaign: Core's `CampaignDrafting` and the supplier list's
    /// filter parser check it, then it is saved with its audit event.
    public func create(_ draft: Draft, agencyID: UUID, actor: Actor) async throws -> Record {
        var problems = CampaignDrafting.problems(name: draft.name, kind: draft.kind, responseDays: draft.responseDays,
                                                 filterKeys: draft.filter.keys, languageCountries: draft.languageByCountry.keys)
        do {
            _ = try FacilitatorQuery(parameters: draft.filter.filter { Self.filterKeys.contains($0.key) },
                                     knownSectors: try await FacilitatorStore(db).sectors())
        } catch StoreError.invalid(let filterProblems) {
            problems += filterProblems.map { FieldError(field: "filter.\($0.field)", message: $0.message) }
        }
        if !problems.isEmpty { throw StoreError.invalid(problems) }
        let name = draft.name.trimmingWhitespace
        return try await db.transaction { conn in
            let agency = try await letters.loadAgency(agencyID, on: conn)
            let id = UUID()
            let userID = actor.userID.flatMap(UUID.init(uuidString:))
            try await conn.query(
                """
                INSERT INTO campaigns (id, agency_id, name, kind, filter, language_by_country, language_overrides, response_days, created_by)
                VALUES (\(id), \(agencyID), \(name), \(draft.kind.rawValue), \(try Self.json(draft.filter))::jsonb,
                        \(try Self.json(draft.languageByCountry.mapValues(\.rawValue)))::jsonb,
                        \(try Self.json(Dictionary(uniqueKeysWithValues: draft.languageOverrides.map { ($0.key.uuidString.lowercased(), $0.value.rawValue) })))::jsonb,
                        \(draft.responseDays ?? agency.responseDays), \(userID))
                """, logger: db.logger)
            let record = try await get(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "campaign.create", entityType: "campaign",
                                      entityID: id.uuidString.lowercased(), before: nil, after: record.json, logger: db.logger)
            return record
        }
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    struct Saved {
        var agencyID: UUID
        var kind: LetterKind
        var query: FacilitatorQuery
        var languageByCountry: [String: LetterLanguage]
        var overrides: [String: LetterLanguage]
        var responseDays: Int
        var status: String
        var version: Int
        var templateIDs: [String: String]
        var letterDate: String?
        /// Who approved the campaign: the approver of each of its letters.
        var approvedBy: UUID?

        func language(supplier: UUID, country: String) -> LetterLanguage {
            CampaignDrafting.language(supplier: supplier.uuidString.lowercased(), country: country,
                                      overrides: overrides, byCountry: languageByCountry)
        }
    }

    func load(_ id: UUID, on conn: PostgresConnection, lock: Bool = false) async throws -> Saved {
        let rows = try await conn.query(
            PostgresQuery(unsafeSQL: """
                SELECT agency_id, kind, filter::text, language_by_country::text, language_overrides::text, response_days, status, version,
                       template_ids::text, letter_date::text, approved_by
                FROM campaigns WHERE id = $1 \(lock ? "FOR UPDATE" : "")
                """, binds: { var b = PostgresBindings(); b.append(id); return b }()), logger: db.logger)
        for try await r in rows.decode((UUID, String, String, String, String, Int, String, Int, String, String?, UUID?).self) {
            func dict(_ text: String) -> [String: String] {
                (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
            }
            let query = try FacilitatorQuery(parameters: dict(r.2), knownSectors: try await FacilitatorStore(db).sectors())
            return Saved(agencyID: r.0, kind: LetterKind(rawValue: r.1)!, query: query, languageByCountry: dict(r.3).compactMapValues(LetterLanguage.init(rawValue:)),
                         overrides: dict(r.4).compactMapValues(LetterLanguage.init(rawValue:)),
                         responseDays: r.5, status: r.6, version: r.7, templateIDs: dict(r.8), letterDate: r.9, approvedBy: r.10)
        }
        throw StoreError.notFound(entity: "campaign", id: id.uuidString.lowercased())
    }

    /// Suppliers the filter selects: (id, has a postal address), in id order, after `after`.
    func matches(_ saved: Saved, campaignID: UUID, onlyPending: Bool, after: UUID? = nil, limit: Int? = nil,
                 on conn: PostgresConnection) async throws -> [(UUID, Bool)] {
        var binds = SQLBinds()
        var sql = "SELECT f.id, (coalesce(f.street, '') <> '' AND coalesce(f.city, '') <> '') FROM facilitators f WHERE "
            + saved.query.conditions(&binds)
        if onlyPending {
            sql += " AND coalesce(f.street, '') <> '' AND coalesce(f.city, '') <> ''"
            sql += " AND NOT EXISTS (SELECT 1 FROM letters l WHERE l.campaign_id = \(binds.add(campaignID)) AND l.facilitator_id = f.id)"
        }
        if let after { sql += " AND f.id > \(binds.add(after))" }
        sql += " ORDER BY f.id"
        if let limit { sql += " LIMIT \(binds.add(limit))" }
        var out: [(UUID, Bool)] = []
        for try await row in try await conn.query(PostgresQuery(unsafeSQL: sql, binds: binds.binds), logger: db.logger).decode((UUID, Bool).self) {
            out.append(row)
        }
        return out
    }

    /// How many letters approving would write, how many suppliers lack an
    /// address, and the first `sample` letters rendered as drafts.
    public func preview(_ id: UUID, sample: Int = 3) async throws -> String {
        try await db.transaction { conn in
            let saved = try await load(id, on: conn)
            let all = try await matches(saved, campaignID: id, onlyPending: false, on: conn)
            let addressed = all.filter(\.1).map(\.0)
            let agency = try await letters.loadAgency(saved.agencyID, on: conn)
            let today = try await LetterStore.today(on: conn, logger: db.logger)
            let law = try await CampaignLaw(ProcedureProfileStore(db).current(saved.agencyID, on: conn), kind: saved.kind,
                                            letterDate: today, responseDays: saved.responseDays, rules: try await TaxonomyStore(db).letterRules(on: conn))
            var rendered: [String] = []
            for supplierID in addressed.prefix(sample) {
                guard let supplier = try await letters.loadSupplier(supplierID, on: conn) else { continue }
                let language = saved.language(supplier: supplierID, country: supplier.snapshot.country)
                let key = TemplateKey.forLetter(kind: saved.kind, sector: supplier.snapshot.sector, language: language, rules: law.rules)
                guard let template = try await letters.currentTemplate(key, on: conn) else { continue }
                let snapshot = LetterSnapshot(
                    kind: saved.kind, language: language, agency: agency.snapshot, supplier: supplier.snapshot,
                    letter: .init(reference: nil, date: today, deadline: law.deadline.day, responseDays: law.deadline.days),
                    law: try law.law(language: language, sector: supplier.snapshot.sector))
                let letter = try letters.renderer.render(body: template.body, snapshot: snapshot)
                rendered.append("""
                    {"facilitator_id": "\(supplierID.uuidString.lowercased())", "supplier_name": \(jsonString(supplier.snapshot.name)), \
                    "language": "\(language.rawValue)", "template": "\(key)", "subject": \(jsonString(letter.subject)), \
                    "text": \(jsonString(letter.text))}
                    """)
            }
            let skipped = all.filter { !$0.1 }.map { "\"\($0.0.uuidString.lowercased())\"" }
            return "{\"letters\": \(addressed.count), \"skipped_without_address\": \(skipped.count), \"skipped\": [\(skipped.prefix(100).joined(separator: ","))], \"sample\": [\(rendered.joined(separator: ","))]}"
        }
    }

    // MARK: Approving and generating

    /// Approves a draft campaign, as one use case: the campaign locked with the
    /// suppliers it selects and the templates their letters need, Core's
    /// `CampaignApproval`, then its templates and date fixed and the job that
    /// writes its letters queued.
    public func approve(_ id: UUID, expectedVersion: Int, actor: Actor) async throws -> Record {
        try await db.transaction { conn in
            let saved = try await load(id, on: conn, lock: true)
            let all = saved.status == "draft" ? try await matches(saved, campaignID: id, onlyPending: false, on: conn) : []
            let total = all.filter(\.1).count
            var needed: Set<TemplateKey> = []
            let rules = try await TaxonomyStore(db).letterRules(on: conn)
            for supplier in try await loadSuppliers(all.filter(\.1).map(\.0), on: conn) {
                let language = saved.language(supplier: UUID(uuidString: supplier.id)!, country: supplier.country)
                needed.insert(TemplateKey.forLetter(kind: saved.kind, sector: supplier.sector, language: language, rules: rules))
            }
            let templates = try await letters.currentTemplates(saved.kind, on: conn)
            let c = CampaignApprovalCase(status: saved.status, version: saved.version, addressed: total, needed: needed,
                                         templates: Set(templates.keys))
            switch CampaignApproval.refusal(c, expectedVersion: expectedVersion) {
            case nil: break
            case .versionConflict(let current): throw StoreError.versionConflict(current: current)
            case .approvedAlready(let status):
                throw StoreError.conflict("the campaign was approved already (it is \(status)); a campaign is approved once")
            case .nothingToSend: throw StoreError.conflict("the campaign's filter selects no supplier with a postal address; nothing to send")
            case .missingTemplates(let missing):
                throw StoreError.conflict("no template for \(missing.map(\.description).joined(separator: ", ")); add it before approving the campaign")
            }
            var ids: [String: String] = [:]
            for (key, template) in templates { ids["\(key.group?.rawValue ?? "").\(key.language.rawValue)"] = template.uuidString.lowercased() }
            let userID = actor.userID.flatMap(UUID.init(uuidString:))
            let before = try await get(id, on: conn)
            try await conn.query(
                """
                UPDATE campaigns SET status = 'generating', approved_at = now(), approved_by = \(userID), letter_date = current_date,
                    template_ids = \(try Self.json(ids))::jsonb, letters_total = \(total), letters_skipped = \(all.count - total),
                    version = version + 1
                WHERE id = \(id)
                """, logger: db.logger)
            try await conn.query("INSERT INTO jobs (kind, subject_id) VALUES ('campaign_letters', \(id))", logger: db.logger)
            let record = try await get(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "campaign.approve", entityType: "campaign",
                                      entityID: id.uuidString.lowercased(), before: before.json, after: record.json, logger: db.logger)
            return record
        }
    }

    /// Runs the next job that is due (or whose worker stopped); false when there is none.
    /// `only` limits it to one kind of job.
    @discardableResult
    public func runNextJob(only kind: String? = nil) async throws -> Bool {
        var ran = false
        try await db.forEachAgency { _ in
            if !ran { ran = try await runNextJobOfAgency(only: kind) }
        }
        return ran
    }

    /// Who claims, finishes and retries jobs in the audit log.
    static let jobsActor = Actor(userID: nil, agencyID: nil, label: "system:jobs")
    /// Who writes a campaign's letters and PDFs, and moves its status, in the audit log.
    static let campaignActor = Actor(userID: nil, agencyID: nil, label: "system:campaign")

    /// The next due job of the task's agency. Each change of a job's state
    /// (claimed, done, queued again, failed) and the campaign's move to `failed`
    /// is audited in the transaction that makes it.
    func runNextJobOfAgency(only kind: String?) async throws -> Bool {
        let claimed: (Int64, String, UUID, Int)? = try await db.transaction { conn in
            var found: (Int64, String, UUID, Int, String)?
            for try await row in try await conn.query(
                """
                SELECT id, kind, subject_id, attempts, state FROM jobs
                WHERE ((state = 'queued' AND run_after <= now()) OR (state = 'running' AND heartbeat_at < now() - interval '2 minutes'))
                  AND agency_id = current_agency() AND (\(kind)::text IS NULL OR kind = \(kind))
                ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
                """, logger: db.logger).decode((Int64, String, UUID, Int, String).self) { found = row }
            guard let (job, kind, subject, attempts, state) = found else { return nil }
            try await conn.query(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, heartbeat_at = now() WHERE id = \(job)", logger: db.logger)
            try await AuditLog.append(
                on: conn, actor: Self.jobsActor, action: "job.claimed", entityType: "job", entityID: String(job),
                before: "{\"state\": \(jsonString(state)), \"attempts\": \(attempts)}",
                after: "{\"state\": \"running\", \"attempts\": \(attempts + 1), \"kind\": \(jsonString(kind)), \"subject_id\": \"\(subject.uuidString.lowercased())\"}",
                logger: db.logger)
            return (job, kind, subject, attempts + 1)
        }
        guard let (job, kind, subject, attempts) = claimed else { return false }
        do {
            switch kind {
            case "campaign_letters": try await generateLetters(subject, job: job)
            case "campaign_pdfs": try await printPDFs(subject, job: job)
            default: break
            }
            try await db.transaction { conn in
                try await conn.query("UPDATE jobs SET state = 'done', finished_at = now(), last_error = NULL WHERE id = \(job)", logger: db.logger)
                try await AuditLog.append(
                    on: conn, actor: Self.jobsActor, action: "job.finished", entityType: "job", entityID: String(job),
                    before: "{\"state\": \"running\", \"attempts\": \(attempts)}",
                    after: "{\"state\": \"done\", \"attempts\": \(attempts), \"kind\": \(jsonString(kind)), \"subject_id\": \"\(subject.uuidString.lowercased())\"}",
                    logger: db.logger)
            }
        } catch {
            let message = String(Self.describe(error).prefix(2000))
            let final = attempts >= 5
            try await db.transaction { conn in
                try await conn.query(
                    """
                    UPDATE jobs SET state = \(final ? "failed" : "queued"), last_error = \(message),
                        run_after = now() + make_interval(secs => \(30 * attempts)) WHERE id = \(job)
                    """, logger: db.logger)
                try await AuditLog.append(
                    on: conn, actor: Self.jobsActor, action: final ? "job.failed" : "job.retry", entityType: "job", entityID: String(job),
                    before: "{\"state\": \"running\", \"attempts\": \(attempts)}",
                    after: "{\"state\": \"\(final ? "failed" : "queued")\", \"attempts\": \(attempts), \"kind\": \(jsonString(kind)), \"subject_id\": \"\(subject.uuidString.lowercased())\", \"error\": \(jsonString(message))}",
                    logger: db.logger)
                try await conn.query("UPDATE campaigns SET last_error = \(message) WHERE id = \(subject)", logger: db.logger)
                if final && kind == "campaign_letters" {
                    var previous: String?
                    for try await status in try await conn.query(
                        "SELECT status FROM campaigns WHERE id = \(subject) FOR UPDATE", logger: db.logger).decode(String.self) {
                        previous = status
                    }
                    if let previous, previous != "failed" {
                        try await conn.query("UPDATE campaigns SET status = 'failed' WHERE id = \(subject)", logger: db.logger)
                        try await AuditLog.append(
                            on: conn, actor: Self.campaignActor, action: "campaign.failed", entityType: "campaign",
                            entityID: subject.uuidString.lowercased(), before: "{\"status\": \(jsonString(previous))}",
                            after: "{\"status\": \"failed\", \"job_id\": \(job), \"error\": \(jsonString(message))}", logger: db.logger)
                    }
                }
            }
        }
        return true
    }

    func heartbeat(_ job: Int64) async throws {
        try await db.query("UPDATE jobs SET heartbeat_at = now() WHERE id = \(job)")
    }

    /// Writes the campaign's letters in batches; each batch is one transaction
    /// (letters, their reference numbers, progress and one audit event), so a
    /// job that stops resumes after the last committed batch.
    func generateLetters(_ id: UUID, job: Int64, maxBatches: Int? = nil) async throws {
        let actor = Self.campaignActor
        let (saved, agency, profile) = try await db.transaction { conn in
            let saved = try await load(id, on: conn)
            return (saved, try await letters.loadAgency(saved.agencyID, on: conn), try await ProcedureProfileStore(db).current(saved.agencyID, on: conn))
        }
        guard let letterDate = saved.letterDate else { return }
        let law = try CampaignLaw(profile, kind: saved.kind, letterDate: letterDate, responseDays: saved.responseDays,
                                  rules: try await TaxonomyStore(db).letterRules())
        let deadline = law.deadline.day
        var compiledTemplates: [String: (id: UUID, body: LetterRenderer.CompiledBody)] = [:]
        for (key, templateID) in saved.templateIDs {
            guard let uuid = UUID(uuidString: templateID) else { continue }
            for try await body in try await db.query("SELECT body FROM letter_templates WHERE id = \(uuid)").decode(String.self) {
                compiledTemplates[key] = (uuid, try letters.renderer.compile(body))
            }
        }
        // Batches are rendered off the transaction, two at once (one per core),
        // while the batch before is written: the reference is put in place of a
        // same-length placeholder once the numbers are taken, which gives the
        // bytes rendering with the number would (tested).
        let renderer = letters.renderer
        let compiled = compiledTemplates
        let prepare: @Sendable ([LetterSnapshot.Supplier]) async throws -> [PreparedLetter] = { suppliers in
            var work: [(LetterSnapshot, UUID, LetterRenderer.CompiledBody)] = []
            for supplier in suppliers {
                let language = saved.language(supplier: UUID(uuidString: supplier.id)!, country: supplier.country)
                let group = law.rules.group(of: supplier.sector)
                guard let template = compiled["\(group.rawValue).\(language.rawValue)"] else {
                    throw StoreError.conflict("no \(saved.kind.rawValue) template for \(group.rawValue) in \(language.rawValue)")
                }
                let placeholder = LetterReference.placeholder(year: Int(letterDate.prefix(4))!)
                work.append((LetterSnapshot(kind: saved.kind, language: language, agency: agency.snapshot, supplier: supplier,
                                            letter: .init(reference: placeholder, date: letterDate, deadline: deadline, responseDays: law.deadline.days),
                                            law: try law.law(language: language, sector: supplier.sector)),
                             template.id, template.body))
            }
            let parts = max(1, min(ProcessInfo.processInfo.activeProcessorCount, work.count / 50))
            let chunk = (work.count + parts - 1) / max(parts, 1)
            return try await withThrowingTaskGroup(of: (Int, [PreparedLetter]).self) { group in
                for (n, start) in stride(from: 0, to: work.count, by: max(chunk, 1)).enumerated() {
                    let slice = Array(work[start..<min(start + chunk, work.count)])
                    group.addTask {
                        (n, slice.map { snapshot, template, body in
                            PreparedLetter(snapshot: snapshot, template: template, rendered: renderer.render(body, snapshot: snapshot))
                        })
                    }
                }
                var parts: [(Int, [PreparedLetter])] = []
                for try await part in group { parts.append(part) }
                return parts.sorted { $0.0 < $1.0 }.flatMap(\.1)
            }
        }
        /// The batch after `after`, being prepared, and its last supplier; nil when none is left.
        func prepareBatch(after: UUID?) async throws -> (Task<[PreparedLetter], any Error>, UUID)? {
            let batch = try await db.transaction { conn in
                try await matches(saved, campaignID: id, onlyPending: true, after: after, limit: batchSize, on: conn)
            }.map(\.0)
            guard let last = batch.last else { return nil }
            let suppliers = try await loadSuppliers(batch)
            return (Task { try await prepare(suppliers) }, last)
        }
        var next = try await prepareBatch(after: nil)
        var written = 0
        while let (current, last) = next {
            let rows = try await current.value
            written += 1
            // A test stops here after `maxBatches`, standing in for a worker that died.
            if let maxBatches, written > maxBatches { return }
            next = try await prepareBatch(after: last)
            try await db.transaction { conn in
                // The counter stays locked until this batch commits, so numbers stay gapless.
                let references = try await LetterStore.reserveReferences(rows.count, year: Int(letterDate.prefix(4))!, on: conn, logger: db.logger)
                var ids: [UUID] = [], suppliers: [UUID] = [], languages: [String] = [], templates: [UUID] = []
                var snapshots: [String] = [], subjects: [String] = [], htmls: [String] = [], texts: [String] = []
                var htmlHashes: [String] = [], textHashes: [String] = [], layouts: [String] = []
                for (i, row) in rows.enumerated() {
                    var snapshot = row.snapshot
                    let placeholder = snapshot.letter.reference!
                    snapshot.letter.reference = references[i]
                    // The placeholder is as long as a six-digit number; past 999,999 the letter is rendered with its number.
                    let rendered = placeholder.count == references[i].count
                        ? row.rendered.replacingReference(placeholder, with: references[i])
                        : letters.renderer.render(compiled.values.first { $0.id == row.template }!.body, snapshot: snapshot)
                    ids.append(UUID()); suppliers.append(UUID(uuidString: snapshot.supplier.id)!); languages.append(snapshot.language.rawValue)
                    templates.append(row.template)
                    snapshots.append(try snapshot.encoded()); subjects.append(rendered.subject); htmls.append(rendered.html); texts.append(rendered.text)
                    htmlHashes.append(rendered.htmlSHA256.hex); textHashes.append(rendered.textSHA256.hex)
                    layouts.append(letters.renderer.layoutSHA256[snapshot.language]!.hex)
                }
                try await conn.query(
                    """
                    INSERT INTO letters (id, facilitator_id, agency_id, kind, language, template_id, status, campaign_id, response_days,
                        reference, letter_date, response_deadline, snapshot, subject, html, text_body, html_sha256, text_sha256,
                        layout_sha256, approved_at, created_by, approved_by)
                    SELECT u.id, u.supplier, \(saved.agencyID), \(saved.kind.rawValue), u.language, u.template, 'approved', \(id),
                        \(saved.responseDays), u.reference, \(letterDate)::date, \(deadline)::date, u.snapshot::jsonb, u.subject, u.html,
                        u.text, decode(u.html_hash, 'hex'), decode(u.text_hash, 'hex'), decode(u.layout, 'hex'), now(),
                        \(saved.approvedBy), \(saved.approvedBy)
                    FROM unnest(\(ids)::uuid[], \(suppliers)::uuid[], \(languages)::text[], \(templates)::uuid[], \(references)::text[],
                                \(snapshots)::text[], \(subjects)::text[], \(htmls)::text[], \(texts)::text[], \(htmlHashes)::text[],
                                \(textHashes)::text[], \(layouts)::text[])
                         AS u(id, supplier, language, template, reference, snapshot, subject, html, text, html_hash, text_hash, layout)
                    """, logger: db.logger)
                try await conn.query(
                    """
                    INSERT INTO letter_events (letter_id, seq, status, occurred_on, note)
                    SELECT u.id, 1, 'approved', \(letterDate)::date, u.reference FROM unnest(\(ids)::uuid[], \(references)::text[]) AS u(id, reference)
                    """, logger: db.logger)
                try await conn.query(
                    "UPDATE campaigns SET letters_done = letters_done + \(rows.count) WHERE id = \(id)", logger: db.logger)
                try await AuditLog.append(
                    on: conn, actor: actor, action: "campaign.letters", entityType: "campaign", entityID: id.uuidString.lowercased(),
                    before: nil,
                    after: "{\"count\": \(rows.count), \"first_reference\": \"\(references.first!)\", \"last_reference\": \"\(references.last!)\", \"letter_ids\": [\(ids.map { "\"\($0.uuidString.lowercased())\"" }.joined(separator: ","))]}",
                    logger: db.logger)
            }
            try await heartbeat(job)
        }
        try await db.transaction { conn in
            let moved = try await conn.query(
                """
                UPDATE campaigns SET status = 'generated', last_error = NULL, version = version + 1 WHERE id = \(id) AND status = 'generating'
                RETURNING letters_done
                """, logger: db.logger)
            var done: Int?
            for try await count in moved.decode(Int.self) { done = count }
            try await conn.query(
                "INSERT INTO jobs (kind, subject_id) VALUES ('campaign_pdfs', \(id)) ON CONFLICT DO NOTHING", logger: db.logger)
            if let done {
                try await AuditLog.append(
                    on: conn, actor: actor, action: "campaign.generated", entityType: "campaign", entityID: id.uuidString.lowercased(),
                    before: "{\"status\": \"generating\"}", after: "{\"status\": \"generated\", \"letters_done\": \(done)}", logger: db.logger)
            }
        }
    }

    /// What went wrong, for the job's and the campaign's `last_error`: PostgreSQL's own
    /// message and SQLSTATE rather than PostgresNIO's generic description.
    static func describe(_ error: any Error) -> String {
        if let psql = error as? PSQLError, let message = psql.serverInfo?[.message] {
            return "the database refused a step: \(message) (SQLSTATE \(psql.serverInfo?[.sqlState] ?? "?"))"
        }
        return "\(error)"
    }

    struct PreparedLetter: Sendable {
        var snapshot: LetterSnapshot
        var template: UUID
        var rendered: RenderedLetter
    }

    /// The suppliers' letter data, in one query.
    func loadSuppliers(_ ids: [UUID], on conn: PostgresConnection? = nil) async throws -> [LetterSnapshot.Supplier] {
        let query: PostgresQuery = 
            """
            SELECT f.id, f.legal_name, f.aliases[1], f.sector, c.name, c.role, f.street, f.postal_code, f.city, f.country::text,
                   coalesce(c.email, f.email), f.registration_number, (SELECT s.names::text FROM sectors s WHERE s.code = f.sector)
            FROM facilitators f
            LEFT JOIN LATERAL (SELECT name, role, email FROM contact_points WHERE facilitator_id = f.id ORDER BY position LIMIT 1) c ON true
            WHERE f.id = ANY(\(ids)::uuid[]) ORDER BY f.id
            """
        let rows = if let conn { try await Rows(conn.query(query, logger: db.logger)) } else { try await db.query(query) }
        var out: [LetterSnapshot.Supplier] = []
        for try await r in rows.decode((UUID, String, String?, String, String?, String?, String?, String?, String?, String, String?, String?, String?).self) {
            out.append(.init(id: r.0.uuidString.lowercased(), name: r.1, tradingName: r.2, sector: r.3, contactName: r.4, contactRole: r.5,
                             street: r.6, postalCode: r.7, city: r.8, country: r.9, email: r.10, registrationNumber: r.11,
                             sectorNames: LetterSnapshot.Supplier.sectorNames(r.12)))
        }
        return out
    }

    /// Prints every campaign letter that has no PDF yet (at most `limit`), as
    /// many at once as there are workers; returns how many were printed.
    @discardableResult
    public func printPDFs(_ id: UUID, job: Int64? = nil, limit: Int? = nil) async throws -> Int {
        let letters = self.letters
        var printed = 0
        while limit.map({ printed < $0 }) ?? true {
            let take = min(64, limit.map { $0 - printed } ?? 64)
            let rows = try await db.query(
                "SELECT id, html FROM letters WHERE campaign_id = \(id) AND status <> 'draft' AND pdf IS NULL ORDER BY length(reference), reference LIMIT \(take)")
            var batch: [(UUID, String)] = []
            for try await row in rows.decode((UUID, String).self) { batch.append(row) }
            if batch.isEmpty { break }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (letter, html) in batch {
                    group.addTask { try await letters.storePDF(letter, try await letters.pdfs.render(html: html, priority: .background), actor: Self.campaignActor) }
                }
                try await group.waitForAll()
            }
            printed += batch.count
            try await db.query(
                "UPDATE campaigns SET pdfs_done = (SELECT count(*) FROM letters WHERE campaign_id = \(id) AND pdf IS NOT NULL) WHERE id = \(id)")
            if let job { try await heartbeat(job) }
        }
        return printed
    }

    // MARK: Downloads

    /// The manifest: one line per letter with reference, supplier, address and the SHA-256 of its PDF.
    public func manifest(_ id: UUID) async throws -> Data {
        let saved = try await db.transaction { conn in try await load(id, on: conn) }
        guard saved.status != "draft" else { throw StoreError.conflict("the campaign is a draft; approve it first") }
        let rows = try await db.query(
            """
            SELECT l.reference, l.facilitator_id::text, l.snapshot->'supplier'->>'name', l.language,
                   concat_ws(', ', nullif(l.snapshot->'supplier'->>'street', ''),
                             nullif(concat_ws(' ', l.snapshot->'supplier'->>'postalCode', l.snapshot->'supplier'->>'city'), ''),
                             l.snapshot->'supplier'->>'country'),
                   coalesce(encode(l.pdf_sha256, 'hex'), ''), encode(l.html_sha256, 'hex'), l.status
            FROM letters l WHERE l.campaign_id = \(id) ORDER BY length(l.reference), l.reference
            """)
        var lines: [[String]] = [["reference", "facilitator_id", "supplier", "language", "address", "pdf_sha256", "html_sha256", "status"]]
        for try await r in rows.decode((String, String, String, String, String, String, String, String).self) {
            lines.append([r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7])
        }
        return try FacilitatorTransfer.csvLines(lines)
    }

    /// Writes a ZIP of every letter's PDF (printing any still missing) and the manifest to `path`
    /// (the same bytes as the server's kept ZIP of this state; see `CampaignArchives`).
    public func writeZIP(_ id: UUID, to path: String) async throws {
        let (manifest, date) = try await zipContents(id)
        try await writeZIP(id, to: path, manifest: manifest, date: date)
    }
}

/// What every letter of a campaign states from the agency's procedure profile: the
/// deadline counted as the profile says (moved off rest days and holidays) and the
/// law in each language, resolved once per language and kind of sector.
struct CampaignLaw: Sendable {
    let deadline: LetterDeadline
    let laws: [String: Result<LetterSnapshot.Law, ValidationFailure>]
    /// Which template and whether the postal caveat, per sector (the catalogue).
    let rules: SectorLetterRules

    init(_ profile: ProcedureProfileStore.Current, kind: LetterKind, letterDate: String, responseDays: Int, rules: SectorLetterRules) throws {
        self.rules = rules
        switch LetterDeadline.resolve(today: letterDate, requested: nil, responseDays: responseDays, rule: profile.profile.deadlines) {
        case .success(let resolved): deadline = resolved
        case .failure(let problem): throw StoreError.invalid([problem])
        }
        var laws: [String: Result<LetterSnapshot.Law, ValidationFailure>] = [:]
        for language in LetterLanguage.allCases {
            for postal in [true, false] {
                laws["\(language.rawValue).\(postal)"] = LetterSnapshot.Law.resolve(
                    profile.profile, label: profile.label, kind: kind, language: language, actionType: nil, postal: postal, letterDate: letterDate)
            }
        }
        self.laws = laws
    }

    /// The law a letter in `language` to a supplier of `sector` states; a text the profile lacks is refused.
    func law(language: LetterLanguage, sector: String) throws -> LetterSnapshot.Law {
        switch laws["\(language.rawValue).\(rules.isPostal(sector))"]! {
        case .success(let law): return law
        case .failure(let failure): throw StoreError.invalid(failure.errors)
        }
    }
}
