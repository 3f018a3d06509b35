import BarrierCore
import Foundation
import PostgresNIO

/// Action plans: objectives, measures, a coordinating partner, indicators
/// measured from the registry (or by hand) against their targets, and the
/// evaluation dates. Every change is audited.
public struct ActionPlanStore: Sendable {
    let db: Database

    public init(_ db: Database) { self.db = db }

    public struct Record: Sendable {
        public var id: UUID
        public var json: String
        public var version: Int
    }

    public func get(_ id: UUID) async throws -> Record {
        let rows = try await db.query("SELECT document::text, version FROM action_plan_documents WHERE id = \(id)")
        for try await (json, version) in rows.decode((String, Int).self) { return Record(id: id, json: json, version: version) }
        throw StoreError.notFound(entity: "action plan", id: id.uuidString.lowercased())
    }

    /// Every plan, the latest start first.
    public func list() async throws -> [String] {
        var items: [String] = []
        let rows = try await db.query(
            "SELECT d.document::text FROM action_plan_documents d JOIN action_plans p ON p.id = d.id ORDER BY p.starts_on DESC, p.id")
        for try await json in rows.decode(String.self) { items.append(json) }
        return items
    }

    public func create(_ draft: ActionPlanDraft, agencyID: UUID, actor: Actor, knownProblems: [FieldError] = []) async throws -> Record {
        try await db.transaction { conn in
            var problems = knownProblems + draft.problems(knownSectors: try await TaxonomyStore(db).codes(.sectors, on: conn))
            var coordinator: UUID?
            if !draft.coordinatingAgency.allSatisfy(\.isWhitespace) {
                coordinator = try await self.coordinator(draft.coordinatingAgency, on: conn)
                if coordinator == nil { problems.append(FieldError(field: "coordinating_agency", message: "no agency with this id or name")) }
            }
            if !problems.isEmpty { throw StoreError.invalid(problems) }
            let id = UUID()
            try await conn.query(
                """
                INSERT INTO action_plans (id, agency_id, title, description, coordinating_agency_id, starts_on, ends_on, evaluation_dates, created_by)
                VALUES (\(id), \(agencyID), \(draft.title), \(draft.description), \(coordinator!), \(draft.startsOn)::date, \(draft.endsOn)::date,
                        \(draft.evaluationDates.sorted())::date[], \(actor.userID.flatMap(UUID.init(uuidString:))))
                """, logger: db.logger)
            for (i, text) in draft.objectives.enumerated() {
                try await conn.query("INSERT INTO action_plan_objectives (plan_id, position, text) VALUES (\(id), \(i), \(text))", logger: db.logger)
            }
            for (i, m) in draft.measures.enumerated() {
                try await conn.query(
                    """
                    INSERT INTO action_plan_measures (plan_id, position, objective, description, responsible, due_on)
                    VALUES (\(id), \(i), \(m.objective), \(m.description), \(m.responsible), \(m.dueOn)::date)
                    """, logger: db.logger)
            }
            for (i, x) in draft.indicators.enumerated() {
                try await conn.query(
                    """
                    INSERT INTO action_plan_indicators (plan_id, position, objective, name, metric, sector, country, target, baseline)
                    VALUES (\(id), \(i), \(x.objective), \(x.name), \(x.metric.rawValue), \(x.sector), \(x.country),
                            \(String(x.target))::numeric, \(x.baseline.map { String($0) })::numeric)
                    """, logger: db.logger)
            }
            let record = try await document(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "action_plan.create", entityType: "action_plan",
                                      entityID: id.uuidString.lowercased(), before: nil, after: record.json, logger: db.logger)
            return record
        }
    }

    /// Records the measured value of an indicator followed by hand.
    public func recordMeasurement(_ id: UUID, indicator: Int, value: Double, on day: String, expectedVersion: Int, actor: Actor) async throws -> Record {
        try await change(id, .measurement(indicator: indicator, value: value, on: day), expectedVersion: expectedVersion, actor: actor,
                         action: "action_plan.measure") { conn in
            try await conn.query(
                """
                UPDATE action_plan_indicators SET measured = \(String(value))::numeric, measured_on = \(day)::date
                WHERE plan_id = \(id) AND position = \(indicator)
                """, logger: db.logger)
        }
    }

    /// Moves a measure of the plan to `status`.
    public func setMeasureStatus(_ id: UUID, measure: Int, status: PlanMeasureStatus, expectedVersion: Int, actor: Actor) async throws -> Record {
        try await change(id, .measureStatus(measure: measure, status: status), expectedVersion: expectedVersion, actor: actor,
                         action: "action_plan.measure_status") { conn in
            try await conn.query(
                "UPDATE action_plan_measures SET status = \(status.rawValue) WHERE plan_id = \(id) AND position = \(measure)", logger: db.logger)
        }
    }

    /// Rewrites a plan (its title, description, coordinator, period, evaluation
    /// dates, objectives, measures and indicators) as one step: measures keep their
    /// status and manual indicators their measured value at the same position.
    public func revise(_ id: UUID, _ draft: ActionPlanDraft, expectedVersion: Int, actor: Actor) async throws -> Record {
        try await change(id, .revision(draft), expectedVersion: expectedVersion, actor: actor, action: "action_plan.revise") { conn in
            guard let coordinator = try await coordinator(draft.coordinatingAgency, on: conn) else {
                throw StoreError.invalid([FieldError(field: "coordinating_agency", message: "no agency with this id or name")])
            }
            try await conn.query(
                """
                UPDATE action_plans SET title = \(draft.title), description = \(draft.description), coordinating_agency_id = \(coordinator),
                    starts_on = \(draft.startsOn)::date, ends_on = \(draft.endsOn)::date, evaluation_dates = \(draft.evaluationDates.sorted())::date[]
                WHERE id = \(id)
                """, logger: db.logger)
            // Objectives are referred to by position: references are cleared, the lists rewritten, then set again.
            try await conn.query("UPDATE action_plan_measures SET objective = NULL WHERE plan_id = \(id)", logger: db.logger)
            try await conn.query("UPDATE action_plan_indicators SET objective = NULL WHERE plan_id = \(id)", logger: db.logger)
            try await conn.query("DELETE FROM action_plan_measures WHERE plan_id = \(id) AND position >= \(draft.measures.count)", logger: db.logger)
            try await conn.query("DELETE FROM action_plan_indicators WHERE plan_id = \(id) AND position >= \(draft.indicators.count)", logger: db.logger)
            try await conn.query("DELETE FROM action_plan_objectives WHERE plan_id = \(id) AND position >= \(draft.objectives.count)", logger: db.logger)
            for (i, text) in draft.objectives.enumerated() {
                try await conn.query(
                    """
                    INSERT INTO action_plan_objectives (plan_id, position, text) VALUES (\(id), \(i), \(text))
                    ON CONFLICT (plan_id, position) DO UPDATE SET text = EXCLUDED.text
                    """, logger: db.logger)
            }
            for (i, m) in draft.measures.enumerated() {
                try await conn.query(
                    """
                    INSERT INTO action_plan_measures (plan_id, position, objective, description, responsible, due_on)
                    VALUES (\(id), \(i), \(m.objective), \(m.description), \(m.responsible), \(m.dueOn)::date)
                    ON CONFLICT (plan_id, position) DO UPDATE SET objective = EXCLUDED.objective, description = EXCLUDED.description,
                        responsible = EXCLUDED.responsible, due_on = EXCLUDED.due_on
                    """, logger: db.logger)
            }
            for (i, x) in draft.indicators.enumerated() {
                try await conn.query(
                    """
                    INSERT INTO action_plan_indicators AS i (plan_id, position, objective, name, metric, sector, country, target, baseline)
                    VALUES (\(id), \(i), \(x.objective), \(x.name), \(x.metric.rawValue), \(x.sector), \(x.country),
                            \(String(x.target))::numeric, \(x.baseline.map { String($0) })::numeric)
                    ON CONFLICT (plan_id, position) DO UPDATE SET objective = EXCLUDED.objective, name = EXCLUDED.name, metric = EXCLUDED.metric,
                        sector = EXCLUDED.sector, country = EXCLUDED.country, target = EXCLUDED.target, baseline = EXCLUDED.baseline,
                        measured = CASE WHEN EXCLUDED.metric = 'manual' AND i.metric = 'manual' THEN i.measured END,
                        measured_on = CASE WHEN EXCLUDED.metric = 'manual' AND i.metric = 'manual' THEN i.measured_on END
                    """, logger: db.logger)
            }
        }
    }

    /// The coordinating agency named by id or name.
    func coordinator(_ nameOrID: String, on conn: PostgresConnection) async throws -> UUID? {
        let rows = try await conn.query(
            "SELECT id FROM agencies WHERE id = \(UUID(uuidString: nameOrID)) OR lower(name) = lower(\(nameOrID))", logger: db.logger)
        for try await found in rows.decode(UUID.self) { return found }
        return nil
    }

    /// One step, as one use case: the plan locked with what the step names in
    /// one statement, Core's `ActionPlanStep`, then `save`, the new version and the audit event.
    func change(_ id: UUID, _ step: ActionPlanStep, expectedVersion: Int, actor: Actor, action: String,
                save: (PostgresConnection) async throws -> Void) async throws -> Record {
        try await db.transaction { conn in
            let (indicator, measure): (Int?, Int?)
            switch step {
            case .measurement(let i, _, _): (indicator, measure) = (i, nil)
            case .measureStatus(let m, _): (indicator, measure) = (nil, m)
            case .revision: (indicator, measure) = (nil, nil)
            }
            var loaded: ActionPlanStepCase?
            let sectors = try await TaxonomyStore(db).codes(.sectors, on: conn)
            for try await r in try await conn.query(
                """
                SELECT p.version, current_date::text,
                       (SELECT i.metric FROM action_plan_indicators i WHERE i.plan_id = p.id AND i.position = \(indicator)),
                       EXISTS (SELECT 1 FROM action_plan_measures m WHERE m.plan_id = p.id AND m.position = \(measure))
                FROM action_plans p WHERE p.id = \(id) FOR UPDATE OF p
                """, logger: db.logger).decode((Int, String, String?, Bool).self) {
                loaded = ActionPlanStepCase(version: r.0, today: r.1, metric: r.2.flatMap(IndicatorMetric.init(rawValue:)), measureExists: r.3,
                                            knownSectors: sectors)
            }
            guard let loaded else { throw StoreError.notFound(entity: "action plan", id: id.uuidString.lowercased()) }
            switch step.refusal(loaded, expectedVersion: expectedVersion) {
            case nil: break
            case .versionConflict(let current): throw StoreError.versionConflict(current: current)
            case .indicatorNotFound(let position): throw StoreError.notFound(entity: "indicator", id: "\(position)")
            case .measureNotFound(let position): throw StoreError.notFound(entity: "measure", id: "\(position)")
            case .invalid(let problems): throw StoreError.invalid(problems)
            }
            let before = try await document(id, on: conn)
            try await save(conn)
            try await conn.query("UPDATE action_plans SET version = version + 1 WHERE id = \(id)", logger: db.logger)
            let after = try await document(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: action, entityType: "action_plan",
                                      entityID: id.uuidString.lowercased(), before: before.json, after: after.json, logger: db.logger)
            return after
        }
    }

    func document(_ id: UUID, on conn: PostgresConnection) async throws -> Record {
        let rows = try await conn.query("SELECT document::text, version FROM action_plan_documents WHERE id = \(id)", logger: db.logger)
        for try await (json, version) in rows.decode((String, Int).self) { return Record(id: id, json: json, version: version) }
        throw StoreError.notFound(entity: "action plan", id: id.uuidString.lowercased())
    }
}
