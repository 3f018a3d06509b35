import BarrierCore
import BarrierStore
import Foundation
import Hummingbird

/// Action plans written in the browser: a new plan, a revision of one (its
/// text, objectives, measures and indicators), a measure's status and a manual
/// indicator's measurement from the plan's page. Each calls the
/// `ActionPlanStore` use case the API calls.
extension PageController {
    /// Blank rows the form offers beyond a plan's measures and indicators.
    static let blankPlanRows = 3
    /// The fields of a measure's row and of an indicator's row in the form.
    static let measureFields = ["description", "objective", "responsible", "due_on"]
    static let indicatorFields = ["name", "metric", "sector", "country", "target", "baseline", "objective"]
    /// What makes an indicator's row count as filled: a metric chosen alone does not.
    static let indicatorContent = indicatorFields.filter { $0 != "metric" }

    func registerPlanPages(on router: Router<BarrierRequestContext>) {
        router.get("plans/new") { request, _ in
            try await withSession(request, roles: RoleSets.writers) { session in
                try await planForm(nil, values: [:], session: session)
            }
        }
        router.post("plans") { request, _ in
            try await withForm(request, roles: RoleSets.writers) { session, form in
                let (draft, problems) = Self.planDraft(form)
                do {
                    guard let draft else { throw StoreError.invalid(problems) }
                    let record = try await plans.create(draft, agencyID: session.identity.agencyID,
                                                        actor: session.identity.actor(requestID: nil), knownProblems: problems)
                    return Response(status: .seeOther, headers: [.location: "/plans/\(record.id.uuidString.lowercased())"])
                } catch StoreError.invalid(let errors) {
                    return try await planForm(nil, values: form.values, session: session, errors: errors, status: .unprocessableContent)
                }
            }
        }
        router.get("plans/{id}/edit") { request, context in
            let id = try context.uuidParameter()
            return try await withSession(request, roles: RoleSets.writers) { session in
                try await planForm(id, values: [:], session: session)
            }
        }
        router.post("plans/{id}") { request, context in
            let id = try context.uuidParameter()
            return try await withForm(request, roles: RoleSets.writers) { session, form in
                let (draft, problems) = Self.planDraft(form)
                do {
                    guard let draft else { throw StoreError.invalid(problems) }
                    if !problems.isEmpty { throw StoreError.invalid(problems + draft.problems(knownSectors: try await facilitators.sectors())) }
                    _ = try await plans.revise(id, draft, expectedVersion: try version(form), actor: session.identity.actor(requestID: nil))
                    return try await plan(id, session: session, flash: pages.text("plans.revised"))
                } catch StoreError.invalid(let errors) {
                    return try await planForm(id, values: form.values, session: session, errors: errors, status: .unprocessableContent)
                }
            }
        }
        router.post("plans/{id}/measures/{position}") { request, context in
            let id = try context.uuidParameter()
            let position = Int(context.parameters.get("position") ?? "") ?? -1
            return try await withForm(request, roles: RoleSets.writers) { session, form in
                try await planStep(id, session: session) {
                    guard let status = form.text("status").flatMap(PlanMeasureStatus.init(rawValue:)) else {
                        throw StoreError.invalid([FieldError(field: "status", message: "choose a status")])
                    }
                    _ = try await plans.setMeasureStatus(id, measure: position, status: status, expectedVersion: try version(form),
                                                         actor: session.identity.actor(requestID: nil))
                }
            }
        }
        router.post("plans/{id}/indicators/{position}") { request, context in
            let id = try context.uuidParameter()
            let position = Int(context.parameters.get("position") ?? "") ?? -1
            return try await withForm(request, roles: RoleSets.writers) { session, form in
                try await planStep(id, session: session) {
                    guard let value = form.text("value").flatMap(Double.init) else {
                        throw StoreError.invalid([FieldError(field: "value", message: "must be a number")])
                    }
                    _ = try await plans.recordMeasurement(id, indicator: position, value: value, on: form.text("on") ?? "",
                                                          expectedVersion: try version(form), actor: session.identity.actor(requestID: nil))
                }
            }
        }
    }

    func planStep(_ id: UUID, session: PageSession, _ step: () async throws -> Void) async throws -> Response {
        try await afterChange(flash: "plans.stepRecorded", page: { try await plan(id, session: session, flash: $0, errors: $1, status: $2) }, step)
    }

    /// The plan as the form's fields: what was posted, else the stored plan, else a new plan's defaults.
    func planForm(_ id: UUID?, values posted: [String: [String]], session: PageSession, errors: [FieldError] = [],
                  status: HTTPResponse.Status = .ok) async throws -> Response {
        var values: [String: String] = posted.compactMapValues(\.first)
        let sectors = try await facilitators.sectors().sorted()
        var measureRows = 0, indicatorRows = 0
        var o: [String: Any] = [:]
        if let id {
            let record = try await plans.get(id)
            let stored = Self.object(record.json)
            o["id"] = id.uuidString.lowercased()
            o["version"] = record.version
            o["heading"] = pages.text("plans.edit", ["title": stored["title"] as? String ?? ""])
            if posted.isEmpty { values = Self.planFields(stored) }
            measureRows = (stored["measures"] as? [Any])?.count ?? 0
            indicatorRows = (stored["indicators"] as? [Any])?.count ?? 0
        } else {
            o["heading"] = pages.text("plans.new")
            if posted.isEmpty {
                values["coordinating_agency"] = Self.object(try await access.agency(session.identity.agencyID).json)["name"] as? String ?? ""
            }
        }
        func rows(_ prefix: String) -> Int { values.keys.filter { $0.hasPrefix(prefix) }.compactMap { Int($0.dropFirst(prefix.count).prefix { $0.isNumber }) }.max().map { $0 + 1 } ?? 0 }
        measureRows = max(measureRows, rows("measure")) + (posted.isEmpty ? Self.blankPlanRows : 0)
        indicatorRows = max(indicatorRows, rows("indicator")) + (posted.isEmpty ? Self.blankPlanRows : 0)
        let messages = Self.planErrorFields(errors, values: values)
        o["values"] = values
        o["errors"] = messages
        o["invalid"] = !errors.isEmpty
        o["problems"] = errors.map { ["field": $0.field, "message": $0.message] }
        o["measureRows"] = (0..<measureRows).map { i -> [String: Any] in
            let keys = Self.measureFields
            var row: [String: Any] = ["index": i, "number": i + 1]
            for k in keys {
                row[k] = values["measure\(i)_\(k)"] ?? ""
                row["\(k)_error"] = messages["measure\(i)_\(k)"] ?? ""
            }
            return row
        }
        o["indicatorRows"] = (0..<indicatorRows).map { i -> [String: Any] in
            let keys = Self.indicatorFields
            var row: [String: Any] = ["index": i, "number": i + 1]
            for k in keys {
                row[k] = values["indicator\(i)_\(k)"] ?? ""
                row["\(k)_error"] = messages["indicator\(i)_\(k)"] ?? ""
            }
            row["metrics"] = IndicatorMetric.allCases.map { ["code": $0.rawValue, "selected": values["indicator\(i)_metric"] == $0.rawValue] }
            row["sectors"] = sectors.map { ["code": $0, "selected": values["indicator\(i)_sector"] == $0] }
            return row
        }
        return pages.page("plan_form", title: o["heading"] as? String ?? "", o, session: session, status: status)
    }

    /// A stored plan (its JSON document) as the form's field values.
    static func planFields(_ plan: [String: Any]) -> [String: String] {
        func text(_ any: Any?) -> String {
            switch any {
            case let s as String: return s
            case let n as NSNumber: return n.stringValue
            default: return ""
            }
        }
        var v: [String: String] = [:]
        for key in ["title", "description", "starts_on", "ends_on"] { v[key] = text(plan[key]) }
        v["coordinating_agency"] = text((plan["coordinating_agency"] as? [String: Any])?["name"])
        v["objectives"] = (plan["objectives"] as? [[String: Any]] ?? []).map { text($0["text"]) }.joined(separator: "\n")
        v["evaluation_dates"] = (plan["evaluations"] as? [[String: Any]] ?? []).map { text($0["on"]) }.joined(separator: "\n")
        for (i, m) in (plan["measures"] as? [[String: Any]] ?? []).enumerated() {
            for k in measureFields { v["measure\(i)_\(k)"] = text(m[k]) }
        }
        for (i, x) in (plan["indicators"] as? [[String: Any]] ?? []).enumerated() {
            for k in indicatorFields { v["indicator\(i)_\(k)"] = text(x[k]) }
        }
        return v
    }

    /// The store's field names (`measures[2].due_on`, counted over the filled rows) as the form's (`measure4_due_on`).
    static func planErrorFields(_ errors: [FieldError], values: [String: String]) -> [String: String] {
        let measureRows = filledRows("measure", measureFields, values)
        let indicatorRows = filledRows("indicator", indicatorContent, values)
        var out: [String: String] = [:]
        for e in errors {
            var field = e.field
            for (list, prefix, rows) in [("measures", "measure", measureRows), ("indicators", "indicator", indicatorRows)] where field.hasPrefix(list + "[") {
                let inner = field.dropFirst(list.count + 1)
                if let n = Int(inner.prefix { $0.isNumber }), rows.indices.contains(n) {
                    let rest = inner.drop { $0.isNumber }.dropFirst(2)  // "]."
                    field = "\(prefix)\(rows[n])_\(rest)"
                }
            }
            if field.hasPrefix("objectives[") { field = "objectives" }
            if field.hasPrefix("evaluation_dates[") { field = "evaluation_dates" }
            if out[field] == nil { out[field] = e.message }
        }
        return out
    }

    /// The form's row numbers that hold anything, in order.
    static func filledRows(_ prefix: String, _ keys: [String], _ values: [String: String]) -> [Int] {
        let numbers = Set(values.keys.filter { $0.hasPrefix(prefix) }.compactMap { Int($0.dropFirst(prefix.count).prefix { $0.isNumber }) })
        return numbers.sorted().filter { i in keys.contains { k in !(values["\(prefix)\(i)_\(k)"] ?? "").trimmingWhitespace.isEmpty } }
    }

    /// The posted form as a plan, and what could not be read (numbers that are not).
    static func planDraft(_ form: PageForm) -> (ActionPlanDraft?, [FieldError]) {
        var errors: [FieldError] = []
        let values = form.values.compactMapValues(\.first)
        func lines(_ key: String) -> [String] {
            (form[key] ?? "").split(whereSeparator: \.isNewline).map { $0.trimmingWhitespace }.filter { !$0.isEmpty }
        }
        func integer(_ field: String, _ key: String) -> Int? {
            guard let raw = form.text(key) else { return nil }
            guard let n = Int(raw) else { errors.append(FieldError(field: field, message: "must be a whole number")); return nil }
            return n
        }
        func number(_ field: String, _ key: String) -> Double? {
            guard let raw = form.text(key) else { return nil }
            guard let n = Double(raw.replacingOccurrences(of: ",", with: ".")) else {
                errors.append(FieldError(field: field, message: "must be a number")); return nil
            }
            return n
        }
        let measures = filledRows("measure", measureFields, values).enumerated().map { n, i in
            ActionPlanDraft.Measure(objective: integer("measures[\(n)].objective", "measure\(i)_objective"),
                                    description: form.text("measure\(i)_description") ?? "",
                                    responsible: form.text("measure\(i)_responsible"), dueOn: form.text("measure\(i)_due_on"))
        }
        let indicators = filledRows("indicator", indicatorContent, values).enumerated().map { n, i in
            let metric = form.text("indicator\(i)_metric").flatMap(IndicatorMetric.init(rawValue:))
            if metric == nil { errors.append(FieldError(field: "indicators[\(n)].metric", message: "choose what measures it")) }
            let target = number("indicators[\(n)].target", "indicator\(i)_target")
            if target == nil && form.text("indicator\(i)_target") == nil {
                errors.append(FieldError(field: "indicators[\(n)].target", message: "is required"))
            }
            return ActionPlanDraft.Indicator(objective: integer("indicators[\(n)].objective", "indicator\(i)_objective"),
                                             name: form.text("indicator\(i)_name") ?? "", metric: metric ?? .manual,
                                             sector: form.text("indicator\(i)_sector"), country: form.text("indicator\(i)_country")?.uppercased(),
                                             target: target ?? 0, baseline: number("indicators[\(n)].baseline", "indicator\(i)_baseline"))
        }
        let draft = ActionPlanDraft(title: form.text("title") ?? "", description: form.text("description") ?? "",
                                    coordinatingAgency: form.text("coordinating_agency") ?? "", startsOn: form.text("starts_on") ?? "",
                                    endsOn: form.text("ends_on") ?? "", evaluationDates: lines("evaluation_dates"), objectives: lines("objectives"),
                                    measures: measures, indicators: indicators)
        return (draft, errors)
    }
}
