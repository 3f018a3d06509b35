import BarrierCore
import BarrierStore
import Foundation
import Hummingbird
import Logging
import Mustache
import NIOCore

/// The HTML pages: sign-in, home, the registry, reports and action plans.
/// Pages read without JavaScript and print well; every form that changes
/// anything carries the session's CSRF token, and every change goes through
/// the same store use case as the API.
struct PageController {
    static let sessionCookie = "barrier_session"
    static let loginCookie = "barrier_login_csrf"
    static let logger = Logger(label: "barrier.pages")

    let access: AccessStore
    let reports: ReportStore
    let plans: ActionPlanStore
    let pages: PageRenderer
    let config: AppConfiguration
    let facilitators: FacilitatorStore
    let cooperation: CooperationStore
    let letters: LetterStore
    let licensing: LicensingStore
    let signals: SignalStore
    let transfer: FacilitatorTransfer
    let audit: AuditLog
    let mail: LetterMail
    let campaigns: CampaignStore
    let profiles: ProcedureProfileStore
    let taxonomy: TaxonomyStore

    func register(on router: Router<BarrierRequestContext>) {
        let stylesheet = pages.stylesheet
        router.get("static/app.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                     body: .init(byteBuffer: stylesheet))
        }
        router.get("/") { _, _ in Response(status: .seeOther, headers: [.location: "/home"]) }
        registerRegistryPages(on: router)
        registerLetterPages(on: router)
        registerLicensingPages(on: router)
        registerSignalPages(on: router)
        registerCooperationPages(on: router)
        registerAdminPages(on: router)
        registerTaxonomyPages(on: router)
        registerUserPages(on: router)
        registerCampaignPages(on: router)
        registerImportPages(on: router)
        registerAuditPages(on: router)
        registerPlanPages(on: router)
        router.get("login") { request, _ in try await loginForm(request) }
        router.post("login") { request, context in try await login(request, context: context) }
        router.post("logout") { request, _ in try await logout(request) }
        router.get("reports") { request, _ in try await withSession(request) { session in reportIndex(session) } }
        router.get("reports/{report}") { request, context in
            try await withSession(request) { session in try await report(request, context: context, session: session) }
        }
        router.get("reports/{report}/{table}.csv") { request, context in
            try await withSession(request) { _ in try await csv(request, context: context) }
        }
        router.get("plans") { request, _ in try await withSession(request) { session in try await planList(session) } }
        router.get("plans/{id}") { request, context in
            try await withSession(request) { session in try await plan(try context.uuidParameter(), session: session) }
        }
    }

    // MARK: Sessions

    func session(_ request: Request) async throws -> PageSession? {
        guard let token = request.cookies[Self.sessionCookie]?.value, !token.isEmpty else { return nil }
        return try await access.session(token: token, idleMinutes: config.sessionIdleMinutes).map { PageSession(identity: $0.identity, csrf: $0.csrf) }
    }

    /// Runs `body` for a signed-in user, in the user's agency; sends anyone else
    /// to the sign-in page (and back afterwards). A refusal thrown on the way
    /// becomes a page that says why.
    func withSession(_ request: Request, roles: Set<Role> = Set(Role.allCases),
                     _ body: (PageSession) async throws -> Response) async throws -> Response {
        guard let session = try await session(request) else {
            let next = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            let encoded = next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/home"
            return Response(status: .seeOther, headers: [.location: "/login?next=\(encoded)"])
        }
        guard roles.contains(session.identity.role) else {
            return pages.message(.forbidden, title: pages.text("errors.forbiddenTitle"),
                                 detail: pages.text("errors.role", ["role": session.identity.role.rawValue]), session: session)
        }
        // A control character in the address is refused here, for every page, before it can reach a query.
        let controls = request.uri.queryParameters.filter { TextInput.hasControlCharacters($0.value) }.map { String($0.key) }.sorted()
        if !controls.isEmpty {
            return refusalPage(Problem.badRequest("A parameter of the address holds control characters.",
                                                  errors: controls.map { FieldError(field: $0, message: TextInput.controlMessage) }),
                               session: session)
        }
        do {
            return try await AgencyScope.with(session.identity.agencyID) { try await body(session) }
        } catch let error as StoreError {
            return refusalPage(Problem.from(error, logger: Self.logger), session: session)
        } catch let problem as Problem {
            return refusalPage(problem, session: session)
        }
    }

    /// A posted form: the session, the role, then the CSRF token, before `body` runs; a post without the
    /// session's token is refused (403) and changes nothing.
    func withForm(_ request: Request, roles: Set<Role>, _ body: (PageSession, PageForm) async throws -> Response) async throws -> Response {
        var request = request
        let buffer = try await request.collectBody(upTo: max(config.maxImportBytes, UploadedDocument.maxBytes + 65_536))
        let form = PageForm(body: buffer, contentType: request.headers[.contentType])
        return try await withSession(request, roles: roles) { session in
            guard let sent = form["csrf"], Self.constantTimeEqual(sent, session.csrf) else {
                return pages.message(.forbidden, title: pages.text("errors.forbiddenTitle"), detail: pages.text("errors.csrf"), session: session)
            }
            let controls = form.values.filter { $0.value.contains(where: TextInput.hasControlCharacters) }.keys.sorted()
            if !controls.isEmpty {
                throw Problem.invalid(controls.map { FieldError(field: $0, message: TextInput.controlMessage) })
            }
            return try await body(session, form)
        }
    }

    /// Runs `change`; invalid fields show the record's page again with them beside
    /// their fields (422), else the page with `flash`. `page` renders the record's
    /// page with a flash, the errors and a status.
    func afterChange(flash: String, page: (String?, [FieldError], HTTPResponse.Status) async throws -> Response,
                     _ change: () async throws -> Void) async throws -> Response {
        do {
            try await change()
        } catch StoreError.invalid(let problems) {
            return try await page(nil, problems, .unprocessableContent)
        }
        return try await page(pages.text(flash), [], .ok)
    }

    func refusalPage(_ problem: Problem, session: PageSession?) -> Response {
        let title: String
        switch problem.status {
        case .notFound: title = pages.text("errors.notFoundTitle")
        case .forbidden: title = pages.text("errors.forbiddenTitle")
        default: title = problem.title
        }
        let detail = problem.status == .notFound ? pages.text("errors.notFound") : (problem.detail ?? problem.title)
        var response = pages.message(problem.status, title: title, detail: detail, session: session, errors: problem.errors ?? [])
        if let retry = problem.headers[.retryAfter] { response.headers[.retryAfter] = retry }
        return response
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// Only a path of this site: never another host. A tab, a backslash or an
    /// encoded slash or backslash could turn `/…` into `//host` once a browser
    /// or a proxy cleans it up, so any of them sends the user home instead.
    static func safeNext(_ raw: String?) -> String {
        guard let raw, raw.hasPrefix("/"), !raw.hasPrefix("//"), raw.count <= 2000 else { return "/home" }
        let lowered = raw.lowercased()
        if raw.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f || $0 == "\\" }) { return "/home" }
        for encoded in ["%2f", "%5c", "%09", "%0a", "%0d", "%00"] where lowered.contains(encoded) { return "/home" }
        return raw
    }

    /// Whether cookies carry `Secure`: the COOKIE_SECURE setting, else on unless the site is reached as localhost.
    func secureCookies(_ request: Request) -> Bool {
        if let configured = config.cookieSecure { return configured }
        let host = (request.head.authority ?? "").lowercased()
        let name = host.hasPrefix("[") ? String(host.prefix { $0 != "]" }) + "]" : String(host.split(separator: ":").first ?? "")
        return !["localhost", "127.0.0.1", "[::1]"].contains(name)
    }

    func loginForm(_ request: Request, failed: String? = nil, email: String = "", errors: [String: String] = [:],
                   status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) async throws -> Response {
        let csrf = AccessStore.randomSecret(bytes: 24)
        var data: [String: Any] = ["csrf": csrf, "next": Self.safeNext(request.uri.queryParameters["next"].map(String.init)), "email": email]
        if let failed { data["failed"] = failed }
        if let e = errors["email"] { data["emailError"] = e }
        if let e = errors["password"] { data["passwordError"] = e }
        var response = pages.page("login", title: pages.text("login.title"), data, session: nil, status: status)
        response.headers.append(contentsOf: headers)
        response.setCookie(Cookie(name: Self.loginCookie, value: csrf, path: "/login", secure: secureCookies(request), httpOnly: true, sameSite: .strict))
        return response
    }

    /// The client a sign-in is counted for (see `ClientAddressRule`): the peer, or what a trusted proxy says.
    func signInClient(_ request: Request, context: BarrierRequestContext) -> AccessStore.SignInClient {
        let rule = config.clientAddress
        let name = rule.header.lowercased()
        let values = request.headers.filter { $0.name.canonicalName == name }.map(\.value)
        return AccessStore.SignInClient(key: rule.clientKey(peer: context.remoteAddress?.ipAddress, headerValues: values),
                                        limit: config.signInClientLimit)
    }

    func login(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        var request = request
        let form = PageForm(encoded: String(buffer: try await request.collectBody(upTo: 64 * 1024)))
        let expected = request.cookies[Self.loginCookie]?.value
        guard let expected, let sent = form["csrf"], Self.constantTimeEqual(sent, expected) else {
            return try await loginForm(request, failed: pages.text("login.expired"), email: form["email"] ?? "", status: .forbidden)
        }
        var errors: [String: String] = [:]
        let email = form.text("email") ?? "", password = form["password"] ?? ""
        if email.isEmpty { errors["email"] = pages.text("login.enterEmail") }
        if password.isEmpty { errors["password"] = pages.text("login.enterPassword") }
        if !errors.isEmpty { return try await loginForm(request, email: email, errors: errors, status: .unprocessableContent) }
        let identity: Identity
        switch try await access.signIn(email: email, password: password, from: signInClient(request, context: context)) {
        case .signedIn(let who):
            identity = who
        case .refused:
            return try await loginForm(request, email: email, errors: ["password": pages.text("login.wrong")], status: .unauthorized)
        case .locked(let until):
            let minutes = max(1, Int((until.timeIntervalSinceNow / 60).rounded(.up)))
            return try await loginForm(request, email: email, errors: ["password": minutes == 1 ? pages.text("login.lockedOne") : pages.text("login.locked", ["minutes": String(minutes)])],
                                       status: .tooManyRequests, headers: [.retryAfter: String(minutes * 60)])
        case .tooManyFromClient(let until):
            let seconds = max(1, Int(until.timeIntervalSinceNow.rounded(.up))), minutes = (seconds + 59) / 60
            return try await loginForm(request, failed: minutes == 1 ? pages.text("login.clientLimitedOne") : pages.text("login.clientLimited", ["minutes": String(minutes)]),
                                       email: email, status: .tooManyRequests, headers: [.retryAfter: String(seconds)])
        }
        let (token, _) = try await access.startSession(identity, hours: config.sessionHours)
        var response = Response(status: .seeOther, headers: [.location: Self.safeNext(form["next"])])
        response.setCookie(Cookie(name: Self.sessionCookie, value: token, maxAge: config.sessionHours * 3600, path: "/",
                                  secure: secureCookies(request), httpOnly: true, sameSite: .strict))
        response.setCookie(Cookie(name: Self.loginCookie, value: "", maxAge: 0, path: "/login", secure: secureCookies(request), httpOnly: true,
                                  sameSite: .strict))
        return response
    }

    /// Ends the session on the server (the cookie alone would not) and clears the cookie.
    func logout(_ request: Request) async throws -> Response {
        try await withForm(request, roles: Set(Role.allCases)) { _, _ in
            if let token = request.cookies[Self.sessionCookie]?.value { try await access.endSession(token: token) }
            var response = Response(status: .seeOther, headers: [.location: "/login"])
            response.setCookie(Cookie(name: Self.sessionCookie, value: "", maxAge: 0, path: "/", secure: secureCookies(request), httpOnly: true,
                                      sameSite: .strict))
            return response
        }
    }

    // MARK: Reports

    static let summaries: [ReportKind: String] = [
        .cooperation: "suppliers at each level by sector, country or stage, and month by month",
        .funnel: "first letters sent, delivered, answered, leading to committed and verified measures",
        .licensing: "actions by type, status, sector and country; fines; appeals",
        .matrix: "the four stages × sectors, with the gaps where signals are many and cooperation little",
        .signals: "signals by type and stage, month by month",
    ]

    func reportIndex(_ session: PageSession) -> Response {
        let items = ReportKind.allCases.map { ["name": $0.rawValue, "title": $0.title, "summary": Self.summaries[$0] ?? ""] }
        return pages.page("reports", title: "Reports", ["reports": items], session: session)
    }

    func report(_ request: Request, context: BarrierRequestContext, session: PageSession) async throws -> Response {
        let raw = context.parameters.get("report") ?? ""
        guard let kind = ReportKind(rawValue: raw) else {
            throw Problem(.notFound, "Not found", detail: "There is no report '\(raw)'.")
        }
        let params = request.uri.queryParameters
        var query: [String: String] = [:]
        for (key, value) in params where !value.isEmpty { query[String(key)] = String(value) }
        let sectors = try await reports.sectors()
        var data: [String: Any] = [
            "name": kind.rawValue, "title": kind.title,
            "reports": ReportKind.allCases.enumerated().map { ["name": $1.rawValue, "title": $1.title, "last": $0 == ReportKind.allCases.count - 1] },
            "filter": query,
            "sectors": sectors.sorted().map { ["code": $0, "selected": query["sector"] == $0] },
            "stages": Stage.allCases.map { ["code": $0.rawValue, "selected": query["stage"] == $0.rawValue] },
        ]
        if kind == .cooperation {
            data["groupings"] = ["options": ReportDimension.allCases.map { ["code": $0.rawValue, "selected": (query["by"] ?? "sector") == $0.rawValue] }]
        }
        if kind == .matrix {
            let rule = MatrixGapRule()
            data["gapRule"] = ["signals": query["gap_signals"] ?? String(rule.minimumSignals), "share": query["gap_share"] ?? String(rule.maximumShareCooperating)]
        }
        do {
            let (_, filter, dimension, rule) = try ReportRequest.read(kind: kind, parameters: query, sectors: sectors)
            let report = try await reports.report(kind, filter, by: dimension, gapRule: rule, knownSectors: sectors)
            let queryString = query.sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
            data["tables"] = report.tables.enumerated().map { index, table in
                Self.tableData(table, kind: kind, index: index, csv: "/reports/\(kind.rawValue)/\(table.name).csv" + (queryString.isEmpty ? "" : "?" + queryString))
            }
            return pages.page("report", title: kind.title, data, session: session)
        } catch let problem as Problem where problem.status == .badRequest {
            var errors: [String: String] = [:]
            for error in problem.errors ?? [] { errors[error.field] = error.message }
            data["errors"] = errors
            data["invalid"] = true
            data["tables"] = [[String: Any]]()
            return pages.page("report", title: kind.title, data, session: session, status: .badRequest)
        }
    }

    func csv(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let raw = context.parameters.get("report") ?? ""
        guard let kind = ReportKind(rawValue: raw) else { throw Problem(.notFound, "Not found", detail: "There is no report '\(raw)'.") }
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters where !value.isEmpty { query[String(key)] = String(value) }
        let sectors = try await reports.sectors(toCheck: query["sector"])
        return try await ReportController.csv(reports, try ReportRequest.read(kind: kind, parameters: query, sectors: sectors),
                                              sectors: sectors, table: context.parameters.get("table") ?? "")
    }

    static func tableData(_ table: ReportTable, kind: ReportKind, index: Int, csv: String) -> [String: Any] {
        let gapColumn = table.columns.firstIndex { $0.name == "gap" }
        let rows: [[String: Any]] = table.rows.map { row in
            ["gap": gapColumn.map { row[$0] == "true" } ?? false,
             "cells": zip(table.columns, row).map { column, cell in ["text": cell ?? "", "numeric": column.numeric] }]
        }
        var data: [String: Any] = ["title": table.title, "description": table.description, "csv": csv,
                                   "columns": table.columns.map(\.name), "rows": rows]
        if let chart = ReportCharts.chart(for: table, kind: kind) { data["svg"] = chart.svg(id: "chart-\(index)") }
        return data
    }

    // MARK: Plans

    func planList(_ session: PageSession) async throws -> Response {
        let items: [[String: Any]] = try await plans.list().map { json in
            let o = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
            return ["id": o["id"] ?? "", "title": o["title"] ?? "", "coordinator": (o["coordinating_agency"] as? [String: Any])?["name"] ?? "",
                    "starts_on": o["starts_on"] ?? "", "ends_on": o["ends_on"] ?? "", "measures_done": o["measures_done"] ?? 0,
                    "measures_total": o["measures_total"] ?? 0, "next_evaluation": o["next_evaluation"] as? String ?? "—"]
        }
        return pages.page("plans", title: pages.text("plans.title"), ["plans": items], session: session)
    }

    func plan(_ id: UUID, session: PageSession, flash: String? = nil, errors: [FieldError] = [],
              status: HTTPResponse.Status = .ok) async throws -> Response {
        let record = try await plans.get(id)
        var o = (try? JSONSerialization.jsonObject(with: Data(record.json.utf8))) as? [String: Any] ?? [:]
        o["version"] = record.version
        o["errors"] = Dictionary(errors.map { ($0.field, $0.message) }, uniquingKeysWith: { a, _ in a })
        o["problems"] = errors.map { ["field": $0.field, "message": $0.message] }
        o["invalid"] = !errors.isEmpty
        o["statuses"] = PlanMeasureStatus.allCases.map(\.rawValue)
        o["coordinator"] = (o["coordinating_agency"] as? [String: Any])?["name"] ?? ""
        let indicators = (o["indicators"] as? [[String: Any]] ?? []).map { x -> [String: Any] in
            var x = x
            let progress = (x["progress"] as? Double) ?? (x["progress"] as? NSNumber)?.doubleValue
            x["percent"] = progress.map { String(Int(($0 * 100).rounded())) } ?? "0"
            x["scope"] = [x["sector"] as? String, x["country"] as? String].compactMap { $0 }.joined(separator: ", ")
            x["manual"] = x["metric"] as? String == IndicatorMetric.manual.rawValue
            for key in ["baseline", "measured", "target", "objective", "measured_on"] where x[key] is NSNull { x[key] = "" }
            return x
        }
        o["indicators"] = indicators
        o["measures"] = (o["measures"] as? [[String: Any]] ?? []).map { m in m.mapValues { $0 is NSNull ? "" : $0 } }
        let chart = Chart(kind: .bar, title: pages.text("plans.chartTitle"), description: pages.text("plans.chartDescription"),
                          categories: indicators.map { $0["name"] as? String ?? "" },
                          series: [.init(name: "progress", values: indicators.map { Double($0["percent"] as? String ?? "0") ?? 0 })], unit: "%")
        o["svg"] = chart.svg(id: "plan-progress")
        return pages.page("plan", title: o["title"] as? String ?? pages.text("plans.plan"), o, session: session, status: status, flash: flash)
    }
}

/// Which chart each report table draws.
enum ReportCharts {
    static func chart(for table: ReportTable, kind: ReportKind) -> Chart? {
        switch (kind, table.name) {
        case (.cooperation, "levels"):
            return pivot(table, kind: .stackedBar, category: table.columns[0].name, series: "level", value: "share", scale: 100, unit: "%")
        case (.cooperation, "monthly"):
            return pivot(table, kind: .line, category: "month", series: "level", value: "suppliers")
        case (.funnel, _):
            let steps = ["sent", "delivered", "responded", "committed", "verified"]
            return Chart(kind: .bar, title: table.title, description: table.description, categories: table.rows.map { $0[0] ?? "" },
                         series: steps.map { step in .init(name: step, values: table.rows.indices.map { Double(table.value($0, step) ?? "") ?? 0 }) })
        case (.licensing, "by_type_status"):
            return pivot(table, kind: .stackedBar, category: "type", series: "status", value: "actions")
        case (.licensing, "by_sector"):
            return pivot(table, kind: .stackedBar, category: "sector", series: "type", value: "actions")
        case (.licensing, "by_country"):
            return pivot(table, kind: .stackedBar, category: "country", series: "type", value: "actions")
        case (.licensing, "fines"):
            return pivot(table, kind: .bar, category: "currency", series: nil, value: "fines")
        case (.matrix, "cells"):
            return pivot(table, kind: .stackedBar, category: "sector", series: "stage", value: "open_signals")
        case (.signals, "monthly"):
            return pivot(table, kind: .line, category: "month", series: "type", value: "signals")
        default:
            return nil
        }
    }

    /// Categories and series from two columns of a long table; values summed where rows repeat.
    static func pivot(_ table: ReportTable, kind: Chart.Kind, category: String, series: String?, value: String, scale: Double = 1,
                      unit: String = "") -> Chart? {
        guard !table.rows.isEmpty, let c = table.columns.firstIndex(where: { $0.name == category }),
              let v = table.columns.firstIndex(where: { $0.name == value }) else { return nil }
        let s = series.flatMap { name in table.columns.firstIndex { $0.name == name } }
        var categories: [String] = [], names: [String] = []
        var values: [String: [String: Double]] = [:]
        for row in table.rows {
            let cat = row[c] ?? "", name = s.map { row[$0] ?? "" } ?? value
            if !categories.contains(cat) { categories.append(cat) }
            if !names.contains(name) { names.append(name) }
            values[name, default: [:]][cat, default: 0] += (Double(row[v] ?? "") ?? 0) * scale
        }
        return Chart(kind: kind, title: table.title, description: table.description, categories: categories,
                     series: names.map { name in .init(name: name, values: categories.map { values[name]?[$0] ?? 0 }) }, unit: unit)
    }
}
