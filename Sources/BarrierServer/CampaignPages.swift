import BarrierCore
import BarrierStore
import Foundation
import Hummingbird

/// Campaigns in the browser: the list, the set-up form (the registry list's
/// filters, the kind of letter, the language rule), the draft's preview with
/// its counts and sample letters, approving, a progress page that reloads
/// itself (a `<meta http-equiv="refresh">`, no script) until every letter is
/// written and printed, and the ZIP and manifest. Every step calls the same
/// `CampaignStore` use case as the API; the store keeps each agency to its own.
extension PageController {
    /// Rows of the language rule (country → language) and of exceptions (supplier → language) the form offers.
    static let languageRuleRows = 3
    static let languageOverrideRows = 2
    /// Sample letters the draft's preview renders.
    static let campaignSample = 3
    /// Seconds between two reloads of a campaign page while its letters are being written or printed.
    static let campaignRefreshSeconds = 5

    func registerCampaignPages(on router: Router<BarrierRequestContext>) {
        router.get("campaigns") { request, _ in try await withSession(request) { session in try await campaignList(session) } }
        router.get("campaigns/new") { request, _ in
            try await withSession(request, roles: RoleSets.writers) { session in
                var filter: [String: String] = [:]
                for (key, value) in request.uri.queryParameters where CampaignStore.filterKeys.contains(String(key)) && !value.isEmpty {
                    filter[String(key)] = String(value)
                }
                return try await campaignForm(session: session, values: CampaignFormValues(filter: filter))
            }
        }
        router.post("campaigns") { request, _ in
            try await withForm(request, roles: RoleSets.writers) { s, f in try await createCampaign(f, session: s) }
        }
        router.get("campaigns/{id}.zip") { request, context in
            let id = try context.uuidParameter()
            return try await withSession(request) { _ in try await CampaignController.zip(campaigns, id, in: config.campaignZipDirectory) }
        }
        router.get("campaigns/{id}/manifest.csv") { request, context in
            let id = try context.uuidParameter()
            return try await withSession(request) { _ in try await CampaignController.manifest(campaigns, id) }
        }
        router.get("campaigns/{id}") { request, context in
            let id = try context.uuidParameter()
            let done = request.uri.queryParameters["done"].map(String.init)
            // `?reload=off`: the user stopped the page reloading itself (WCAG 2.2.1: a time limit the user can turn off).
            let reload = request.uri.queryParameters["reload"] != "off"
            return try await withSession(request) { session in
                try await campaignPage(id, session: session, step: done, reload: reload)
            }
        }
        router.post("campaigns/{id}/approve") { request, context in
            let id = try context.uuidParameter()
            return try await withForm(request, roles: RoleSets.writers) { s, f in
                do {
                    _ = try await campaigns.approve(id, expectedVersion: try version(f), actor: s.identity.actor(requestID: nil))
                } catch StoreError.conflict(let message) {
                    return try await campaignPage(id, session: s, reload: false, refusal: message, status: .conflict)
                } catch StoreError.versionConflict {
                    return try await campaignPage(id, session: s, reload: false, refusal: pages.text("campaigns.changed"), status: .conflict)
                }
                // To the campaign's own address: the page reloads itself there while the letters are written
                // (a refusal above is shown at this post's address, so it must not reload itself).
                return Response(status: .seeOther, headers: [.location: "/campaigns/\(id.uuidString.lowercased())?done=approved"])
            }
        }
    }

    // MARK: The list

    func campaignList(_ session: PageSession) async throws -> Response {
        let items = try await campaigns.list().map { json -> [String: Any] in
            let o = Self.object(json)
            let p = o["progress"] as? [String: Any] ?? [:]
            return ["id": o["id"] ?? "", "name": o["name"] ?? "", "status": o["status"] ?? "", "kind": o["kind"] ?? "",
                    "letters_total": p["letters_total"] ?? 0, "letters_done": p["letters_done"] ?? 0, "pdfs_done": p["pdfs_done"] ?? 0,
                    "created": Self.minute(o["created_at"] as? String)]
        }
        return pages.page("campaigns", title: pages.text("campaigns.listTitle"), ["items": items], session: session)
    }

    /// "2026-03-01 09:30" from a timestamp as the database writes it.
    static func minute(_ timestamp: String?) -> String {
        guard let timestamp else { return "" }
        return String(timestamp.prefix(16)).replacingOccurrences(of: "T", with: " ")
    }

    // MARK: The form

    /// What the form holds, as typed.
    struct CampaignFormValues {
        var name = ""
        var kind = LetterKind.informCallToAction.rawValue
        var filter: [String: String] = [:]
        var responseDays = ""
        var rules: [(country: String, language: String)] = []
        var overrides: [(supplier: String, language: String)] = []
    }

    /// The kinds of letter a campaign may send: those Core's `CampaignDrafting` does not refuse.
    static var campaignKinds: [LetterKind] {
        LetterKind.allCases.filter { kind in
            !CampaignDrafting.problems(name: "x", kind: kind, responseDays: nil, filterKeys: [String](), languageCountries: [String]())
                .contains { $0.field == "kind" }
        }
    }

    func campaignForm(session: PageSession, values: CampaignFormValues, errors: [FieldError] = [],
                      status: HTTPResponse.Status = .ok) async throws -> Response {
        var messages: [String: String] = [:]
        var placed: Set<String> = []
        for e in errors where messages[e.field] == nil { messages[e.field] = e.message }
        // The store names a filter's problem `filter.<key>`: beside the registry's control of that key.
        var fieldErrors: [String: String] = [:]
        for (field, message) in messages {
            if field.hasPrefix("filter."), CampaignStore.filterKeys.contains(String(field.dropFirst("filter.".count))) {
                fieldErrors[String(field.dropFirst("filter.".count))] = message
                placed.insert(field)
            } else if ["name", "kind", "response_days"].contains(field) {
                fieldErrors[field] = message
                placed.insert(field)
            }
        }
        let languages = LetterLanguage.allCases.map(\.rawValue)
        func options(_ selected: String) -> [[String: Any]] { languages.map { ["code": $0, "selected": $0 == selected] } }
        var rules = values.rules
        while rules.count < Self.languageRuleRows { rules.append(("", "")) }
        let ruleRows = rules.enumerated().map { i, rule -> [String: Any] in
            // A row's own problem (`rule<i>`), or the store's for its country (`language_by_country.<CC>`).
            let keys = ["rule\(i)", "language_by_country.\(rule.country.uppercased())"]
            let error = keys.compactMap { messages[$0] }.first
            placed.formUnion(keys.filter { messages[$0] != nil })
            return ["index": i, "country": rule.country, "options": options(rule.language), "error": error ?? "",
                    "countryLabel": pages.text("campaigns.ruleCountry", ["number": String(i + 1)]),
                    "languageLabel": pages.text("campaigns.ruleLanguage", ["number": String(i + 1)])]
        }
        var overrides = values.overrides
        while overrides.count < Self.languageOverrideRows { overrides.append(("", "")) }
        let overrideRows = overrides.enumerated().map { i, row -> [String: Any] in
            let keys = ["override\(i)", "language_overrides.\(row.supplier.lowercased())", "language_overrides.\(row.supplier)"]
            let error = keys.compactMap { messages[$0] }.first
            placed.formUnion(keys.filter { messages[$0] != nil })
            return ["index": i, "supplier": row.supplier, "options": options(row.language), "error": error ?? "",
                    "supplierLabel": pages.text("campaigns.overrideSupplier", ["number": String(i + 1)]),
                    "languageLabel": pages.text("campaigns.overrideLanguage", ["number": String(i + 1)])]
        }
        let sectors = try await facilitators.sectors()
        let f = values.filter
        let data: [String: Any] = [
            "name": values.name, "responseDays": values.responseDays, "filter": f,
            "kinds": Self.campaignKinds.map { ["code": $0.rawValue, "selected": $0.rawValue == values.kind] },
            // The registry list's controls (the partial `supplier_filters`), with what was typed.
            "sectors": sectors.sorted().map { ["code": $0, "selected": f["sector"] == $0] },
            "stages": Stage.allCases.map { ["code": $0.rawValue, "selected": f["stage"] == $0.rawValue] },
            "markets": Market.allCases.map { ["code": $0.rawValue, "selected": f["market"] == $0.rawValue] },
            "statuses": FacilitatorStatus.allCases.map { ["code": $0.rawValue, "selected": f["status"] == $0.rawValue] },
            "levels": CooperationLevel.allCases.map { ["code": $0.rawValue, "selected": f["cooperation"] == $0.rawValue] },
            "ruleRows": ruleRows, "overrideRows": overrideRows,
            "errors": fieldErrors, "invalid": !errors.isEmpty,
            // Anything no field shows, so that no refusal goes unsaid.
            "otherErrors": messages.keys.sorted().filter { !placed.contains($0) }.map { ["field": $0, "message": messages[$0]!] },
        ]
        return pages.page("campaign_form", title: pages.text("campaigns.newTitle"), data, session: session, status: status)
    }

    /// Reads the form the way the API reads its JSON: shapes here, every rule in `CampaignStore.create`.
    func createCampaign(_ form: PageForm, session: PageSession) async throws -> Response {
        var values = CampaignFormValues()
        var errors = FieldErrors()
        values.name = form["name"] ?? ""
        var kind = LetterKind.informCallToAction
        if let raw = form.text("kind") {
            values.kind = raw
            if let k = LetterKind(rawValue: raw) { kind = k } else { errors.add("kind", pages.text("campaigns.notKind")) }
        }
        for key in CampaignStore.filterKeys {
            if let value = form.text(key) { values.filter[key] = value }
        }
        var days: Int?
        if let raw = form.text("response_days") {
            values.responseDays = raw
            days = Int(raw)
            if days == nil { errors.add("response_days", pages.text("campaigns.notWholeDays")) }
        } else {
            values.responseDays = form["response_days"] ?? ""
        }
        var byCountry: [String: LetterLanguage] = [:]
        for i in 0..<Self.languageRuleRows {
            let country = form.text("language_country\(i)"), language = form.text("language\(i)")
            values.rules.append((form["language_country\(i)"] ?? "", form["language\(i)"] ?? ""))
            guard country != nil || language != nil else { continue }
            guard let country = country?.uppercased() else { errors.add("rule\(i)", pages.text("campaigns.chooseCountry")); continue }
            guard let chosen = language.flatMap(LetterLanguage.init(rawValue:)) else {
                errors.add("rule\(i)", pages.text("campaigns.chooseLanguage")); continue
            }
            if byCountry[country] != nil { errors.add("rule\(i)", pages.text("campaigns.twice")); continue }
            byCountry[country] = chosen
        }
        var overrides: [UUID: LetterLanguage] = [:]
        for i in 0..<Self.languageOverrideRows {
            let supplier = form.text("override_supplier\(i)"), language = form.text("override_language\(i)")
            values.overrides.append((form["override_supplier\(i)"] ?? "", form["override_language\(i)"] ?? ""))
            guard supplier != nil || language != nil else { continue }
            guard let supplier else { errors.add("override\(i)", pages.text("campaigns.chooseSupplier")); continue }
            guard let id = UUID(uuidString: supplier) else { errors.add("override\(i)", pages.text("campaigns.notSupplierID")); continue }
            guard let chosen = language.flatMap(LetterLanguage.init(rawValue:)) else {
                errors.add("override\(i)", pages.text("campaigns.chooseLanguage")); continue
            }
            if overrides[id] != nil { errors.add("override\(i)", pages.text("campaigns.twice")); continue }
            overrides[id] = chosen
        }
        if !errors.isEmpty {
            return try await campaignForm(session: session, values: values, errors: errors.errors, status: .unprocessableContent)
        }
        do {
            let record = try await campaigns.create(
                .init(name: values.name, kind: kind, filter: values.filter, languageByCountry: byCountry, languageOverrides: overrides,
                      responseDays: days),
                agencyID: session.identity.agencyID, actor: session.identity.actor(requestID: nil))
            return Response(status: .seeOther, headers: [.location: "/campaigns/\(record.id.uuidString.lowercased())?done=created"])
        } catch StoreError.invalid(let problems) {
            return try await campaignForm(session: session, values: values, errors: problems, status: .unprocessableContent)
        }
    }

    // MARK: A campaign's page

    /// Whether the campaign's letters or their PDFs are still being made (the page then reloads itself).
    static func campaignRunning(status: String, lettersDone: Int, pdfsDone: Int) -> Bool {
        status == "generating" || (status == "generated" && pdfsDone < lettersDone)
    }

    /// The campaign's page. `step` names the step just taken (`created`, `approved`) for the flash; while the
    /// letters are being made the page reloads itself every few seconds unless `reload` is false.
    func campaignPage(_ id: UUID, session: PageSession, step: String? = nil, reload: Bool = true, refusal: String? = nil,
                      status: HTTPResponse.Status = .ok) async throws -> Response {
        let record = try await campaigns.get(id)
        var o = Self.object(record.json)
        o["version"] = record.version
        let state = o["status"] as? String ?? ""
        let p = o["progress"] as? [String: Any] ?? [:]
        let total = p["letters_total"] as? Int ?? 0, done = p["letters_done"] as? Int ?? 0, pdfs = p["pdfs_done"] as? Int ?? 0
        let running = Self.campaignRunning(status: state, lettersDone: done, pdfsDone: pdfs)
        o["isDraft"] = state == "draft"
        o["running"] = running
        o["failed"] = state == "failed"
        o["done"] = state == "generated" && !running
        o["started"] = state != "draft"
        // A <progress> needs a maximum above zero.
        o["lettersMax"] = max(total, 1)
        o["lettersDone"] = done
        o["pdfsMax"] = max(done, 1)
        o["pdfsDone"] = pdfs
        o["lettersOf"] = pages.text("campaigns.of", ["done": String(done), "total": String(total)])
        o["pdfsOf"] = pages.text("campaigns.of", ["done": String(pdfs), "total": String(done)])
        o["lastError"] = o["last_error"] as? String ?? ""
        o["created"] = Self.minute(o["created_at"] as? String)
        o["approved"] = Self.minute(o["approved_at"] as? String)
        o["letterDate"] = o["letter_date"] as? String ?? ""
        o["reloading"] = running && reload
        o["stopped"] = running && !reload
        o["refreshing"] = pages.text("campaigns.refreshing", ["seconds": String(Self.campaignRefreshSeconds)])
        o["resume"] = pages.text("campaigns.resume", ["seconds": String(Self.campaignRefreshSeconds)])
        let filter = (o["filter"] as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
        o["filterItems"] = filter.keys.sorted().map { ["key": $0, "value": filter[$0]!] }
        o["registry"] = "/suppliers" + (filter.isEmpty ? "" : "?" + Self.queryString(filter))
        o["again"] = "/campaigns/new" + (filter.isEmpty ? "" : "?" + Self.queryString(filter))
        let rules = (o["language_by_country"] as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
        o["rules"] = rules.keys.sorted().map { ["country": $0, "language": rules[$0]!] }
        let exceptions = (o["language_overrides"] as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
        o["exceptions"] = exceptions.keys.sorted().map { ["supplier": $0, "language": exceptions[$0]!] }
        if state == "draft" {
            let preview = Self.object(try await campaigns.preview(id, sample: Self.campaignSample))
            o["preview"] = [
                "letters": preview["letters"] ?? 0, "skipped": preview["skipped_without_address"] ?? 0,
                "samples": (preview["sample"] as? [[String: Any]] ?? []).enumerated().map { i, s -> [String: Any] in
                    ["first": i == 0, "facilitator_id": s["facilitator_id"] ?? "", "subject": s["subject"] ?? "", "text": s["text"] ?? "",
                     "heading": pages.text("campaigns.sampleOf", ["supplier": s["supplier_name"] as? String ?? "",
                                                                  "language": s["language"] as? String ?? "",
                                                                  "template": s["template"] as? String ?? ""])]
                },
            ] as [String: Any]
            o["samplesAny"] = !((preview["sample"] as? [Any]) ?? []).isEmpty
        }
        if let refusal { o["refusal"] = refusal }
        // The flash of an approval stays while the page reloads itself, not once the campaign is done.
        let flash: String? = switch step {
        case "created" where state == "draft": pages.text("campaigns.savedDraft")
        case "approved" where running: pages.text("campaigns.approved")
        default: nil
        }
        return pages.page("campaign", title: o["name"] as? String ?? pages.text("campaigns.listTitle"), o, session: session, status: status,
                          flash: flash, refreshSeconds: running && reload ? Self.campaignRefreshSeconds : nil)
    }
}
