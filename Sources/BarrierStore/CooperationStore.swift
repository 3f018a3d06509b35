import BarrierCore
import Foundation
import PostgresNIO

/// Each supplier's cooperation level and its history, the contacts log, and
/// the measures suppliers commit to. Every change is audited in its transaction.
public struct CooperationStore: Sendable {
    let db: Database

    public init(_ db: Database) { self.db = db }

    // MARK: Level

    /// The current level (not_contacted when never changed), its version and the full history.
    public func level(_ facilitatorID: UUID) async throws -> (json: String, version: Int) {
        try await db.transaction { conn in try await levelDocument(facilitatorID, on: conn) }
    }

    func levelDocument(_ facilitatorID: UUID, on conn: PostgresConnection) async throws -> (json: String, version: Int) {
        let rows = try await conn.query(
            """
            SELECT json_build_object(
                'facilitator_id', f.id, 'level', coalesce(l.level, 'not_contacted'), 'since', l.since, 'version', coalesce(l.version, 0),
                'history', coalesce((SELECT json_agg(json_build_object('from', c.from_level, 'to', c.to_level, 'reason', c.reason,
                        'letter_id', c.letter_id, 'contact_id', c.contact_id, 'changed_at', c.changed_at, 'changed_by', c.changed_by,
                        'automatic', c.automatic) ORDER BY c.seq)
                    FROM cooperation_changes c WHERE c.agency_id = current_agency() AND c.facilitator_id = f.id), '[]'::json))::text,
                coalesce(l.version, 0)
            FROM facilitators f LEFT JOIN cooperation_levels l ON l.agency_id = current_agency() AND l.facilitator_id = f.id WHERE f.id = \(facilitatorID)
            """, logger: db.logger)
        for try await (json, version) in rows.decode((String, Int).self) { return (json, version) }
        throw StoreError.notFound(entity: "facilitator", id: facilitatorID.uuidString.lowercased())
    }

    /// The level, locked for the rest of the transaction.
    static func current(_ facilitatorID: UUID, on conn: PostgresConnection, logger: Logger) async throws -> (CooperationLevel, Int) {
        // Lock the supplier row, so a first change (no level row yet) is serialised too.
        var exists = false
        for try await _ in try await conn.query("SELECT id FROM facilitators WHERE id = \(facilitatorID) FOR UPDATE", logger: logger).decode(UUID.self) {
            exists = true
        }
        guard exists else { throw StoreError.notFound(entity: "facilitator", id: facilitatorID.uuidString.lowercased()) }
        for try await (level, version) in try await conn.query(
            "SELECT level, version FROM cooperation_levels WHERE agency_id = current_agency() AND facilitator_id = \(facilitatorID)", logger: logger).decode((String, Int).self) {
            return (CooperationLevel(rawValue: level) ?? .notContacted, version)
        }
        return (.notContacted, 0)
    }

    /// Writes a change of level with its history row and audit event.
    static func write(_ facilitatorID: UUID, from: CooperationLevel, to: CooperationLevel, reason: String, letterID: UUID?,
                      contactID: UUID?, automatic: Bool, actor: Actor, on conn: PostgresConnection, logger: Logger) async throws {
        let userID = actor.userID.flatMap(UUID.init(uuidString:))
        try await conn.query(
            """
            INSERT INTO cooperation_levels (facilitator_id, level, since) VALUES (\(facilitatorID), \(to.rawValue), now())
            ON CONFLICT (agency_id, facilitator_id) DO UPDATE SET level = excluded.level, since = excluded.since,
                version = cooperation_levels.version + 1
            """, logger: logger)
        try await conn.query(
            """
            INSERT INTO cooperation_changes (facilitator_id, from_level, to_level, reason, letter_id, contact_id, changed_by, automatic)
            VALUES (\(facilitatorID), \(from.rawValue), \(to.rawValue), \(reason), \(letterID), \(contactID), \(userID), \(automatic))
            """, logger: logger)
        try await AuditLog.append(
            on: conn, actor: actor, action: "cooperation.change", entityType: "facilitator", entityID: facilitatorID.uuidString.lowercased(),
            before: "{\"level\": \"\(from.rawValue)\"}",
            after: "{\"level\": \"\(to.rawValue)\", \"reason\": \(jsonString(reason)), \"automatic\": \(automatic)"
                + (letterID.map { ", \"letter_id\": \"\($0.uuidString.lowercased())\"" } ?? "")
                + (contactID.map { ", \"contact_id\": \"\($0.uuidString.lowercased())\"" } ?? "") + "}",
            logger: logger)
    }

    /// What a letter's delivery or lapse does to its supplier's level, inside the letter's transaction.
    static func applyAutomatic(letterID: UUID, noResponse: Bool, on conn: PostgresConnection, logger: Logger) async throws {
        for try await (facilitatorID, kind, reference) in try await conn.query(
            "SELECT facilitator_id, kind, reference FROM letters WHERE id = \(letterID)", logger: logger).decode((UUID, String, String?).self) {
            guard let kind = LetterKind(rawValue: kind) else { return }
            let (current, _) = try await Self.current(facilitatorID, on: conn, logger: logger)
            let next = noResponse ? CooperationLevel.afterNoResponse(of: kind, current: current)
                                  : CooperationLevel.afterDelivery(of: kind, current: current)
            guard let next else { return }
            let reason = noResponse ? "letter \(reference ?? "") was not answered by its deadline"
                                    : "letter \(reference ?? "") reached the supplier"
            try await write(facilitatorID, from: current, to: next, reason: reason, letterID: letterID, contactID: nil, automatic: true,
                            actor: Actor(userID: nil, agencyID: nil, label: "system:cooperation"), on: conn, logger: logger)
        }
    }

    /// An officer's change of level, with the reason and what it rests on.
    public func change(_ facilitatorID: UUID, to level: CooperationLevel, reason: String, letterID: UUID? = nil, contactID: UUID? = nil,
                       expectedVersion: Int, actor: Actor) async throws -> (json: String, version: Int) {
        try await db.transaction { conn in
            // Load the case (the supplier row locked, so a first change is serialised too), ask Core, save.
            var loaded: CooperationChangeCase?
            for try await r in try await conn.query(
                """
                SELECT coalesce(l.level, 'not_contacted'), coalesce(l.version, 0),
                       CASE WHEN \(letterID)::uuid IS NULL THEN NULL
                            ELSE EXISTS (SELECT 1 FROM letters t WHERE t.id = \(letterID) AND t.facilitator_id = f.id
                                         AND t.agency_id = current_agency()) END,
                       CASE WHEN \(contactID)::uuid IS NULL THEN NULL
                            ELSE EXISTS (SELECT 1 FROM supplier_contacts c WHERE c.id = \(contactID) AND c.facilitator_id = f.id
                                         AND c.agency_id = current_agency()) END
                FROM facilitators f LEFT JOIN cooperation_levels l ON l.agency_id = current_agency() AND l.facilitator_id = f.id
                WHERE f.id = \(facilitatorID) FOR UPDATE OF f
                """, logger: db.logger).decode((String, Int, Bool?, Bool?).self) {
                loaded = CooperationChangeCase(level: CooperationLevel(rawValue: r.0) ?? .notContacted, version: r.1,
                                               letterIsTheSuppliers: r.2, contactIsTheSuppliers: r.3)
            }
            guard let loaded else { throw StoreError.notFound(entity: "facilitator", id: facilitatorID.uuidString.lowercased()) }
            switch CooperationChange.refusal(loaded, to: level, reason: reason, expectedVersion: expectedVersion) {
            case nil: break
            case .versionConflict(let current): throw StoreError.versionConflict(current: current)
            case .invalid(let problems): throw StoreError.invalid(problems)
            }
            let current = loaded.level
            try await Self.write(facilitatorID, from: current, to: level, reason: reason, letterID: letterID, contactID: contactID,
                                 automatic: false, actor: actor, on: conn, logger: db.logger)
            return try await levelDocument(facilitatorID, on: conn)
        }
    }

    /// 404 for an id that is no registered supplier.
    public func requireSupplier(_ facilitatorID: UUID) async throws {
        for try await _ in try await db.query("SELECT id FROM facilitators WHERE id = \(facilitatorID)").decode(UUID.self) {
            return
        }
        throw StoreError.notFound(entity: "facilitator", id: facilitatorID.uuidString.lowercased())
    }

    // MARK: Contacts log

    /// Logs a contact, as one use case: the supplier locked (404 first), Core's
    /// `ContactLog`, the contact saved with its audit event.
    public func addContact(_ facilitatorID: UUID, kind: ContactKind, on day: String, participants: [String], notes: String,
                           actor: Actor) async throws -> String {
        try await db.transaction { conn in
            _ = try await Self.current(facilitatorID, on: conn, logger: db.logger)
            let today = try await LetterStore.today(on: conn, logger: db.logger)
            let problems = ContactLog.problems(on: day, participants: participants, notes: notes, today: today)
            if !problems.isEmpty { throw StoreError.invalid(problems) }
            let userID = actor.userID.flatMap(UUID.init(uuidString:))
            let rows = try await conn.query(
                """
                INSERT INTO supplier_contacts (facilitator_id, kind, occurred_on, participants, notes, created_by)
                VALUES (\(facilitatorID), \(kind.rawValue), \(day)::date, \(participants), \(notes), \(userID))
                RETURNING id, json_build_object('id', id, 'facilitator_id', facilitator_id, 'kind', kind, 'occurred_on', occurred_on,
                    'participants', participants, 'notes', notes, 'created_at', created_at, 'created_by', created_by)::text
                """, logger: db.logger)
            for try await (id, json) in rows.decode((UUID, String).self) {
                try await AuditLog.append(on: conn, actor: actor, action: "contact.create", entityType: "supplier_contact",
                                          entityID: id.uuidString.lowercased(), before: nil, after: json, logger: db.logger)
                return json
            }
            throw StoreError.conflict("the contact was not stored")
        }
    }

    public func contacts(_ facilitatorID: UUID) async throws -> String {
        let rows = try await db.query(
            """
            SELECT coalesce(json_agg(json_build_object('id', id, 'facilitator_id', facilitator_id, 'kind', kind, 'occurred_on', occurred_on,
                'participants', participants, 'notes', notes, 'created_at', created_at, 'created_by', created_by)
                ORDER BY occurred_on DESC, created_at DESC), '[]'::json)::text
            FROM supplier_contacts WHERE agency_id = current_agency() AND facilitator_id = \(facilitatorID)
            """)
        for try await json in rows.decode(String.self) { return json }
        return "[]"
    }

    // MARK: Measures

    /// The catalogue, or the measures that apply to `sector`.
    public func catalogue(sector: String? = nil) async throws -> String {
        let rows = try await db.query(
            """
            SELECT coalesce(json_agg(json_build_object('code', code, 'label', label, 'description', description, 'sectors', sectors)
                ORDER BY code), '[]'::json)::text
            FROM measures WHERE \(sector)::text IS NULL OR sectors = '{}' OR \(sector) = ANY(sectors)
            """)
        for try await json in rows.decode(String.self) { return json }
        return "[]"
    }

    /// Records a commitment, as one use case: the supplier locked (404 first),
    /// the case loaded in one statement, Core's `NewCommitment`, the commitment
    /// saved with its audit event.
    public func commit(_ facilitatorID: UUID, measure: String, committedOn: String, dueOn: String, letterID: UUID? = nil,
                       notes: String = "", actor: Actor) async throws -> (json: String, version: Int) {
        try await db.transaction { conn in
            _ = try await Self.current(facilitatorID, on: conn, logger: db.logger)
            var loaded: NewCommitmentCase?
            for try await r in try await conn.query(
                """
                SELECT EXISTS (SELECT 1 FROM measures WHERE code = \(measure)),
                       CASE WHEN \(letterID)::uuid IS NOT NULL
                            THEN EXISTS (SELECT 1 FROM letters WHERE id = \(letterID) AND facilitator_id = \(facilitatorID)
                                         AND agency_id = current_agency()) END,
                       EXISTS (SELECT 1 FROM measure_commitments
                               WHERE agency_id = current_agency() AND facilitator_id = \(facilitatorID) AND measure_code = \(measure)),
                       current_date::text
                """, logger: db.logger).decode((Bool, Bool?, Bool, String).self) {
                loaded = NewCommitmentCase(measureKnown: r.0, letterIsTheSuppliers: r.1, alreadyCommitted: r.2, today: r.3)
            }
            switch NewCommitment.refusal(loaded!, measure: measure, committedOn: committedOn, dueOn: dueOn, notes: notes) {
            case nil: break
            case .invalid(let problems): throw StoreError.invalid(problems)
            case .alreadyCommitted(let measure): throw StoreError.conflict("the supplier has already committed to \(measure); update that commitment")
            }
            let userID = actor.userID.flatMap(UUID.init(uuidString:))
            let rows = try await conn.query(
                """
                INSERT INTO measure_commitments (facilitator_id, measure_code, committed_on, due_on, letter_id, notes, created_by)
                VALUES (\(facilitatorID), \(measure), \(committedOn)::date, \(dueOn)::date, \(letterID), \(notes), \(userID))
                RETURNING id
                """, logger: db.logger)
            var id: UUID?
            for try await found in rows.decode(UUID.self) { id = found }
            guard let id else { throw StoreError.conflict("the commitment was not stored") }
            let record = try await commitment(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "measure.commit", entityType: "measure_commitment",
                                      entityID: id.uuidString.lowercased(), before: nil, after: record.json, logger: db.logger)
            return record
        }
    }

    /// Records that a commitment was implemented, or verified (by whom, when, how).
    public func record(_ id: UUID, status: MeasureStatus, on day: String, method: String? = nil, expectedVersion: Int,
                       actor: Actor) async throws -> (json: String, version: Int) {
        try await db.transaction { conn in
            // Load the case (locked), ask Core, save the step.
            var loaded: CommitmentCase?
            for try await r in try await conn.query(
                """
                SELECT status, version, greatest(committed_on, implemented_on)::text, current_date::text
                FROM measure_commitments WHERE id = \(id) FOR UPDATE
                """, logger: db.logger).decode((String, Int, String, String).self) {
                loaded = CommitmentCase(status: MeasureStatus(rawValue: r.0) ?? .committed, version: r.1, earliest: r.2, today: r.3)
            }
            guard let loaded else { throw StoreError.notFound(entity: "measure commitment", id: id.uuidString.lowercased()) }
            switch CommitmentStep.refusal(loaded, to: status, on: day, method: method, expectedVersion: expectedVersion) {
            case nil: break
            case .versionConflict(let current): throw StoreError.versionConflict(current: current)
            case .transition(let from, let allowed):
                throw StoreError.transition(entity: "measure commitment", from: from.rawValue, to: status.rawValue, allowed: allowed.map(\.rawValue))
            case .invalid(let problems): throw StoreError.invalid(problems)
            }
            let before = try await commitment(id, on: conn)
            let userID = actor.userID.flatMap(UUID.init(uuidString:))
            if status == .implemented {
                try await conn.query(
                    "UPDATE measure_commitments SET status = 'implemented', implemented_on = \(day)::date, version = version + 1 WHERE id = \(id)",
                    logger: db.logger)
            } else {
                try await conn.query(
                    """
                    UPDATE measure_commitments SET status = 'verified', verified_on = \(day)::date, verified_by = \(userID),
                        verifier = \(actor.label), verification_method = \(method), version = version + 1 WHERE id = \(id)
                    """, logger: db.logger)
            }
            let after = try await commitment(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "measure.\(status.rawValue)", entityType: "measure_commitment",
                                      entityID: id.uuidString.lowercased(), before: before.json, after: after.json, logger: db.logger)
            return after
        }
    }

    func commitment(_ id: UUID, on conn: PostgresConnection) async throws -> (json: String, version: Int) {
        for try await row in try await conn.query(
            "SELECT document::text, version FROM measure_commitment_documents WHERE id = \(id)", logger: db.logger).decode((String, Int).self) {
            return row
        }
        throw StoreError.notFound(entity: "measure commitment", id: id.uuidString.lowercased())
    }

    public func commitmentVersion(_ id: UUID) async throws -> Int {
        try await db.transaction { conn in try await commitment(id, on: conn).version }
    }

    public func commitments(_ facilitatorID: UUID) async throws -> String {
        let rows = try await db.query(
            """
            SELECT coalesce(json_agg(d.document ORDER BY c.due_on, c.id), '[]'::json)::text
            FROM measure_commitment_documents d JOIN measure_commitments c ON c.id = d.id WHERE c.agency_id = current_agency() AND c.facilitator_id = \(facilitatorID)
            """)
        for try await json in rows.decode(String.self) { return json }
        return "[]"
    }
}
