import BarrierCore
import BarrierStore
import Foundation
import Hummingbird

/// The audit log in the browser, for admins and auditors: the agency's own
/// events and the shared registry's, with the API's filters, paged by seq,
/// each event linked to the record it concerns; and, on request, the chain
/// walked and its verification status shown.
extension PageController {
    func registerAuditPages(on router: Router<BarrierRequestContext>) {
        router.get("audit") { request, _ in
            try await withSession(request, roles: Set(Role.allCases.filter(\.canReadAudit))) { session in
                try await auditPage(request, session: session)
            }
        }
    }

    func auditPage(_ request: Request, session: PageSession) async throws -> Response {
        let params = Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { a, _ in a })
        let (query, errors) = AuditController.query(params, allowing: ["verify"])
        var o: [String: Any] = ["filter": params]
        o["errors"] = Dictionary(errors.map { ($0.field, $0.message) }, uniquingKeysWith: { a, _ in a })
        o["invalid"] = !errors.isEmpty
        if errors.isEmpty {
            let page = try await audit.events(query)
            o["events"] = page.items.map { json -> [String: Any] in
                var e = Self.object(json).mapValues { $0 is NSNull ? "" : $0 }
                let type = e["entity_type"] as? String ?? "", id = e["entity_id"] as? String ?? ""
                e["href"] = Self.auditLink(type: type, id: id)
                e["occurred_at"] = (e["occurred_at"] as? String).map { String($0.prefix(19)).replacingOccurrences(of: "T", with: " ") } ?? ""
                return e
            }
            if let next = page.lastSeq {
                var nextParams = params
                nextParams["after"] = String(next)
                nextParams["verify"] = nil
                o["next"] = "/audit?" + Self.queryString(nextParams.filter { !$0.value.isEmpty })
            }
        }
        if params["verify"] == "1" {
            let result = try await audit.verify(trusting: config.auditSigningKey.map { [$0.publicKey] } ?? [])
            if let broken = result.firstBroken {
                o["broken"] = pages.text("audit.broken", ["seq": String(broken.seq), "reason": broken.reason, "checked": String(result.checked)])
            } else if let problem = result.checkpointProblem {
                o["broken"] = pages.text("audit.notAsSigned", ["problem": problem])
            } else {
                o["intact"] = pages.text("audit.intact", ["checked": String(result.checked)]) + " " + (result.newestCheckpointSeq.map {
                    pages.text("audit.checkpoints", ["held": String(result.checkpointsHeld), "newest": String($0), "unsigned": String(result.unsignedEvents)])
                } ?? pages.text("audit.noCheckpoints"))
            }
        }
        var verifyParams = params
        verifyParams["verify"] = "1"
        o["verifyHref"] = "/audit?" + Self.queryString(verifyParams.filter { !$0.value.isEmpty })
        return pages.page("audit", title: pages.text("audit.title"), o, session: session,
                          status: errors.isEmpty ? .ok : .badRequest)
    }

    /// The page of the record an event concerns, where there is one.
    static func auditLink(type: String, id: String) -> String {
        guard UUID(uuidString: id) != nil else { return "" }
        switch type {
        case "facilitator": return "/suppliers/\(id)"
        case "letter": return "/letters/\(id)"
        case "licensing_action": return "/actions/\(id)"
        case "signal": return "/signals/\(id)"
        case "campaign": return "/campaigns/\(id)"
        case "action_plan": return "/plans/\(id)"
        default: return ""
        }
    }
}
