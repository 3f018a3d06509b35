import BarrierCore
import BarrierStore
import Foundation
import Hummingbird
import NIOCore

/// `/api/v1/reports`: each report as JSON, each of its tables as CSV; and action plans.
struct ReportController {
    let reports: ReportStore
    let plans: ActionPlanStore
    let config: AppConfiguration

    var endpoints: RouteCollection<BarrierRequestContext> {
        let routes = RouteCollection(context: BarrierRequestContext.self)
        routes.get("reports", use: index)
        routes.get("reports/{report}", use: report)
        routes.get("reports/{report}/{table}.csv", use: csv)
        routes.get("action-plans", use: listPlans)
        routes.post("action-plans", use: createPlan)
        routes.get("action-plans/{id}", use: plan)
        routes.post("action-plans/{id}/indicators/{position}/measurements", use: measure)
        routes.post("action-plans/{id}/measures/{position}/status", use: measureStatus)
        return routes
    }

    @Sendable func index(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        _ = try request.queryParameters(allowed: [])
        let items = ReportKind.allCases.map { kind in
            "{\"report\":\"\(kind.rawValue)\",\"title\":\(jsonString(kind.title)),\"href\":\"/api/v1/reports/\(kind.rawValue)\"}"
        }
        return .json("{\"items\":[" + items.joined(separator: ",") + "]}")
    }

    @Sendable func report(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        let sectors = try await reports.sectors(toCheck: request.uri.queryParameters["sector"].map(String.init))
        let (kind, filter, dimension, rule) = try ReportRequest.read(request, context: context, sectors: sectors)
        return .json(try await reports.report(kind, filter, by: dimension, gapRule: rule, knownSectors: sectors).json())
    }

    @Sendable func csv(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        let sectors = try await reports.sectors(toCheck: request.uri.queryParameters["sector"].map(String.init))
        return try await Self.csv(reports, try ReportRequest.read(request, context: context, sectors: sectors), sectors: sectors,
                                  table: context.parameters.get("table") ?? "")
    }

    /// One table of a report as a CSV download (the API's and the pages').
    static func csv(_ reports: ReportStore, _ request: (ReportKind, ReportFilter, ReportDimension, MatrixGapRule), sectors: Set<String>,
                    table name: String) async throws -> Response {
        let (kind, filter, dimension, rule) = request
        let report = try await reports.report(kind, filter, by: dimension, gapRule: rule, knownSectors: sectors)
        guard let table = report.table(name) else {
            throw Problem(.notFound, "Not found", detail: "The \(kind.rawValue) report has no table '\(name)'; it has \(report.tables.map(\.name).joined(separator: ", ")).")
        }
        return Response(status: .ok,
                        headers: [.contentType: "text/csv; charset=utf-8",
                                  .contentDisposition: "attachment; filename=\"\(kind.rawValue)-\(table.name).csv\""],
                        body: .init(byteBuffer: ByteBuffer(data: try table.csv())))
    }

    // MARK: Action plans

    @Sendable func listPlans(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        _ = try request.queryParameters(allowed: [])
        return .json("{\"items\":[" + (try await plans.list()).joined(separator: ",") + "]}")
    }

    @Sendable func createPlan(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let identity = try context.require(.writers)
        var reader = FieldReader(try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        reader.rejectUnknown(allowed: ["title", "description", "coordinating_agency", "starts_on", "ends_on", "evaluation_dates", "objectives",
                                       "measures", "indicators"])
        // Shape errors go with the store's own checks, so one answer names every field.
        guard let draft = reader.actionPlan() else { throw Problem.invalid(reader.errors.errors) }
        let record = try await plans.create(draft, agencyID: identity.agencyID, actor: identity.actor(requestID: context.requestID),
                                            knownProblems: reader.errors.errors)
        return .json(record.json, status: .created,
                     headers: [.eTag: "\"\(record.version)\"", .location: "/api/v1/action-plans/\(record.id.uuidString.lowercased())"])
    }

    @Sendable func plan(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        let record = try await plans.get(try context.uuidParameter())
        return .json(record.json, headers: [.eTag: "\"\(record.version)\""])
    }

    func position(_ context: BarrierRequestContext) throws -> Int {
        guard let raw = context.parameters.get("position"), let n = Int(raw), n >= 0 else {
            throw Problem(.notFound, "Not found", detail: "The position must be a whole number from 0.")
        }
        return n
    }

    /// `{value, on}` for an indicator recorded by hand.
    @Sendable func measure(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let actor = try context.require(.writers).actor(requestID: context.requestID)
        let id = try context.uuidParameter(), indicator = try position(context)
        let version = try request.expectedVersion()
        var reader = FieldReader(try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        reader.rejectUnknown(allowed: ["value", "on"])
        let value = reader.number("value"), day = reader.string("on")
        reader.required("value", value)
        reader.required("on", day)
        guard reader.errors.isEmpty, let value, let day else { throw Problem.invalid(reader.errors.errors) }
        let record = try await plans.recordMeasurement(id, indicator: indicator, value: value, on: day, expectedVersion: version, actor: actor)
        return .json(record.json, headers: [.eTag: "\"\(record.version)\""])
    }

    /// `{status}`.
    @Sendable func measureStatus(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let actor = try context.require(.writers).actor(requestID: context.requestID)
        let id = try context.uuidParameter(), measure = try position(context)
        let version = try request.expectedVersion()
        var reader = FieldReader(try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        reader.rejectUnknown(allowed: ["status"])
        let status = reader.enumValue("status", as: PlanMeasureStatus.self)
        reader.required("status", status)
        guard reader.errors.isEmpty, let status else { throw Problem.invalid(reader.errors.errors) }
        let record = try await plans.setMeasureStatus(id, measure: measure, status: status, expectedVersion: version, actor: actor)
        return .json(record.json, headers: [.eTag: "\"\(record.version)\""])
    }
}

/// A report request's parts, read from the path and query the same way for JSON, CSV and the pages.
enum ReportRequest {
    static let parameters: Set<String> = ["from", "to", "sector", "country", "stage", "agency", "by", "gap_signals", "gap_share"]

    static func read(_ request: Request, context: BarrierRequestContext, sectors: Set<String>) throws
        -> (ReportKind, ReportFilter, ReportDimension, MatrixGapRule) {
        let raw = context.parameters.get("report") ?? ""
        guard let kind = ReportKind(rawValue: raw) else {
            throw Problem(.notFound, "Not found", detail: "There is no report '\(raw)'; the reports are \(ReportKind.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        var params: [String: String] = [:]
        var unknown = FieldErrors()
        for (key, value) in request.uri.queryParameters {
            if parameters.contains(String(key)) {
                params[String(key)] = String(value)
                if value.isEmpty { unknown.add(String(key), "must not be empty; leave the parameter out instead") }
            } else {
                unknown.add(String(key), "is not a parameter here; use \(parameters.sorted().joined(separator: ", "))")
            }
        }
        return try read(kind: kind, parameters: params, sectors: sectors, errors: unknown)
    }

    /// The filters of `kind` from query parameters (a 400 problem naming each bad one, with `errors` found before).
    static func read(kind: ReportKind, parameters params: [String: String], sectors: Set<String>, errors: FieldErrors = FieldErrors()) throws
        -> (ReportKind, ReportFilter, ReportDimension, MatrixGapRule) {
        var errors = errors
        var filter = ReportFilter(from: params["from"], to: params["to"], sector: params["sector"], country: params["country"]?.uppercased())
        if let stage = params["stage"] {
            filter.stage = Stage(rawValue: stage)
            if filter.stage == nil { errors.add("stage", Stage.notOne(stage)) }
        }
        if let agency = params["agency"] {
            // A report counts the caller's own agency; naming another is refused, not answered with its figures.
            if let id = UUID(uuidString: agency) {
                if id == AgencyScope.current { filter.agencyID = id.uuidString.lowercased() } else {
                    errors.add("agency", "reports count your own agency's casework only; another agency cannot be named")
                }
            } else { errors.add("agency", "must be an agency id (UUID)") }
        }
        var dimension = ReportDimension.sector
        if let by = params["by"] {
            if let d = ReportDimension(rawValue: by) { dimension = d } else { errors.add("by", ReportDimension.notOne(by)) }
        }
        var rule = MatrixGapRule()
        if let raw = params["gap_signals"] {
            if let n = Int(raw), n >= 1 { rule.minimumSignals = n } else { errors.add("gap_signals", "must be a whole number of at least 1") }
        }
        if let raw = params["gap_share"] {
            if let x = Double(raw), (0...1).contains(x) { rule.maximumShareCooperating = x } else { errors.add("gap_share", "must be a share from 0 to 1") }
        }
        errors.append(contentsOf: filter.problems(knownSectors: sectors))
        if !errors.isEmpty { throw Problem.badRequest("Some query parameters are invalid; each is listed in errors.", errors: errors.errors) }
        return (kind, filter, dimension, rule)
    }
}

extension FieldReader {
    mutating func number(_ key: String) -> Double? {
        switch object[key] {
        case .none, .null: return nil
        case .number(let n) where n.isFinite: return n
        default: errors.add(key, "must be a number"); return nil
        }
    }

    /// The body of a new action plan, every problem named.
    mutating func actionPlan() -> ActionPlanDraft? {
        let title = string("title"), description = string("description") ?? ""
        let coordinator = string("coordinating_agency"), starts = string("starts_on"), ends = string("ends_on")
        let evaluations = strings("evaluation_dates") ?? []
        let objectives = strings("objectives")
        required("title", title)
        required("coordinating_agency", coordinator)
        required("starts_on", starts)
        required("ends_on", ends)
        required("objectives", objectives)
        var measures: [ActionPlanDraft.Measure] = []
        for (i, item) in objects("measures").enumerated() {
            var inner = FieldReader(item)
            inner.rejectUnknown(allowed: ["objective", "description", "responsible", "due_on"])
            let description = inner.string("description")
            inner.required("description", description)
            measures.append(.init(objective: inner.integer("objective"), description: description ?? "", responsible: inner.string("responsible"),
                                  dueOn: inner.string("due_on")))
            errors.append(contentsOf: inner.errors.errors.map { FieldError(field: "measures[\(i)].\($0.field)", message: $0.message) })
        }
        var indicators: [ActionPlanDraft.Indicator] = []
        for (i, item) in objects("indicators").enumerated() {
            var inner = FieldReader(item)
            inner.rejectUnknown(allowed: ["objective", "name", "metric", "sector", "country", "target", "baseline"])
            let name = inner.string("name"), metric = inner.enumValue("metric", as: IndicatorMetric.self), target = inner.number("target")
            inner.required("name", name)
            inner.required("metric", metric)
            inner.required("target", target)
            indicators.append(.init(objective: inner.integer("objective"), name: name ?? "", metric: metric ?? .manual, sector: inner.string("sector"),
                                    country: inner.string("country")?.uppercased(), target: target ?? 0, baseline: inner.number("baseline")))
            errors.append(contentsOf: inner.errors.errors.map { FieldError(field: "indicators[\(i)].\($0.field)", message: $0.message) })
        }
        guard let title, let coordinator, let starts, let ends, let objectives else { return nil }
        return ActionPlanDraft(title: title, description: description, coordinatingAgency: coordinator, startsOn: starts, endsOn: ends,
                               evaluationDates: evaluations, objectives: objectives, measures: measures, indicators: indicators)
    }

    /// The objects of an array under `key` (an error for anything else).
    mutating func objects(_ key: String) -> [[String: JSONValue]] {
        switch object[key] {
        case .none, .null: return []
        case .array(let items):
            var out: [[String: JSONValue]] = []
            for (i, item) in items.enumerated() {
                if case .object(let o) = item { out.append(o) } else { errors.add("\(key)[\(i)]", "must be an object") }
            }
            return out
        default: errors.add(key, "must be an array of objects"); return []
        }
    }
}

/// Reads a report's kind and query string the way the API does (for the command line's benchmark).
public enum ReportQuery {
    public static func parse(kind raw: String, query: String, sectors: Set<String>) throws -> (ReportKind, ReportFilter, ReportDimension, MatrixGapRule) {
        guard let kind = ReportKind(rawValue: raw) else { throw StoreError.invalid([FieldError(field: "report", message: ReportKind.notOne(raw))]) }
        var params: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            params[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        do {
            return try ReportRequest.read(kind: kind, parameters: params, sectors: sectors)
        } catch let problem as Problem {
            throw StoreError.invalid(problem.errors ?? [FieldError(field: "query", message: problem.detail ?? "is not valid")])
        }
    }
}
