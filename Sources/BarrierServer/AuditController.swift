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
        let params = request.uri.queryParameters
        var errors = FieldErrors()
        let allowed: Set<String> = ["entity_type", "entity_id", "actor", "from", "to", "after", "limit"]
        for (key, _) in params where !allowed.contains(String(key)) {
            errors.add(String(key), "is not a filter; use \(allowed.sorted().joined(separator: ", "))")
        }
        func date(_ key: String) -> Date? {
            guard let raw = params[Substring(key)].map(String.init), !raw.isEmpty else { return nil }
            if let d = ISO8601DateFormatter().date(from: raw) { return d }
            let day = ISO8601DateFormatter()
            day.formatOptions = [.withFullDate]
            if let d = day.date(from: raw) { return d }
            errors.add(key, "must be a date (2026-11-28) or an ISO 8601 time (2026-11-28T09:00:00Z)")
            return nil
        }
        var query = AuditLog.Query(
            entityType: params["entity_type"].map(String.init), entityID: params["entity_id"].map(String.init),
            actor: params["actor"].map(String.init), from: date("from"), to: date("to"))
        if let raw = params["after"] {
            if let n = Int64(raw), n >= 0 { query.afterSeq = n } else { errors.add("after", "must be an event seq number") }
        }
        if let raw = params["limit"] {
            if let n = Int(raw), (1...500).contains(n) { query.limit = n } else { errors.add("limit", "must be a whole number from 1 to 500") }
        }
        if let from = query.from, let to = query.to, from >= to { errors.add("to", "must be after from") }
        if !errors.isEmpty { throw Problem.badRequest("Some filters are invalid.", errors: errors.errors) }
        let page = try await log.events(query)
        return .json("{\"items\":[\(page.items.joined(separator: ","))],\"next_after\":\(page.lastSeq.map(String.init) ?? "null")}")
    }

    @Sendable func me(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let identity = try context.require(.everyone)
        return .json("""
            {"user_id":"\(identity.userID.uuidString.lowercased())","agency_id":"\(identity.agencyID.uuidString.lowercased())","email":"\(identity.email)","role":"\(identity.role.rawValue)"}
            """)
    }
}
