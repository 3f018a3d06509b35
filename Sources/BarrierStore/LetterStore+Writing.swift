import BarrierCore
import BarrierLetters
import Crypto
import Foundation
import PostgresNIO

extension LetterStore {
    // MARK: Templates

    /// Stores each shipped template body that is not yet a version (a changed
    /// file becomes the new current version). Returns how many were added.
    @discardableResult
    public func syncShippedTemplates() async throws -> Int {
        var added = 0
        for (key, body) in renderer.shippedTemplates.sorted(by: { $0.key.fileName < $1.key.fileName }) {
            if let problem = LetterTemplate.problem(in: body) {
                throw StoreError.invalid([FieldError(field: key.fileName, message: "\(problem)")])
            }
            if try await storeVersion(key, body: body, source: "file", actor: Actor(userID: nil, agencyID: nil, label: "system:templates")).created {
                added += 1
            }
        }
        return added
    }

    /// Adds `body` as the newest version of `key` for the task's agency (its letters
    /// alone use it); an equal body already stored is returned as it is.
    public func addTemplateVersion(_ key: TemplateKey, body: String, actor: Actor) async throws -> (json: String, created: Bool) {
        _ = try checkedTemplateBody(body)
        let result = try await storeVersion(key, body: body, source: "api", actor: actor)
        return (try await templateVersion(result.id), result.created)
    }

    /// `source` "file" stores a shipped version (no agency: every agency's default);
    /// "api" one of the task's agency.
    func storeVersion(_ key: TemplateKey, body: String, source: String, actor: Actor) async throws -> (id: UUID, created: Bool) {
        let hash = LetterTemplate.sha256(body)
        let group = key.group?.rawValue ?? ""
        let shipped = source == "file"
        return try await db.transaction { conn in
            try await conn.query("SELECT pg_advisory_xact_lock(hashtext('barrier.letter_templates'))", logger: db.logger)
            let existing = try await conn.query(
                """
                SELECT id FROM letter_templates
                WHERE kind = \(key.kind.rawValue) AND sector_group = \(group) AND language = \(key.language.rawValue) AND sha256 = \(hash)
                  AND agency_id IS NOT DISTINCT FROM (CASE WHEN \(shipped) THEN NULL ELSE current_agency() END)
                """, logger: db.logger)
            for try await id in existing.decode(UUID.self) { return (id, false) }
            let userID = actor.userID.flatMap(UUID.init(uuidString:))
            let rows = try await conn.query(
                """
                INSERT INTO letter_templates (kind, sector_group, language, version, body, sha256, source, created_by, agency_id)
                SELECT \(key.kind.rawValue), \(group), \(key.language.rawValue), coalesce(max(version), 0) + 1, \(body), \(hash), \(source), \(userID),
                       CASE WHEN \(shipped) THEN NULL ELSE current_agency() END
                FROM letter_templates WHERE kind = \(key.kind.rawValue) AND sector_group = \(group) AND language = \(key.language.rawValue)
                  AND (agency_id IS NULL OR (NOT \(shipped) AND agency_id = current_agency()))
                RETURNING id, version
                """, logger: db.logger)
            for try await (id, version) in rows.decode((UUID, Int).self) {
                try await AuditLog.append(
                    on: conn, actor: actor, action: "letter_template.add_version", entityType: "letter_template",
                    entityID: id.uuidString.lowercased(), before: nil,
                    after: "{\"key\": \"\(key)\", \"version\": \(version), \"sha256\": \"\(hash.hex)\", \"source\": \"\(source)\"}",
                    logger: db.logger)
                return (id, true)
            }
            throw StoreError.conflict("the template version was not stored")
        }
    }

    static let templateColumns = """
        json_build_object('id', id, 'kind', kind, 'sector_group', nullif(sector_group, ''), 'language', language,
                          'version', version, 'sha256', encode(sha256, 'hex'), 'source', source, 'created_at', created_at,
                          'created_by', created_by, 'agency_id', agency_id, 'body', body)
        """

    /// The templates an agency's letters may use: the shipped ones and its own.
    static let usableTemplates = "(agency_id IS NULL OR agency_id = current_agency())"

    public func templateVersion(_ id: UUID) async throws -> String {
        let rows = try await db.query(
            PostgresQuery(unsafeSQL: "SELECT \(Self.templateColumns)::text FROM letter_templates WHERE id = $1",
                          binds: { var b = PostgresBindings(); b.append(id); return b }()))
        for try await json in rows.decode(String.self) { return json }
        throw StoreError.notFound(entity: "letter template", id: id.uuidString.lowercased())
    }

    /// The current version of every template, or every version of one key.
    public func templates(key: TemplateKey? = nil) async throws -> [String] {
        var binds = PostgresBindings()
        var sql: String
        if let key {
            binds.append(key.kind.rawValue); binds.append(key.group?.rawValue ?? ""); binds.append(key.language.rawValue)
            sql = """
                SELECT \(Self.templateColumns)::text FROM letter_templates
                WHERE kind = $1 AND sector_group = $2 AND language = $3 AND \(Self.usableTemplates) ORDER BY version DESC, agency_id
                """
        } else {
            sql = """
                SELECT \(Self.templateColumns)::text FROM (
                    SELECT DISTINCT ON (kind, sector_group, language) * FROM letter_templates WHERE \(Self.usableTemplates)
                    ORDER BY kind, sector_group, language, agency_id IS NULL, version DESC) t
                ORDER BY kind, sector_group, language
                """
        }
        var items: [String] = []
        for try await json in try await db.query(PostgresQuery(unsafeSQL: sql, binds: binds)).decode(String.self) {
            items.append(json)
        }
        if let key, items.isEmpty { throw StoreError.notFound(entity: "letter template", id: key.description) }
        return items
    }

    public func currentTemplate(_ key: TemplateKey, on conn: PostgresConnection) async throws -> (id: UUID, body: String)? {
        let rows = try await conn.query(
            """
            SELECT id, body FROM letter_templates
            WHERE kind = \(key.kind.rawValue) AND sector_group = \(key.group?.rawValue ?? "") AND language = \(key.language.rawValue)
              AND (agency_id IS NULL OR agency_id = current_agency())
            ORDER BY agency_id IS NULL, version DESC LIMIT 1
            """, logger: db.logger)
        for try await (id, body) in rows.decode((UUID, String).self) { return (id, body) }
        return nil
    }

    // MARK: Drafts

    /// An officer's draft, as one use case: the case loaded (`draftCase`), Core's
    /// `LetterDrafting`, then the draft saved with its event and audit event.
    public func createDraft(_ request: DraftRequest, agencyID: UUID, actor: Actor) async throws -> Record {
        try await db.transaction { conn in
            let (c, templates) = try await draftCase(facilitatorID: request.facilitatorID, reminderOf: request.reminderOf, agencyID: agencyID,
                                                     kind: request.kind, on: conn)
            let ask = LetterDraftAsk(origin: .officer, kind: request.kind, language: request.language, responseDays: request.responseDays,
                                     deadline: request.deadline, namesOriginal: request.reminderOf != nil)
            let outcome = try Self.drafted(LetterDrafting.decide(c, ask), facilitatorID: request.facilitatorID)
            return try await insertDraft(
                facilitatorID: request.facilitatorID, agencyID: agencyID, kind: request.kind, language: outcome.language,
                templateID: templates[outcome.template]!, responseDays: outcome.responseDays, deadline: outcome.deadline,
                reminderOf: request.reminderOf, licensingActionID: nil, today: c.today, actor: actor, on: conn)
        }
    }

    /// The draft of a letter a licensing action sends (warning, notice of intent,
    /// decision notice), written inside the action's transaction.
    func draftActionLetter(actionID: UUID, facilitatorID: UUID, agencyID: UUID, kind: LetterKind, language: LetterLanguage?,
                           responseDays: Int, actor: Actor, on conn: PostgresConnection) async throws -> Record {
        let (c, templates) = try await draftCase(facilitatorID: facilitatorID, reminderOf: nil, agencyID: agencyID, kind: kind, on: conn)
        let ask = LetterDraftAsk(origin: .licensingAction, kind: kind, language: language, responseDays: responseDays)
        let outcome = try Self.drafted(LetterDrafting.decide(c, ask), facilitatorID: facilitatorID)
        return try await insertDraft(
            facilitatorID: facilitatorID, agencyID: agencyID, kind: kind, language: outcome.language, templateID: templates[outcome.template]!,
            responseDays: outcome.responseDays, deadline: nil, reminderOf: nil, licensingActionID: actionID, today: c.today, actor: actor, on: conn)
    }

    static func drafted(_ decision: Result<LetterDrafting.Outcome, LetterDrafting.Refusal>, facilitatorID: UUID) throws -> LetterDrafting.Outcome {
        switch decision {
        case .success(let outcome): return outcome
        case .failure(.noSupplier): throw StoreError.notFound(entity: "facilitator", id: facilitatorID.uuidString.lowercased())
        case .failure(.invalid(let problems)): throw StoreError.invalid(problems)
        }
    }

    /// What drafting reads, in one statement: the supplier, the letter a reminder
    /// names (the agency's own only), the agency's period, today; and the
    /// templates of `kind` the agency writes from.
    func draftCase(facilitatorID: UUID, reminderOf: UUID?, agencyID: UUID, kind: LetterKind,
                   on conn: PostgresConnection) async throws -> (LetterDraftCase, [TemplateKey: UUID]) {
        var loaded: LetterDraftCase?
        for try await r in try await conn.query(
            """
            SELECT f.status = 'archived', coalesce(f.street, '') <> '' AND coalesce(f.city, '') <> '', f.country::text, f.sector,
                   o.facilitator_id = \(facilitatorID), o.status, g.response_days, current_date::text, s.letter_group
            FROM agencies g
            LEFT JOIN facilitators f ON f.id = \(facilitatorID)
            LEFT JOIN sectors s ON s.code = f.sector
            LEFT JOIN letters o ON o.id = \(reminderOf)
            WHERE g.id = \(agencyID)
            """, logger: db.logger).decode((Bool?, Bool?, String?, String?, Bool?, String?, Int, String, String?).self) {
            var supplier: LetterDraftCase.Supplier?
            if let archived = r.0, let address = r.1, let country = r.2, let sector = r.3 {
                supplier = .init(archived: archived, hasPostalAddress: address, country: country, sector: sector,
                                 group: r.8.flatMap(SectorGroup.init(rawValue:)) ?? .general)
            }
            var original: LetterDraftCase.Original?
            if let same = r.4, let status = r.5.flatMap(LetterStatus.init(rawValue:)) { original = .init(isTheSuppliers: same, status: status) }
            loaded = LetterDraftCase(supplier: supplier, original: original, templates: [], agencyResponseDays: r.6, today: r.7)
        }
        guard var loaded else { throw StoreError.notFound(entity: "agency", id: agencyID.uuidString.lowercased()) }
        let templates = try await currentTemplates(kind, on: conn)
        loaded.templates = Set(templates.keys)
        return (loaded, templates)
    }

    /// The template each sector group and language of `kind` is written from
    /// for the task's agency: its own newest version, else the shipped one.
    func currentTemplates(_ kind: LetterKind, on conn: PostgresConnection) async throws -> [TemplateKey: UUID] {
        var templates: [TemplateKey: UUID] = [:]
        for try await (group, language, id) in try await conn.query(
            """
            SELECT DISTINCT ON (sector_group, language) sector_group, language, id FROM letter_templates
            WHERE kind = \(kind.rawValue) AND (agency_id IS NULL OR agency_id = current_agency())
            ORDER BY sector_group, language, agency_id IS NULL, version DESC
            """, logger: db.logger).decode((String, String, UUID).self) {
            guard let language = LetterLanguage(rawValue: language) else { continue }
            templates[TemplateKey(kind: kind, group: SectorGroup(rawValue: group), language: language)] = id
        }
        return templates
    }

    /// Stores a draft letter with its first event and its audit event.
    func insertDraft(facilitatorID: UUID, agencyID: UUID, kind: LetterKind, language: LetterLanguage, templateID: UUID, responseDays: Int,
                     deadline: String?, reminderOf: UUID?, licensingActionID: UUID?, today: String, actor: Actor,
                     on conn: PostgresConnection) async throws -> Record {
        let id = UUID()
        let userID = actor.userID.flatMap(UUID.init(uuidString:))
        try await conn.query(
            """
            INSERT INTO letters (id, facilitator_id, agency_id, kind, language, template_id, reminder_of, response_days,
                                 requested_deadline, licensing_action_id, created_by, updated_by)
            VALUES (\(id), \(facilitatorID), \(agencyID), \(kind.rawValue), \(language.rawValue), \(templateID),
                    \(reminderOf), \(responseDays), \(deadline)::date, \(licensingActionID), \(userID), \(userID))
            """, logger: db.logger)
        try await addEvent(id, status: .draft, on: today, note: nil, actor: actor, conn: conn)
        let record = try await document(id, on: conn)
        try await AuditLog.append(on: conn, actor: actor, action: "letter.create", entityType: "letter",
                                  entityID: id.uuidString.lowercased(), before: nil, after: record.json, logger: db.logger)
        return record
    }

    /// A draft as it would read if approved today (marked as a draft); an approved letter as stored.
    public func preview(_ id: UUID) async throws -> RenderedLetter {
        if let frozen = try await frozen(id) {
            return RenderedLetter(subject: frozen.subject, html: frozen.html, text: frozen.text)
        }
        return try await db.transaction { conn in
            let (snapshot, body, _) = try await compose(id, reference: nil, on: conn)
            return try renderer.render(body: body, snapshot: snapshot)
        }
    }

    /// Approves a draft, as one use case: the case loaded and locked in one
    /// statement, Core's `LetterApproval`, then the letter frozen with its
    /// reference number, date, deadline, rendered text, data and hashes.
    public func approve(_ id: UUID, expectedVersion: Int, actor: Actor) async throws -> Record {
        let record = try await db.transaction { conn in
            var loaded: LetterApprovalCase?
            for try await r in try await conn.query(
                """
                SELECT l.status, l.version, coalesce(a.status = 'withdrawn', false), l.requested_deadline::text, l.response_days,
                       current_date::text
                FROM letters l LEFT JOIN licensing_actions a ON a.id = l.licensing_action_id WHERE l.id = \(id) FOR UPDATE OF l
                """, logger: db.logger).decode((String, Int, Bool, String?, Int, String).self) {
                loaded = LetterApprovalCase(status: LetterStatus(rawValue: r.0)!, version: r.1, actionWithdrawn: r.2, requestedDeadline: r.3,
                                            responseDays: r.4, today: r.5)
            }
            guard let loaded else { throw StoreError.notFound(entity: "letter", id: id.uuidString.lowercased()) }
            switch LetterApproval.decide(loaded, expectedVersion: expectedVersion) {
            case .success: break
            case .failure(.versionConflict(let current)): throw StoreError.versionConflict(current: current)
            case .failure(.transition(let from, let allowed)):
                throw StoreError.transition(entity: "letter", from: from.rawValue, to: "approved", allowed: allowed.map(\.rawValue))
            case .failure(.actionWithdrawn): throw StoreError.conflict("the licensing action of this letter was withdrawn; the letter is not sent")
            case .failure(.invalid(let problems)): throw StoreError.invalid(problems)
            }
            let reference = try await Self.reserveReferences(1, year: Int(loaded.today.prefix(4))!, on: conn, logger: db.logger)[0]
            let (snapshot, body, _) = try await compose(id, reference: reference, on: conn)
            let rendered = try renderer.render(body: body, snapshot: snapshot)
            try await freeze(id, snapshot: snapshot, rendered: rendered, actor: actor, on: conn)
            try await addEvent(id, status: .approved, on: loaded.today, note: reference, actor: actor, conn: conn)
            try await AppealPeriods.settle(letterID: id, on: conn, db: db)
            let after = try await document(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "letter.approve", entityType: "letter",
                                      entityID: id.uuidString.lowercased(), before: nil, after: after.json, logger: db.logger)
            return after
        }
        // The PDF is printed once, after the approval committed; if the printer
        // is down the first download prints it instead.
        if let html = try? await frozen(id)?.html, let printed = try? await pdfs.render(html: html) {
            try await storePDF(id, printed, actor: actor)
            return try await get(id)
        }
        return record
    }

    /// Records a tracking step (sent, delivered, returned, responded) of an approved letter.
    public func record(_ id: UUID, step: LetterTrackingStep, attachment: UploadedDocument? = nil, expectedVersion: Int,
                       actor: Actor) async throws -> Record {
        try await db.transaction { conn in
            // Load the case (locked), ask Core, save the outcome.
            var loaded: LetterTrackingCase?
            for try await r in try await conn.query(
                """
                SELECT l.status, l.version, coalesce(l.letter_date, current_date)::text, e.state, current_date::text
                FROM letters l LEFT JOIN letter_emails e ON e.letter_id = l.id WHERE l.id = \(id) FOR UPDATE OF l
                """, logger: db.logger).decode((String, Int, String, String?, String).self) {
                loaded = LetterTrackingCase(status: LetterStatus(rawValue: r.0)!, version: r.1, letterDate: r.2, emailState: r.3, today: r.4)
            }
            guard let loaded else { throw StoreError.notFound(entity: "letter", id: id.uuidString.lowercased()) }
            let outcome: LetterTracking.Outcome
            switch LetterTracking.decide(loaded, step, expectedVersion: expectedVersion, documentProblems: attachment?.problems()) {
            case .success(let decided): outcome = decided
            case .failure(.versionConflict(let current)): throw StoreError.versionConflict(current: current)
            case .failure(.transition(let from, let allowed)):
                throw StoreError.transition(entity: "letter", from: from.rawValue, to: step.status.rawValue, allowed: allowed.map(\.rawValue))
            case .failure(.withTheRelay(let state)):
                throw StoreError.conflict("this letter is with the e-mail relay (\(state)); its sending is recorded when the relay accepts it")
            case .failure(.invalid(let problems)): throw StoreError.invalid(problems)
            }
            let before = try await document(id, on: conn)
            let userID = actor.userID.flatMap(UUID.init(uuidString:))
            switch step {
            case .sent(let on, let method, let tracking):
                try await conn.query(
                    """
                    UPDATE letters SET status = 'sent', sent_on = \(on)::date, send_method = \(method.rawValue), tracking_number = \(tracking),
                        updated_at = now(), updated_by = \(userID), version = version + 1 WHERE id = \(id)
                    """, logger: db.logger)
            case .delivered(let on, let proof):
                try await conn.query(
                    """
                    UPDATE letters SET status = 'delivered', delivered_on = \(on)::date, delivery_proof = \(proof),
                        updated_at = now(), updated_by = \(userID), version = version + 1 WHERE id = \(id)
                    """, logger: db.logger)
            case .returned(let on, let reason):
                try await conn.query(
                    """
                    UPDATE letters SET status = 'returned', returned_on = \(on)::date, returned_reason = \(reason),
                        updated_at = now(), updated_by = \(userID), version = version + 1 WHERE id = \(id)
                    """, logger: db.logger)
            case .responded(let on, let channel, let summary):
                try await conn.query(
                    """
                    UPDATE letters SET status = 'responded', responded_on = \(on)::date, response_channel = \(channel.rawValue),
                        response_summary = \(summary), response_document = \(attachment?.bytes),
                        response_document_sha256 = \(attachment?.sha256), response_document_type = \(attachment?.contentType),
                        response_document_name = \(attachment?.name),
                        updated_at = now(), updated_by = \(userID), version = version + 1 WHERE id = \(id)
                    """, logger: db.logger)
            }
            try await addEvent(id, status: step.status, on: step.day, note: nil, actor: actor, conn: conn)
            try await AppealPeriods.settle(letterID: id, on: conn, db: db)
            if outcome.informsSupplier {
                try await CooperationStore.applyAutomatic(letterID: id, noResponse: false, on: conn, logger: db.logger)
            }
            let after = try await document(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "letter.\(step.status.rawValue)", entityType: "letter",
                                      entityID: id.uuidString.lowercased(), before: before.json, after: after.json, logger: db.logger)
            return after
        }
    }

    /// Marks `no_response` on every sent or delivered letter whose deadline
    /// passed before `today` (the database's today when nil). Returns their ids.
    @discardableResult
    public func sweepDeadlines(today: String? = nil, actor: Actor = Actor(userID: nil, agencyID: nil, label: "system:deadline-sweep")) async throws -> [UUID] {
        var all: [UUID] = []
        try await db.forEachAgency { _ in all += try await sweepDeadlinesOfAgency(today: today, actor: actor) }
        return all
    }

    func sweepDeadlinesOfAgency(today: String?, actor: Actor) async throws -> [UUID] {
        try await db.transaction { conn in
            var day = today ?? ""
            if today == nil { day = try await Self.today(on: conn, logger: db.logger) }
            let rows = try await conn.query(
                """
                UPDATE letters SET status = 'no_response', no_response_on = \(day)::date, updated_at = now(), version = version + 1
                WHERE id IN (SELECT id FROM letters WHERE agency_id = current_agency() AND status IN ('sent', 'delivered')
                             AND response_deadline < \(day)::date
                             ORDER BY id FOR UPDATE SKIP LOCKED)
                RETURNING id, reference
                """, logger: db.logger)
            var swept: [(UUID, String)] = []
            for try await (id, reference) in rows.decode((UUID, String).self) { swept.append((id, reference)) }
            for (id, _) in swept {
                try await addEvent(id, status: .noResponse, on: day, note: "deadline passed", actor: actor, conn: conn)
                try await CooperationStore.applyAutomatic(letterID: id, noResponse: true, on: conn, logger: db.logger)
            }
            if !swept.isEmpty {
                let list = swept.map { "\"\($0.1)\"" }.joined(separator: ",")
                try await AuditLog.append(on: conn, actor: actor, action: "letter.no_response", entityType: "letter", entityID: nil,
                                          before: nil, after: "{\"day\": \"\(day)\", \"references\": [\(list)]}", logger: db.logger)
            }
            return swept.map(\.0)
        }
    }

    // MARK: Pieces

    public struct LoadedSupplier: Sendable {
        public var snapshot: LetterSnapshot.Supplier
        public var status: String
    }

    public func loadSupplier(_ id: UUID, on conn: PostgresConnection) async throws -> LoadedSupplier? {
        let rows = try await conn.query(
            """
            SELECT f.legal_name, f.aliases[1], f.sector, c.name, c.role, f.street, f.postal_code, f.city, f.country::text,
                   coalesce(c.email, f.email), f.registration_number, f.status, (SELECT s.names::text FROM sectors s WHERE s.code = f.sector)
            FROM facilitators f
            LEFT JOIN LATERAL (SELECT name, role, email FROM contact_points WHERE facilitator_id = f.id ORDER BY position LIMIT 1) c ON true
            WHERE f.id = \(id)
            """, logger: db.logger)
        for try await r in rows.decode((String, String?, String, String?, String?, String?, String?, String?, String, String?, String?, String, String?).self) {
            return LoadedSupplier(
                snapshot: .init(id: id.uuidString.lowercased(), name: r.0, tradingName: r.1, sector: r.2, contactName: r.3,
                                contactRole: r.4, street: r.5, postalCode: r.6, city: r.7, country: r.8, email: r.9,
                                registrationNumber: r.10, sectorNames: LetterSnapshot.Supplier.sectorNames(r.12)),
                status: r.11)
        }
        return nil
    }

    public struct LoadedAgency: Sendable {
        public var snapshot: LetterSnapshot.Agency
        public var responseDays: Int
    }

    public func loadAgency(_ id: UUID, on conn: PostgresConnection) async throws -> LoadedAgency {
        let rows = try await conn.query(
            """
            SELECT name, street, postal_code, city, country::text, email, phone, website, signatory_name, signatory_title, response_days
            FROM agencies WHERE id = \(id)
            """, logger: db.logger)
        for try await r in rows.decode((String, String?, String?, String?, String, String?, String?, String?, String?, String?, Int).self) {
            return LoadedAgency(
                snapshot: .init(name: r.0, street: r.1, postalCode: r.2, city: r.3, country: r.4, email: r.5, phone: r.6,
                                website: r.7, signatoryName: r.8, signatoryTitle: r.9),
                responseDays: r.10)
        }
        throw StoreError.notFound(entity: "agency", id: id.uuidString.lowercased())
    }

    /// The snapshot and template body of letter `id` as of now.
    func compose(_ id: UUID, reference: String?, on conn: PostgresConnection) async throws -> (LetterSnapshot, String, UUID) {
        let rows = try await conn.query(
            """
            SELECT l.facilitator_id, l.agency_id, l.kind, l.language, l.response_days, l.requested_deadline::text, t.body, t.id,
                   o.reference, o.letter_date::text, o.response_deadline::text, current_date::text, l.licensing_action_id
            FROM letters l JOIN letter_templates t ON t.id = l.template_id
            LEFT JOIN letters o ON o.id = l.reminder_of
            WHERE l.id = \(id)
            """, logger: db.logger)
        for try await r in rows.decode((UUID, UUID, String, String, Int, String?, String, UUID, String?, String?, String?, String, UUID?).self) {
            guard let supplier = try await loadSupplier(r.0, on: conn) else {
                throw StoreError.notFound(entity: "facilitator", id: r.0.uuidString.lowercased())
            }
            let agency = try await loadAgency(r.1, on: conn)
            let profile = try await ProcedureProfileStore(db).current(r.1, on: conn)
            let today = r.11
            let (deadline, days): (String, Int)
            switch LetterDeadline.resolve(today: today, requested: r.5, responseDays: r.4, rule: profile.profile.deadlines) {
            case .success(let resolved): (deadline, days) = (resolved.day, resolved.days)
            case .failure(let problem): throw StoreError.invalid([problem])
            }
            var original: LetterSnapshot.Original?
            if let ref = r.8, let date = r.9, let due = r.10 { original = .init(reference: ref, date: date, deadline: due) }
            let kind = LetterKind(rawValue: r.2)!
            var action: LetterSnapshot.Action?
            var record: LetterSnapshot.Record?
            var referral: LetterSnapshot.Referral?
            if let actionID = r.12 {
                action = try await actionSnapshot(actionID, kind: kind, responseDays: days, on: conn)
                record = try await recordSnapshot(actionID, kind: kind, on: conn)
                if kind == .referral {
                    guard let to = profile.profile.referral else {
                        throw StoreError.invalid([FieldError(field: "procedure_profile", message: "names no authority to refer to; an admin adds `referral` to the agency's procedure profile")])
                    }
                    let file = try await referralFile(actionID, on: conn)
                    referral = .init(body: to.body, address: to.address, file: file.letters)
                    record?.response = file.response
                }
            }
            let language = LetterLanguage(rawValue: r.3)!
            let law: LetterSnapshot.Law
            switch LetterSnapshot.Law.resolve(profile.profile, label: profile.label, kind: kind, language: language,
                                              actionType: action.flatMap { LicensingActionType(rawValue: $0.type) },
                                              postal: try await TaxonomyStore(db).letterRules(on: conn).isPostal(supplier.snapshot.sector),
                                              letterDate: today) {
            case .success(let resolved): law = resolved
            case .failure(let failure): throw StoreError.invalid(failure.errors)
            }
            let snapshot = LetterSnapshot(
                kind: kind, language: language, agency: agency.snapshot,
                supplier: supplier.snapshot, letter: .init(reference: reference, date: today, deadline: deadline, responseDays: days),
                original: original, action: action, law: law, record: record, referral: referral)
            return (snapshot, r.6, r.7)
        }
        throw StoreError.notFound(entity: "letter", id: id.uuidString.lowercased())
    }

    /// What a warning, notice of intent or decision notice cites from the record: the
    /// earliest of the agency's other letters that reached the supplier, the current
    /// version of each linked signal, and (decision notice) the notice of intent, the
    /// supplier's response to it and how it was weighed.
    func recordSnapshot(_ actionID: UUID, kind: LetterKind, on conn: PostgresConnection) async throws -> LetterSnapshot.Record {
        let rows = try await conn.query(
            """
            SELECT
                (SELECT json_build_object('reference', l.reference, 'date', l.letter_date, 'reached_on', coalesce(l.delivered_on, l.responded_on))::text
                 FROM letters l
                 WHERE l.agency_id = a.agency_id AND l.facilitator_id = a.facilitator_id AND l.reference IS NOT NULL
                   AND l.kind IN ('inform_call_to_action', 'reminder', 'warning') AND coalesce(l.delivered_on, l.responded_on) IS NOT NULL
                   AND l.licensing_action_id IS DISTINCT FROM a.id
                 ORDER BY coalesce(l.delivered_on, l.responded_on), l.created_at LIMIT 1),
                coalesce((SELECT json_agg(json_build_object('date', v.observed_on, 'type', v.type,
                                                            'summary', coalesce(i.label, v.indicator_text)) ORDER BY v.observed_on, v.signal_id)
                          FROM licensing_action_signals s
                          JOIN LATERAL (SELECT * FROM signal_versions x WHERE x.signal_id = s.signal_id ORDER BY x.version DESC LIMIT 1) v ON true
                          LEFT JOIN signal_indicators i ON i.code = v.indicator_code
                          WHERE s.action_id = a.id), '[]')::text,
                (SELECT json_build_object('reference', n.reference, 'date', n.letter_date, 'delivered_on', n.delivered_on,
                                          'deadline', n.response_deadline, 'responded_on', n.responded_on,
                                          'response_summary', n.response_summary)::text
                 FROM letters n WHERE n.licensing_action_id = a.id AND n.kind = 'notice_of_intent' AND n.reference IS NOT NULL
                 ORDER BY n.created_at DESC LIMIT 1),
                a.consideration
            FROM licensing_actions a WHERE a.id = \(actionID)
            """, logger: db.logger)
        func object(_ text: String?) -> [String: Any]? {
            text.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
        for try await (earlier, signals, notice, consideration) in rows.decode((String?, String, String?, String?).self) {
            var record = LetterSnapshot.Record()
            if let e = object(earlier), let reference = e["reference"] as? String, let date = e["date"] as? String,
               let reached = e["reached_on"] as? String {
                record.earlier = .init(reference: reference, date: date, reachedOn: reached)
            }
            let lines = (try? JSONSerialization.jsonObject(with: Data(signals.utf8)) as? [[String: Any]]) ?? []
            record.signals = lines.compactMap { line in
                guard let date = line["date"] as? String, let type = line["type"] as? String else { return nil }
                return .init(date: date, type: type, summary: line["summary"] as? String ?? "")
            }
            if kind == .decisionNotice, let n = object(notice), let reference = n["reference"] as? String, let date = n["date"] as? String,
               let deadline = n["deadline"] as? String {
                record.noticeOfIntent = .init(reference: reference, date: date, deliveredOn: n["delivered_on"] as? String, deadline: deadline)
                if let responded = n["responded_on"] as? String {
                    record.response = .init(receivedOn: responded, summary: n["response_summary"] as? String ?? "")
                }
                record.consideration = consideration
            }
            return record
        }
        throw StoreError.notFound(entity: "licensing action", id: actionID.uuidString.lowercased())
    }

    /// The file a referral encloses: every letter the agency sent the supplier (its
    /// reference, kind, date and the day it arrived), and the supplier's latest response.
    func referralFile(_ actionID: UUID, on conn: PostgresConnection) async throws -> (letters: [LetterSnapshot.Referral.FileLetter], response: LetterSnapshot.Record.Response?) {
        var letters: [LetterSnapshot.Referral.FileLetter] = []
        var response: LetterSnapshot.Record.Response?
        let rows = try await conn.query(
            """
            SELECT l.kind, l.reference, l.letter_date::text, coalesce(l.delivered_on, l.responded_on)::text, l.responded_on::text, l.response_summary
            FROM licensing_actions a JOIN letters l ON l.agency_id = a.agency_id AND l.facilitator_id = a.facilitator_id
            WHERE a.id = \(actionID) AND l.reference IS NOT NULL AND l.kind <> 'referral'
            ORDER BY l.letter_date, l.created_at
            """, logger: db.logger)
        for try await (kind, reference, date, reached, responded, summary) in rows.decode((String, String, String, String?, String?, String?).self) {
            letters.append(.init(kind: LetterKind(rawValue: kind)!, reference: reference, date: date, reachedOn: reached))
            if let responded { response = .init(receivedOn: responded, summary: summary ?? "") }
        }
        return (letters, response)
    }

    /// What a warning, notice of intent or decision notice says about its action.
    func actionSnapshot(_ actionID: UUID, kind: LetterKind, responseDays: Int, on conn: PostgresConnection) async throws -> LetterSnapshot.Action {
        let rows = try await conn.query(
            """
            SELECT a.type, a.legal_basis, a.rationale, a.conditions, a.amount_minor, a.currency, a.effective_from::text,
                   a.effective_to::text, a.decided_on::text, g.appeal_days, a.ladder_justification
            FROM licensing_actions a JOIN agencies g ON g.id = a.agency_id WHERE a.id = \(actionID)
            """, logger: db.logger)
        for try await r in rows.decode((String, String, String, String?, Int64?, String?, String?, String?, String?, Int, String?).self) {
            var action = LetterSnapshot.Action(
                type: r.0, legalBasis: r.1, rationale: r.2, conditions: r.3, amountMinor: r.4, currency: r.5, effectiveFrom: r.6,
                effectiveTo: r.7, responseDays: kind == .noticeOfIntent ? responseDays : nil,
                appealDays: kind == .noticeOfIntent ? nil : r.9, decidedOn: r.8)
            if kind == .decisionNotice { action.ladderJustification = r.10 }
            return action
        }
        throw StoreError.notFound(entity: "licensing action", id: actionID.uuidString.lowercased())
    }

    func freeze(_ id: UUID, snapshot: LetterSnapshot, rendered: RenderedLetter, actor: Actor, on conn: PostgresConnection) async throws {
        let userID = actor.userID.flatMap(UUID.init(uuidString:))
        let layout = renderer.layoutSHA256[snapshot.language]!
        try await conn.query(
            """
            UPDATE letters SET status = 'approved', reference = \(snapshot.letter.reference), letter_date = \(snapshot.letter.date)::date,
                response_deadline = \(snapshot.letter.deadline)::date, snapshot = \(try snapshot.encoded())::jsonb,
                subject = \(rendered.subject), html = \(rendered.html), text_body = \(rendered.text),
                html_sha256 = \(rendered.htmlSHA256), text_sha256 = \(rendered.textSHA256), layout_sha256 = \(layout),
                approved_at = now(), approved_by = \(userID), updated_at = now(), updated_by = \(userID), version = version + 1
            WHERE id = \(id)
            """, logger: db.logger)
    }

    func document(_ id: UUID, on conn: PostgresConnection) async throws -> Record {
        let rows = try await conn.query(
            "SELECT document::text, version, document->>'reference' FROM letter_documents WHERE id = \(id)", logger: db.logger)
        for try await (json, version, reference) in rows.decode((String, Int, String?).self) {
            return Record(id: id, json: json, version: version, reference: reference)
        }
        throw StoreError.notFound(entity: "letter", id: id.uuidString.lowercased())
    }

    func addEvent(_ id: UUID, status: LetterStatus, on day: String, note: String?, actor: Actor, conn: PostgresConnection) async throws {
        let userID = actor.userID.flatMap(UUID.init(uuidString:))
        try await conn.query(
            """
            INSERT INTO letter_events (letter_id, seq, status, occurred_on, recorded_by, note)
            SELECT \(id), coalesce(max(seq), 0) + 1, \(status.rawValue), \(day)::date, \(userID), \(note)
            FROM letter_events WHERE letter_id = \(id)
            """, logger: db.logger)
    }

    /// Takes `count` consecutive reference numbers of `year`. The counter row
    /// stays locked until the transaction ends, so numbers are gapless: a
    /// rolled-back approval gives its numbers back.
    static func reserveReferences(_ count: Int, year: Int, on conn: PostgresConnection, logger: Logger) async throws -> [String] {
        let rows = try await conn.query(
            """
            INSERT INTO letter_reference_counters (year, last_number) VALUES (\(year), \(count))
            ON CONFLICT (year) DO UPDATE SET last_number = letter_reference_counters.last_number + \(count)
            RETURNING last_number
            """, logger: logger)
        for try await last in rows.decode(Int.self) {
            return ((last - count + 1)...last).map { LetterReference.format(year: year, number: $0) }
        }
        throw StoreError.conflict("no reference number was reserved")
    }

    static func today(on conn: PostgresConnection, logger: Logger) async throws -> String {
        for try await day in try await conn.query("SELECT current_date::text", logger: logger).decode(String.self) { return day }
        throw StoreError.conflict("the database gave no date")
    }

    /// Date arithmetic is Core's (`ISODay`); this keeps the stores' call sites short.
    static func day(_ iso: String, plus days: Int) -> String { ISODay.adding(days, to: iso) ?? iso }
}

/// A file kept as a record (a supplier's answer, a signal's evidence): stored
/// once with its SHA-256, its type checked against its bytes, its size limited.
public struct UploadedDocument: Sendable {
    public static let maxBytes = 20 * 1024 * 1024
    public static let allowedTypes: Set<String> = [
        "application/pdf", "text/plain", "image/png", "image/jpeg", "message/rfc822",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ]

    public var name: String
    public var contentType: String
    public var bytes: Data
    public var sha256: Data { Data(SHA256.hash(data: bytes)) }

    public init(name: String, contentType: String, bytes: Data) {
        self.name = name
        self.contentType = contentType
        self.bytes = bytes
    }

    public func problems() -> [FieldError] {
        var errors = FieldErrors()
        if bytes.isEmpty { errors.add("document", "is empty") }
        if bytes.count > Self.maxBytes { errors.add("document", "is larger than \(Self.maxBytes / 1024 / 1024) MB") }
        if !Self.allowedTypes.contains(contentType) {
            errors.add("document", "has content type \(contentType); use one of \(Self.allowedTypes.sorted().joined(separator: ", "))")
        } else if contentType == "application/pdf" && !bytes.starts(with: Data("%PDF".utf8)) {
            errors.add("document", "is declared as a PDF but is not one")
        }
        if name.isEmpty || name.count > 200 || name.contains(where: { "/\\\"".contains($0) || $0.isNewline || ($0.asciiValue ?? 32) < 32 }) {
            errors.add("document", "needs a file name of at most 200 characters, without /, \\, \" or control characters")
        }
        return errors.errors
    }
}

extension Data {
    /// Lowercase hex, without String(format:), which is slow enough to show in a campaign's profile.
    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
