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
            var problems = knownProblems + draft.problems()
            var coordinator: UUID?
            if !draft.coordinatingAgency.allSatisfy(\.isWhitespace) {
                let id = UUID(uuidString: draft.coordinatingAgency)
                for try await found in try await conn.query(
                    "SELECT id FROM agencies WHERE id = \(id) OR lower(name) = lower(\(draft.coordinatingAgency))", logger: db.logger).decode(UUID.self) {
                    coordinator = found
                }
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

    /// One step, as one use case: the plan locked with what the step names in
    /// one statement, Core's `ActionPlanStep`, then `save`, the new version and the audit event.
    func change(_ id: UUID, _ step: ActionPlanStep, expectedVersion: Int, actor: Actor, action: String,
                save: (PostgresConnection) async throws -> Void) async throws -> Record {
        try await db.transaction { conn in
            let (indicator, measure): (Int?, Int?)
            switch step {
            case .measurement(let i, _, _): (indicator, measure) = (i, nil)
            case .measureStatus(let m, _): (indicator, measure) = (nil, m)
            }
            var loaded: ActionPlanStepCase?
            for try await r in try await conn.query(
                """
                SELECT p.version, current_date::text,
                       (SELECT i.metric FROM action_plan_indicators i WHERE i.plan_id = p.id AND i.position = \(indicator)),
                       EXISTS (SELECT 1 FROM action_plan_measures m WHERE m.plan_id = p.id AND m.position = \(measure))
                FROM action_plans p WHERE p.id = \(id) FOR UPDATE OF p
                """, logger: db.logger).decode((Int, String, String?, Bool).self) {
                loaded = ActionPlanStepCase(version: r.0, today: r.1, metric: r.2.flatMap(IndicatorMetric.init(rawValue:)), measureExists: r.3)
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
