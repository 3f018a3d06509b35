import BarrierCore
import BarrierStore
import Foundation
import Hummingbird

/// `/api/v1/audit`: the chain of custody, for admins and auditors.
struct AuditController {
    let log: AuditLog

    var endpoints: RouteCollection<BarrierRequestContext> {
        let routes = RouteCollection(context: BarrierRequestContext.self)
        routes.get("audit", use: list)
        routes.get("me", use: me)
        return routes
    }

    @Sendable func list(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.auditReaders)
        let params = try request.apiQueryParameters()
        let (query, errors) = Self.query(params)
        if !errors.isEmpty { throw Problem.badRequest("Some filters are invalid.", errors: errors) }
        let page = try await log.events(query)
        return .json("{\"items\":[\(page.items.joined(separator: ","))],\"next_after\":\(page.lastSeq.map(String.init) ?? "null")}")
    }

    static let filters: Set<String> = ["entity_type", "entity_id", "actor", "from", "to", "after", "limit"]

    /// The log's filters read from a query string (the API's and the audit page's), and the invalid ones.
    static func query(_ params: [String: String], allowing extra: Set<String> = []) -> (AuditLog.Query, [FieldError]) {
        var errors = FieldErrors()
        for key in params.keys.sorted() where !filters.contains(key) && !extra.contains(key) {
            errors.add(key, "is not a filter; use \(filters.sorted().joined(separator: ", "))")
        }
        for key in params.keys.sorted() where TextInput.hasControlCharacters(params[key]!) { errors.add(key, TextInput.controlMessage) }
        func text(_ key: String) -> String? {
            params[key].flatMap { $0.isEmpty || TextInput.hasControlCharacters($0) ? nil : $0 }
        }
        func date(_ key: String) -> Date? {
            guard let raw = text(key) else { return nil }
            if let d = ISO8601DateFormatter().date(from: raw) { return d }
            let day = ISO8601DateFormatter()
            day.formatOptions = [.withFullDate]
            if let d = day.date(from: raw) { return d }
            errors.add(key, "must be a date (2026-11-28) or an ISO 8601 time (2026-11-28T09:00:00Z)")
            return nil
        }
        var query = AuditLog.Query(entityType: text("entity_type"), entityID: text("entity_id"), actor: text("actor"),
                                   from: date("from"), to: date("to"))
        if let raw = text("after") {
            if let n = Int64(raw), n >= 0 { query.afterSeq = n } else { errors.add("after", "must be an event seq number") }
        }
        if let raw = text("limit") {
            if let n = Int(raw), (1...500).contains(n) { query.limit = n } else { errors.add("limit", "must be a whole number from 1 to 500") }
        }
        if let from = query.from, let to = query.to, from >= to { errors.add("to", "must be after from") }
        return (query, errors.errors)
    }

    @Sendable func me(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let identity = try context.require(.everyone)
        return .json("""
            {"user_id":"\(identity.userID.uuidString.lowercased())","agency_id":"\(identity.agencyID.uuidString.lowercased())","email":"\(identity.email)","role":"\(identity.role.rawValue)"}
            """)
    }
}
