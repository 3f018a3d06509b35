import BarrierCore
import BarrierLetters
import BarrierStore
import Foundation
import Hummingbird

/// The agency's administration in the browser: its letterhead and settings,
/// and its letter templates with their versions, a preview of a new version
/// against a real supplier of the registry before it is saved, and the
/// compile error shown with its line. Administrators change; officers and
/// auditors read. Each change calls the store use case the API calls
/// (`AccessStore.updateLetterhead`, `LetterStore.addTemplateVersion`), and the
/// preview the same compile check as a save (`LetterStore.checkedTemplateBody`).
extension PageController {
    func registerAdminPages(on router: Router<BarrierRequestContext>) {
        router.get("admin/agency") { request, _ in try await withSession(request) { session in try await agencyPage(session: session) } }
        router.post("admin/agency") { request, _ in
            try await withForm(request, roles: RoleSets.admins) { s, f in try await updateAgency(f, session: s) }
        }
        router.get("agency/procedure-profile") { request, _ in
            try await withSession(request) { session in try await profilePage(session: session) }
        }
        router.post("agency/procedure-profile") { request, _ in
            try await withForm(request, roles: RoleSets.admins) { s, f in try await saveProfile(f, session: s) }
        }
        router.get("admin/templates") { request, _ in try await withSession(request) { session in try await templateList(session: session) } }
        // The key is read inside the session, so an unknown one answers with the page that says so.
        router.get("admin/templates/{key}") { request, context in
            try await withSession(request) { session in try await templatePage(try templateKey(context), session: session) }
        }
        router.post("admin/templates/{key}/preview") { request, context in
            try await withForm(request, roles: RoleSets.admins) { s, f in try await previewTemplate(try templateKey(context), f, session: s) }
        }
        router.post("admin/templates/{key}") { request, context in
            try await withForm(request, roles: RoleSets.admins) { s, f in try await saveTemplate(try templateKey(context), f, session: s) }
        }
    }

    // MARK: The agency

    /// The letterhead's fields as the form names them (the API's names), then the two periods.
    static let agencyTextFields = AgencyLetterhead.textFields
    static let agencyDayFields = ["response_days", "appeal_days"]

    /// `values`: what the form shows (the stored agency, or what was typed); `version`: the one the form sends back.
    func agencyPage(session: PageSession, values: [String: String]? = nil, version: Int? = nil, errors: [FieldError] = [],
                    refusal: String? = nil, flash: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let agency = try await access.agency(session.identity.agencyID)
        let stored = Self.object(agency.json)
        var shown: [String: String] = [:]
        for field in Self.agencyTextFields + Self.agencyDayFields {
            shown[field] = values?[field] ?? Self.plain(stored[field])
        }
        var messages: [String: String] = [:]
        for e in errors where messages[e.field] == nil { messages[e.field] = e.message }
        let data: [String: Any] = [
            "name": Self.plain(stored["name"]), "country": Self.plain(stored["country"]),
            "version": version ?? agency.version, "values": shown,
            "facts": (Self.agencyTextFields + Self.agencyDayFields).map { ["label": pages.text("admin.agency.\($0)"), "value": shown[$0] ?? ""] },
            "errors": messages, "invalid": !errors.isEmpty,
            "problems": errors.map { ["field": pages.text("admin.agency.\($0.field)"), "message": $0.message] },
            "refusal": refusal ?? "",
        ]
        return pages.page("admin_agency", title: pages.text("admin.agency.title"), data, session: session, status: status, flash: flash)
    }

    func updateAgency(_ form: PageForm, session: PageSession) async throws -> Response {
        var typed: [String: String] = [:]
        for field in Self.agencyTextFields + Self.agencyDayFields { typed[field] = (form[field] ?? "").trimmingWhitespace }
        let version = try self.version(form)
        var changes: [String: String?] = [:]
        for field in Self.agencyTextFields { changes[field] = .some(typed[field].flatMap { $0.isEmpty ? nil : $0 }) }
        // A period that is not a whole number is refused beside its field, with Core's other findings on the rest.
        var unreadable: [FieldError] = []
        var days: [String: Int] = [:]
        for field in Self.agencyDayFields {
            if let n = Int(typed[field] ?? "") { days[field] = n } else {
                unreadable.append(FieldError(field: field, message: pages.text("admin.agency.wholeDays")))
            }
        }
        if !unreadable.isEmpty {
            var letterhead = AgencyLetterhead()
            for (field, value) in changes { letterhead[field] = value }
            let others = letterhead.problems().filter { !Self.agencyDayFields.contains($0.field) }
            return try await agencyPage(session: session, values: typed, version: version, errors: unreadable + others, status: .unprocessableContent)
        }
        do {
            _ = try await access.updateLetterhead(session.identity.agencyID, changes: changes, responseDays: days["response_days"],
                                                  appealDays: days["appeal_days"], expectedVersion: version,
                                                  actor: session.identity.actor(requestID: nil))
        } catch StoreError.invalid(let problems) {
            return try await agencyPage(session: session, values: typed, version: version, errors: problems, status: .unprocessableContent)
        } catch StoreError.versionConflict {
            // The form shows what is stored now; nothing typed was saved over someone else's change.
            return try await agencyPage(session: session, refusal: pages.text("admin.agency.stale"), status: .preconditionFailed)
        }
        return try await agencyPage(session: session, flash: pages.text("admin.agency.saved"))
    }

    // MARK: Templates

    func templateKey(_ context: BarrierRequestContext) throws -> TemplateKey {
        let raw = context.parameters.get("key") ?? ""
        guard let key = TemplateKey(fileName: raw + ".mustache") else {
            throw Problem(.notFound, "Not found", detail: "'\(raw)' is not a template key such as inform_call_to_action.delivery.en or reminder.fr.")
        }
        return key
    }

    static func keyName(_ key: TemplateKey) -> String { String(key.fileName.dropLast(".mustache".count)) }

    /// One stored version, as the pages show it.
    func templateRow(_ o: [String: Any], authors: [UUID: String]) -> [String: Any] {
        let shipped = o["agency_id"] == nil || o["agency_id"] is NSNull
        let id = (o["id"] as? String).flatMap(UUID.init(uuidString:))
        let who = shipped ? pages.text("admin.templates.shippedBy") : (id.flatMap { authors[$0] } ?? pages.text("admin.templates.unknownAuthor"))
        let created = String((o["created_at"] as? String ?? "").prefix(16)).replacingOccurrences(of: "T", with: " ")
        return ["version": o["version"] ?? 0, "shipped": shipped,
                "owner": shipped ? pages.text("admin.templates.shipped") : pages.text("admin.templates.own"),
                "who": who, "when": created, "sha256": String((o["sha256"] as? String ?? "").prefix(12))]
    }

    func templateList(session: PageSession) async throws -> Response {
        let items = try await letters.templates().map { json -> [String: Any] in
            let o = Self.object(json)
            let key = TemplateKey(kind: LetterKind(rawValue: o["kind"] as? String ?? "") ?? .informCallToAction,
                                  group: (o["sector_group"] as? String).flatMap(SectorGroup.init(rawValue:)),
                                  language: LetterLanguage(rawValue: o["language"] as? String ?? "") ?? .en)
            var row = templateRow(o, authors: [:])
            row["key"] = Self.keyName(key)
            row["kind"] = key.kind.rawValue
            row["group"] = key.group?.rawValue ?? "—"
            row["language"] = key.language.rawValue
            return row
        }
        return pages.page("admin_templates", title: pages.text("admin.templates.title"), ["items": items], session: session)
    }

    /// The versions of `key` the agency may use, newest first, the current one's text, and (for an
    /// administrator) the form for a new version: `body` is what the form holds (the current text unless typed).
    func templatePage(_ key: TemplateKey, session: PageSession, body: String? = nil, supplierID: UUID? = nil, search: String? = nil,
                      rendered: RenderedLetter? = nil, errors: [FieldError] = [], flash: String? = nil,
                      status: HTTPResponse.Status = .ok) async throws -> Response {
        let versions = try await letters.templates(key: key).map(Self.object)
        let authors = try await letters.templateAuthors(key)
        // The agency's own newest version wins over the shipped one (as drafting does).
        let own = versions.filter { !($0["agency_id"] == nil || $0["agency_id"] is NSNull) }
        let current = own.first ?? versions.first { $0["agency_id"] == nil || $0["agency_id"] is NSNull } ?? versions.first ?? [:]
        let currentID = current["id"] as? String
        var messages: [String: String] = [:]
        for e in errors where messages[e.field] == nil { messages[e.field] = e.message }
        var data: [String: Any] = [
            "key": Self.keyName(key), "kind": key.kind.rawValue, "group": key.group?.rawValue ?? "", "language": key.language.rawValue,
            "current": templateRow(current, authors: authors), "currentBody": current["body"] as? String ?? "",
            "versions": versions.map { o -> [String: Any] in
                var row = templateRow(o, authors: authors)
                row["current"] = (o["id"] as? String) == currentID
                return row
            },
            "body": body ?? current["body"] as? String ?? "",
            "errors": messages, "invalid": !errors.isEmpty,
            "problems": errors.map { ["field": $0.field, "message": $0.message] },
        ]
        if session.identity.role == .admin {
            data["search"] = search ?? ""
            data["suppliers"] = try await supplierChoices(search: search, chosen: supplierID, key: key)
        }
        if let rendered { data["preview"] = ["subject": rendered.subject, "text": rendered.text] }
        let title = pages.text("admin.template.title", ["key": Self.keyName(key)])
        return pages.page("admin_template", title: title, data, session: session, status: status, flash: flash)
    }

    /// Registry suppliers to preview against: those the search finds, else the active ones of the
    /// template's sector group (any sector when the key has none), by name; the chosen one stays chosen.
    func supplierChoices(search: String?, chosen: UUID?, key: TemplateKey) async throws -> [[String: Any]] {
        let query = FacilitatorQuery(status: .active, q: search.flatMap { $0.count >= 2 ? $0 : nil }, limit: 50)
        var found = try await facilitators.list(query).items.map(Self.object)
        if query.q == nil, let group = key.group, group != .general {
            let rules = try await taxonomy.letterRules()
            let ofGroup = found.filter { rules.group(of: $0["sector"] as? String ?? "") == group }
            if !ofGroup.isEmpty { found = ofGroup }
        }
        if let chosen, !found.contains(where: { ($0["id"] as? String)?.lowercased() == chosen.uuidString.lowercased() }),
           let record = try? await facilitators.get(chosen) {
            found.insert(Self.object(record.json), at: 0)
        }
        return found.map { o in
            let id = (o["id"] as? String ?? "").lowercased()
            return ["id": id, "name": Self.plain(o["legal_name"]), "sector": Self.plain(o["sector"]), "country": Self.plain(o["country"]),
                    "selected": id == chosen?.uuidString.lowercased()]
        }
    }

    func previewTemplate(_ key: TemplateKey, _ form: PageForm, session: PageSession) async throws -> Response {
        let body = Self.templateText(form)
        let search = form.text("supplier_q")
        let supplierID = form.text("supplier_id").flatMap(UUID.init(uuidString:))
        // "Find" only narrows the list of suppliers; the text stays as typed.
        if form["find"] != nil {
            return try await templatePage(key, session: session, body: body, supplierID: supplierID, search: search)
        }
        guard let supplierID else {
            return try await templatePage(key, session: session, body: body, search: search,
                                          errors: [FieldError(field: "supplier_id", message: pages.text("admin.template.chooseSupplier"))],
                                          status: .unprocessableContent)
        }
        do {
            let rendered = try await letters.previewTemplateVersion(key, body: body, facilitatorID: supplierID, agencyID: session.identity.agencyID)
            return try await templatePage(key, session: session, body: body, supplierID: supplierID, search: search, rendered: rendered)
        } catch StoreError.invalid(let problems) {
            return try await templatePage(key, session: session, body: body, supplierID: supplierID, search: search, errors: problems,
                                          status: .unprocessableContent)
        } catch StoreError.notFound(let entity, _) where entity == "facilitator" {
            return try await templatePage(key, session: session, body: body, search: search,
                                          errors: [FieldError(field: "supplier_id", message: pages.text("admin.template.noSupplier"))],
                                          status: .unprocessableContent)
        }
    }

    func saveTemplate(_ key: TemplateKey, _ form: PageForm, session: PageSession) async throws -> Response {
        let body = Self.templateText(form)
        let supplierID = form.text("supplier_id").flatMap(UUID.init(uuidString:))
        let search = form.text("supplier_q")
        let result: (json: String, created: Bool)
        do {
            result = try await letters.addTemplateVersion(key, body: body, actor: session.identity.actor(requestID: nil))
        } catch StoreError.invalid(let problems) {
            return try await templatePage(key, session: session, body: body, supplierID: supplierID, search: search, errors: problems,
                                          status: .unprocessableContent)
        }
        let version = String(describing: Self.object(result.json)["version"] ?? "")
        let flash = result.created ? pages.text("admin.template.saved", ["version": version])
                                   : pages.text("admin.template.unchanged", ["version": version])
        return try await templatePage(key, session: session, supplierID: supplierID, search: search, flash: flash)
    }

    /// The text area's content with the browser's CRLF line ends made LF, as the shipped files are written.
    static func templateText(_ form: PageForm) -> String {
        (form["body"] ?? "").replacingOccurrences(of: "\r\n", with: "\n")
    }

    /// A JSON value as text for a form field: "" for null or absent.
    static func plain(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: return ""
        case let text as String: return text
        case let number as NSNumber: return number.stringValue
        case let other?: return "\(other)"
        }
    }
}
