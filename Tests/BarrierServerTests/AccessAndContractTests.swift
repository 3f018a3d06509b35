import BarrierCore
import BarrierServer
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Roles, authentication and the API contract")
struct AccessAndContractTests {
    /// Every API route and the roles that may use it. A route added to the router
    /// without a line here fails `theMatrixCoversEveryRoute`.
    static let matrix: [(HTTPRequest.Method, String, Set<Role>)] = [
        (.get, "/api/v1/facilitators", [.admin, .officer, .auditor]),
        (.post, "/api/v1/facilitators", [.admin, .officer]),
        (.get, "/api/v1/facilitators.csv", [.admin, .officer, .auditor]),
        (.get, "/api/v1/facilitators/{id}", [.admin, .officer, .auditor]),
        (.patch, "/api/v1/facilitators/{id}", [.admin, .officer]),
        (.post, "/api/v1/facilitators/{id}/archive", [.admin, .officer]),
        (.get, "/api/v1/facilitators/{id}/duplicates", [.admin, .officer, .auditor]),
        (.post, "/api/v1/facilitators/{id}/merge", [.admin, .officer]),
        (.post, "/api/v1/imports/facilitators", [.admin, .officer]),
        (.get, "/api/v1/sectors", [.admin, .officer, .auditor]),
        (.get, "/api/v1/taxonomy", [.admin, .officer, .auditor]),
        (.post, "/api/v1/taxonomy/{catalogue}", [.admin]),
        (.get, "/api/v1/taxonomy/{catalogue}/{key}", [.admin, .officer, .auditor]),
        (.patch, "/api/v1/taxonomy/{catalogue}/{key}", [.admin]),
        (.get, "/api/v1/taxonomy/{catalogue}/{key}/versions", [.admin, .officer, .auditor]),
        (.get, "/api/v1/audit", [.admin, .auditor]),
        (.get, "/api/v1/me", [.admin, .officer, .auditor]),
        (.get, "/api/v1/agency", [.admin, .officer, .auditor]),
        (.patch, "/api/v1/agency", [.admin]),
        (.get, "/api/v1/agency/procedure-profile", [.admin, .officer, .auditor]),
        (.put, "/api/v1/agency/procedure-profile", [.admin]),
        (.get, "/api/v1/agency/procedure-profile/versions", [.admin, .officer, .auditor]),
        (.get, "/api/v1/letter-templates", [.admin, .officer, .auditor]),
        (.get, "/api/v1/letter-templates/{key}", [.admin, .officer, .auditor]),
        (.post, "/api/v1/letter-templates/{key}", [.admin]),
        (.get, "/api/v1/letters", [.admin, .officer, .auditor]),
        (.post, "/api/v1/letters", [.admin, .officer]),
        (.post, "/api/v1/letters/sweep", [.admin]),
        (.get, "/api/v1/letters/{id}", [.admin, .officer, .auditor]),
        (.get, "/api/v1/letters/{id}.html", [.admin, .officer, .auditor]),
        (.get, "/api/v1/letters/{id}.txt", [.admin, .officer, .auditor]),
        (.get, "/api/v1/letters/{id}.pdf", [.admin, .officer, .auditor]),
        (.get, "/api/v1/letters/{id}.eml", [.admin, .officer, .auditor]),
        (.post, "/api/v1/letters/{id}/approve", [.admin, .officer]),
        (.post, "/api/v1/letters/{id}/send", [.admin, .officer]),
        (.post, "/api/v1/letters/{id}/email/retry", [.admin]),
        (.post, "/api/v1/letters/{id}/email/release", [.admin]),
        (.post, "/api/v1/letters/{id}/delivered", [.admin, .officer]),
        (.post, "/api/v1/letters/{id}/returned", [.admin, .officer]),
        (.post, "/api/v1/letters/{id}/responded", [.admin, .officer]),
        (.get, "/api/v1/letters/{id}/response-document", [.admin, .officer, .auditor]),
        (.get, "/api/v1/facilitators/{id}/letters", [.admin, .officer, .auditor]),
        (.get, "/api/v1/campaigns", [.admin, .officer, .auditor]),
        (.post, "/api/v1/campaigns", [.admin, .officer]),
        (.get, "/api/v1/campaigns/{id}", [.admin, .officer, .auditor]),
        (.get, "/api/v1/campaigns/{id}.zip", [.admin, .officer, .auditor]),
        (.get, "/api/v1/campaigns/{id}/preview", [.admin, .officer, .auditor]),
        (.post, "/api/v1/campaigns/{id}/approve", [.admin, .officer]),
        (.get, "/api/v1/campaigns/{id}/manifest.csv", [.admin, .officer, .auditor]),
        (.get, "/api/v1/facilitators/{id}/cooperation", [.admin, .officer, .auditor]),
        (.post, "/api/v1/facilitators/{id}/cooperation", [.admin, .officer]),
        (.get, "/api/v1/facilitators/{id}/contacts", [.admin, .officer, .auditor]),
        (.post, "/api/v1/facilitators/{id}/contacts", [.admin, .officer]),
        (.get, "/api/v1/facilitators/{id}/measures", [.admin, .officer, .auditor]),
        (.post, "/api/v1/facilitators/{id}/measures", [.admin, .officer]),
        (.get, "/api/v1/measures", [.admin, .officer, .auditor]),
        (.post, "/api/v1/measure-commitments/{id}/implemented", [.admin, .officer]),
        (.post, "/api/v1/measure-commitments/{id}/verified", [.admin, .officer]),
        (.get, "/api/v1/signal-indicators", [.admin, .officer, .auditor]),
        (.get, "/api/v1/signals", [.admin, .officer, .auditor]),
        (.post, "/api/v1/signals", [.admin, .officer]),
        (.get, "/api/v1/signals/{id}", [.admin, .officer, .auditor]),
        (.post, "/api/v1/signals/{id}/corrections", [.admin, .officer]),
        (.post, "/api/v1/signals/{id}/attachments", [.admin, .officer]),
        (.get, "/api/v1/signals/{id}/attachments/{attachment}", [.admin, .officer, .auditor]),
        (.get, "/api/v1/signals/{id}/shares", [.admin, .officer, .auditor]),
        (.post, "/api/v1/signals/{id}/shares", [.admin, .officer]),
        (.post, "/api/v1/signals/{id}/shares/{share}/revoke", [.admin, .officer]),
        (.get, "/api/v1/licensing-actions", [.admin, .officer, .auditor]),
        (.post, "/api/v1/licensing-actions", [.admin, .officer]),
        (.get, "/api/v1/licensing-actions/{id}", [.admin, .officer, .auditor]),
        (.get, "/api/v1/licensing-actions/{id}/due-process", [.admin, .officer, .auditor]),
        (.post, "/api/v1/licensing-actions/{id}/signals", [.admin, .officer]),
        (.post, "/api/v1/licensing-actions/{id}/notice-of-intent", [.admin, .officer]),
        (.post, "/api/v1/licensing-actions/{id}/decide", [.admin, .officer]),
        (.post, "/api/v1/licensing-actions/{id}/withdraw", [.admin, .officer]),
        (.post, "/api/v1/licensing-actions/{id}/appeal", [.admin, .officer]),
        (.post, "/api/v1/licensing-actions/{id}/appeal-outcome", [.admin, .officer]),
        (.post, "/api/v1/licensing-actions/{id}/interim-relief", [.admin, .officer]),
        (.post, "/api/v1/licensing-actions/{id}/referral-outcome", [.admin, .officer]),
        (.post, "/api/v1/licensing-actions/{id}/lift", [.admin, .officer]),
        (.get, "/api/v1/facilitators/{id}/ladder", [.admin, .officer, .auditor]),
        (.get, "/api/v1/reports", [.admin, .officer, .auditor]),
        (.get, "/api/v1/reports/{report}", [.admin, .officer, .auditor]),
        (.get, "/api/v1/reports/{report}/{table}.csv", [.admin, .officer, .auditor]),
        (.get, "/api/v1/action-plans", [.admin, .officer, .auditor]),
        (.post, "/api/v1/action-plans", [.admin, .officer]),
        (.get, "/api/v1/action-plans/{id}", [.admin, .officer, .auditor]),
        (.post, "/api/v1/action-plans/{id}/indicators/{position}/measurements", [.admin, .officer]),
        (.post, "/api/v1/action-plans/{id}/measures/{position}/status", [.admin, .officer]),
    ]
    /// The HTML pages: behind a browser session, not part of the API document.
    static let pageRoutes: Set<String> = [
        "GET /", "GET /login", "POST /login", "POST /logout", "GET /reports", "GET /reports/{report}", "GET /reports/{report}/{table}.csv",
        "GET /plans", "GET /plans/{id}", "GET /static/app.css", "GET /home", "GET /suppliers", "GET /suppliers/new", "POST /suppliers",
        "GET /suppliers/{id}", "GET /suppliers/{id}/edit", "POST /suppliers/{id}", "POST /suppliers/{id}/archive", "POST /suppliers/{id}/merge",
        "GET /letters", "POST /suppliers/{id}/letters", "GET /letters/{id}.html", "GET /letters/{id}.txt", "GET /letters/{id}.pdf",
        "GET /letters/{id}.eml", "GET /letters/{id}", "GET /letters/{id}/response-document", "POST /letters/{id}/approve", "POST /letters/{id}/steps",
        "GET /actions", "GET /actions/new", "POST /actions", "GET /actions/{id}", "POST /actions/{id}/{step}",
        "GET /signals/new", "POST /signals", "GET /signals/{id}", "GET /signals/{id}/correct", "POST /signals/{id}/corrections",
        "POST /signals/{id}/attachments", "GET /signals/{id}/attachments/{attachment}", "POST /signals/{id}/shares",
        "GET /suppliers/{id}/cooperation", "POST /suppliers/{id}/cooperation", "POST /suppliers/{id}/contacts", "POST /suppliers/{id}/commitments",
        "POST /suppliers/{id}/commitments/{commitment}",
        "GET /campaigns", "GET /campaigns/new", "POST /campaigns", "GET /campaigns/{id}", "GET /campaigns/{id}.zip",
        "GET /campaigns/{id}/manifest.csv", "POST /campaigns/{id}/approve",
        "GET /admin/users", "GET /admin/users/new", "POST /admin/users", "GET /admin/users/{id}", "POST /admin/users/{id}/{step}",
        "GET /account", "POST /account/password",
        "GET /suppliers/import", "POST /suppliers/import", "POST /suppliers/import/{id}", "GET /suppliers.csv",
        "GET /admin/agency", "POST /admin/agency", "GET /agency/procedure-profile", "POST /agency/procedure-profile", "GET /admin/templates", "GET /admin/templates/{key}",
        "POST /admin/templates/{key}/preview", "POST /admin/templates/{key}", "GET /admin/taxonomy", "POST /admin/taxonomy/{catalogue}",
        "GET /admin/taxonomy/{catalogue}/{key}", "POST /admin/taxonomy/{catalogue}/{key}",
        "GET /audit", "GET /plans/new", "POST /plans", "GET /plans/{id}/edit", "POST /plans/{id}", "POST /plans/{id}/measures/{position}",
        "POST /plans/{id}/indicators/{position}",
        "POST /letters/{id}/email", "POST /letters/{id}/email/retry", "POST /letters/{id}/email/release",
    ]
    static let publicRoutes: Set<String> = [
        "GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.yaml", "GET /public/register", "GET /public/register.csv",
    ]

    func routerRoutes() throws -> Set<String> {
        let db = try Database(url: try DatabaseURL("postgresql://nobody@/none?host=/nonexistent"))
        let router = buildRouter(configuration: AppConfiguration(), database: db,
                                 letters: LetterStore(db, renderer: try Fixtures.renderer(), pdfs: Fixtures.pdfs))
        return Set(router.routes.map { route in
            let path = route.path.description.hasPrefix("/") ? route.path.description : "/" + route.path.description
            return "\(route.method) \(path)"
        })
    }

    @Test func theMatrixCoversEveryRoute() throws {
        let listed = Set(Self.matrix.map { "\($0.0) \($0.1)" }).union(Self.publicRoutes).union(Self.pageRoutes)
        #expect(try routerRoutes() == listed)
    }

    @Test func theOpenAPIDocumentDescribesEveryRoute() throws {
        var documented: Set<String> = []
        var path: String?
        var inPaths = false
        for line in OpenAPIDocument.text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            if inPaths, let first = line.first, !first.isWhitespace { inPaths = false }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let method = line.trimmingCharacters(in: .whitespaces).dropLast().uppercased()
                if ["GET", "POST", "PATCH", "PUT", "DELETE"].contains(method) { documented.insert("\(method) \(path)") }
            }
        }
        let routes = try routerRoutes().subtracting(Self.pageRoutes)
        #expect(routes.subtracting(documented).isEmpty, "routes missing from openapi.yaml: \(routes.subtracting(documented).sorted())")
        #expect(documented.subtracting(routes).isEmpty, "documented routes the server does not have: \(documented.subtracting(routes).sorted())")
        #expect(OpenAPIDocument.text.hasPrefix("openapi: 3.1"))
    }

    @Test func everyRouteTimesEveryRole() async throws {
        try await TestApp.run { app in
            let id = try await app.createSupplier("Matrix Transport GmbH")
            for (method, template, allowed) in Self.matrix {
                let uri = template.replacingOccurrences(of: "{id}", with: id)
                // no token: 401 on every API route
                let anonymous = try await app.request(method, uri, as: nil)
                #expect(anonymous.status == .unauthorized, "\(method) \(uri) without a token")
                #expect(anonymous.isProblem)
                for role in Role.allCases {
                    let response = try await app.request(method, uri, as: role, json: "{}")
                    if allowed.contains(role) {
                        #expect(response.status != .forbidden && response.status != .unauthorized, "\(method) \(uri) as \(role)")
                    } else {
                        #expect(response.status == .forbidden, "\(method) \(uri) as \(role) gave \(response.status)")
                        #expect(response.isProblem)
                    }
                }
            }
            let writes = try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM audit_events WHERE actor_label = 'auditor@inspectorate.example'")
            #expect(writes == "0")
        }
    }

    @Test func badAndRevokedTokensAre401() async throws {
        try await TestApp.run { app in
            let bogus = try await app.client.execute(uri: "/api/v1/facilitators", method: .get, headers: [.authorization: "Bearer brg_nonsense"])
            #expect(bogus.status == .unauthorized)
            let basic = try await app.client.execute(uri: "/api/v1/facilitators", method: .get, headers: [.authorization: "Basic YTpi"])
            #expect(basic.status == .unauthorized)
            try await AccessStore(app.db).revokeToken(email: "officer@inspectorate.example", name: "tests", actor: Fixtures.system)
            let revoked = try await app.request(.get, "/api/v1/facilitators", as: .officer)
            #expect(revoked.status == .unauthorized)
            #expect(revoked.headers[.init("X-Request-Id")!] != nil)
            let traced = try await app.request(.get, "/api/v1/facilitators", as: .auditor, headers: [.init("X-Request-Id")!: "trace-42"])
            #expect(traced.headers[.init("X-Request-Id")!] == "trace-42")
            let me = try await app.request(.get, "/api/v1/me", as: .auditor)
            #expect(me.object["role"] as? String == "auditor")
        }
    }

    @Test func healthReadinessMetricsAndOpenAPIArePublic() async throws {
        try await TestApp.run { app in
            #expect(try await app.request(.get, "/healthz", as: nil).status == .ok)
            let ready = try await app.request(.get, "/readyz", as: nil)
            #expect(ready.status == .ok && ready.object["database"] as? String == "reachable")
            _ = try await app.request(.get, "/api/v1/facilitators")
            let metrics = try await app.request(.get, "/metrics", as: nil)
            #expect(metrics.status == .ok)
            #expect(metrics.text.contains("hb_requests") && metrics.text.contains("http_route=\"/api/v1/facilitators\""))
            #expect(metrics.text.contains("barrier_db_up 1") && metrics.text.contains("barrier_db_connections_open"))
            let openapi = try await app.request(.get, "/openapi.yaml", as: nil)
            #expect(openapi.status == .ok && openapi.text.hasPrefix("openapi: 3.1"))
        }
    }

    @Test func auditLogFiltersByActorAndTime() async throws {
        try await TestApp.run { app in
            _ = try await app.createSupplier("Audit Trail Couriers Ltd", country: "IE")
            let byOfficer = try await app.request(.get, "/api/v1/audit?actor=officer@inspectorate.example", as: .admin)
            let items = (byOfficer.object["items"] as? [[String: Any]]) ?? []
            #expect(items.count == 1 && items.first?["action"] as? String == "facilitator.create")
            #expect((items.first?["hash"] as? String)?.count == 64)
            let future = try await app.request(.get, "/api/v1/audit?from=2999-01-01", as: .auditor)
            #expect((future.object["items"] as? [Any])?.isEmpty == true)
            let bad = try await app.request(.get, "/api/v1/audit?from=yesterday&limit=0", as: .auditor)
            #expect(bad.status == .badRequest && bad.errorFields == ["from", "limit"])
        }
    }
}
