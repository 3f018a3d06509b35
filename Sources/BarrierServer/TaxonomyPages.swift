import BarrierCore
import BarrierStore
import Foundation
import Hummingbird

/// The barrier model's catalogues in the browser: everyone reads the sectors,
/// indicators, measures and opportunities; an administrator adds an entry or
/// changes one, with a reason, through the store use case the API calls
/// (`TaxonomyStore.create`, `.update`). A broken rule is shown beside its field
/// and nothing is stored; each entry's page lists its versions.
extension PageController {
    func registerTaxonomyPages(on router: Router<BarrierRequestContext>) {
        router.get("admin/taxonomy") { request, _ in try await withSession(request) { session in try await taxonomyList(session: session) } }
        router.post("admin/taxonomy/{catalogue}") { request, context in
            try await withForm(request, roles: RoleSets.admins) { s, f in try await addTaxonomyEntry(try TaxonomyController.catalogue(context), f, session: s) }
        }
        router.get("admin/taxonomy/{catalogue}/{key}") { request, context in
            let added = request.uri.queryParameters["added"] == "1"
            return try await withSession(request) { session in
                try await taxonomyEntryPage(try TaxonomyController.catalogue(context), key: TaxonomyController.key(context), session: session,
                                            flash: added ? pages.text("taxonomy.added") : nil)
            }
        }
        router.post("admin/taxonomy/{catalogue}/{key}") { request, context in
            try await withForm(request, roles: RoleSets.admins) { s, f in
                try await changeTaxonomyEntry(try TaxonomyController.catalogue(context), key: TaxonomyController.key(context), f, session: s)
            }
        }
    }

    /// One field of a catalogue's form: its name, label, kind and options, what it holds, and its error.
    func taxonomyField(_ name: String, kind: String, value: String = "", chosen: [String] = [], options: [String] = [],
                       errors: [String: String]) -> [String: Any] {
        ["name": name, "label": pages.text("taxonomy.field.\(name.replacingOccurrences(of: ".", with: "_"))"), "value": value, "error": errors[name] ?? "",
         "text": kind == "text", "textarea": kind == "textarea", "select": kind == "select", "checks": kind == "checks",
         "options": options.map { ["value": $0, "selected": $0 == value || chosen.contains($0)] }]
    }

    /// The form of `catalogue`: a new entry's (code or stage) or a change's, filled with `values`.
    func taxonomyFields(_ catalogue: TaxonomyCatalogue, creating: Bool, values: [String: [String]], errors: [String: String],
                        sectors: [String]) -> [[String: Any]] {
        let one = { (name: String) in values[name]?.first ?? "" }
        var fields: [[String: Any]] = []
        if creating && catalogue != .opportunities { fields.append(taxonomyField("code", kind: "text", value: one("code"), errors: errors)) }
        if creating && catalogue == .opportunities {
            fields.append(taxonomyField("stage", kind: "select", value: one("stage"), options: Stage.allCases.map(\.rawValue), errors: errors))
        }
        fields.append(taxonomyField("label", kind: "text", value: one("label"), errors: errors))
        switch catalogue {
        case .sectors:
            for language in ["en", "fr", "nl", "de"] {
                fields.append(taxonomyField("names.\(language)", kind: "text", value: one("names.\(language)"), errors: errors))
            }
            fields.append(taxonomyField("letter_group", kind: "select", value: one("letter_group"), options: SectorGroup.allCases.map(\.rawValue),
                                        errors: errors))
            fields.append(taxonomyField("postal", kind: "select", value: one("postal"), options: ["false", "true"], errors: errors))
        case .indicators:
            fields.append(taxonomyField("type", kind: "select", value: one("type"), options: SignalType.allCases.map(\.rawValue), errors: errors))
            fields.append(taxonomyField("stages", kind: "checks", chosen: values["stages"] ?? [], options: Stage.allCases.map(\.rawValue), errors: errors))
            fields.append(taxonomyField("source", kind: "select", value: one("source"), options: TaxonomySource.allCases.map(\.rawValue), errors: errors))
            fields.append(taxonomyField("source_note", kind: "text", value: one("source_note"), errors: errors))
        case .measures:
            fields.append(taxonomyField("description", kind: "textarea", value: one("description"), errors: errors))
            fields.append(taxonomyField("sectors", kind: "checks", chosen: values["sectors"] ?? [], options: sectors, errors: errors))
        case .opportunities:
            fields.append(taxonomyField("source", kind: "select", value: one("source"), options: TaxonomySource.allCases.map(\.rawValue), errors: errors))
        }
        fields.append(taxonomyField("reason", kind: "text", value: one("reason"), errors: errors))
        // Each field's own id, so its label and error belong to it.
        let prefix = creating ? "new-\(catalogue.rawValue)-" : "edit-"
        return fields.map { field in
            var f = field
            f["id"] = prefix + (field["name"] as? String ?? "").replacingOccurrences(of: ".", with: "-")
            f["options"] = (field["options"] as? [[String: Any]] ?? []).enumerated().map { n, option in
                var o = option
                o["id"] = "\(f["id"]!)-\(n)"
                return o
            }
            return f
        }
    }

    /// A draft from a form: only the fields the form of `catalogue` has.
    static func taxonomyDraft(_ catalogue: TaxonomyCatalogue, creating: Bool, _ form: PageForm) -> (TaxonomyDraft, [FieldError]) {
        var d = TaxonomyDraft(label: form.text("label"), reason: form.text("reason"))
        var errors = FieldErrors()
        if creating && catalogue != .opportunities { d.code = form.text("code") ?? "" }
        if creating && catalogue == .opportunities {
            d.stage = form.text("stage").flatMap(Stage.init(rawValue:))
        }
        switch catalogue {
        case .sectors:
            var names: [String: String] = [:]
            for language in ["en", "fr", "nl", "de"] { names[language] = form.text("names.\(language)") ?? "" }
            d.names = names
            d.letterGroup = form.text("letter_group").flatMap(SectorGroup.init(rawValue:))
            d.postal = form.text("postal").map { $0 == "true" }
        case .indicators:
            d.type = form.text("type").flatMap(SignalType.init(rawValue:))
            d.stages = form.all("stages").compactMap(Stage.init(rawValue:))
            d.source = form.text("source").flatMap(TaxonomySource.init(rawValue:))
            d.sourceNote = form.text("source_note")
        case .measures:
            d.description = form.text("description") ?? ""
            d.sectors = form.all("sectors")
        case .opportunities:
            d.source = form.text("source").flatMap(TaxonomySource.init(rawValue:))
        }
        if !creating {
            // A change keeps what the form shows unchanged; an emptied label is refused, not ignored.
            if d.label == nil { errors.add("label", "is required") }
        }
        return (d, errors.errors)
    }

    func taxonomyList(session: PageSession, catalogue: TaxonomyCatalogue? = nil, values: [String: [String]] = [:], errors: [FieldError] = [],
                      flash: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let all = Self.object(try await taxonomy.list())
        let sectors = (all["sectors"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        var messages: [String: String] = [:]
        for e in errors where messages[e.field] == nil { messages[e.field] = e.message }
        let catalogues = TaxonomyCatalogue.allCases.map { c -> [String: Any] in
            let entries = (all[c.rawValue] as? [[String: Any]] ?? []).map { entry -> [String: Any] in
                var row = entry.mapValues { $0 is NSNull ? "" : $0 }
                row["detail"] = [entry["type"], (entry["stages"] as? [String])?.joined(separator: ", "), entry["stage"], entry["source"],
                                 (entry["sectors"] as? [String]).map { $0.isEmpty ? pages.text("taxonomy.allSectors") : $0.joined(separator: ", ") },
                                 (entry["names"] as? [String: Any]).map { names in ["en", "fr", "nl", "de"].compactMap { names[$0] as? String }.joined(separator: " · ") }]
                    .compactMap { $0 as? String }.filter { !$0.isEmpty }.joined(separator: " · ")
                return row
            }
            let mine = c == catalogue
            return ["catalogue": c.rawValue, "title": pages.text("taxonomy.catalogue.\(c.rawValue)"), "entries": entries,
                    "fields": taxonomyFields(c, creating: true, values: mine ? values : [:], errors: mine ? messages : [:], sectors: sectors),
                    "invalid": mine && !errors.isEmpty]
        }
        return pages.page("taxonomy", title: pages.text("taxonomy.title"), ["catalogues": catalogues], session: session, status: status, flash: flash)
    }

    func addTaxonomyEntry(_ catalogue: TaxonomyCatalogue, _ form: PageForm, session: PageSession) async throws -> Response {
        let (draft, formErrors) = Self.taxonomyDraft(catalogue, creating: true, form)
        do {
            if !formErrors.isEmpty { throw StoreError.invalid(formErrors) }
            let created = try await taxonomy.create(catalogue, draft, actor: session.identity.actor(requestID: nil))
            let key = created.key.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? created.key
            return Response(status: .seeOther, headers: [.location: "/admin/taxonomy/\(catalogue.rawValue)/\(key)?added=1"])
        } catch StoreError.invalid(let problems) {
            return try await taxonomyList(session: session, catalogue: catalogue, values: form.values, errors: problems, status: .unprocessableContent)
        }
    }

    func taxonomyEntryPage(_ catalogue: TaxonomyCatalogue, key: String, session: PageSession, values: [String: [String]]? = nil,
                           version: Int? = nil, errors: [FieldError] = [], refusal: String? = nil, flash: String? = nil,
                           status: HTTPResponse.Status = .ok) async throws -> Response {
        let store = taxonomy
        let entry = try await store.entry(catalogue, key: key)
        let stored = Self.object(entry.json)
        let sectors = (Self.object(try await store.list())["sectors"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        var shown: [String: [String]] = ["label": [Self.plain(stored["label"])], "type": [Self.plain(stored["type"])],
                                         "stages": stored["stages"] as? [String] ?? [], "source": [Self.plain(stored["source"])],
                                         "source_note": [Self.plain(stored["source_note"])], "description": [Self.plain(stored["description"])],
                                         "sectors": stored["sectors"] as? [String] ?? [],
                                         "letter_group": [Self.plain(stored["letter_group"])], "postal": [(stored["postal"] as? Bool) == true ? "true" : "false"]]
        for (language, name) in stored["names"] as? [String: Any] ?? [:] { shown["names.\(language)"] = [Self.plain(name)] }
        if let values { shown = values }
        var messages: [String: String] = [:]
        for e in errors where messages[e.field] == nil { messages[e.field] = e.message }
        let history = Self.object("{\"items\": \(try await store.versions(catalogue, key: key))}")["items"] as? [[String: Any]] ?? []
        let versions = history.reversed().map { v -> [String: Any] in
            ["version": v["version"] ?? "", "when": String(Self.plain(v["changed_at"]).prefix(16)).replacingOccurrences(of: "T", with: " "),
             "who": Self.plain(v["changed_by"]), "reason": Self.plain(v["reason"]),
             "label": Self.plain((v["entry"] as? [String: Any])?["label"])]
        }
        let data: [String: Any] = [
            "catalogue": catalogue.rawValue, "catalogueTitle": pages.text("taxonomy.catalogue.\(catalogue.rawValue)"), "key": key,
            "label": Self.plain(stored["label"]), "version": version ?? entry.version, "storedVersion": entry.version,
            "updatedBy": Self.plain(stored["updated_by"]), "versions": versions,
            "fields": taxonomyFields(catalogue, creating: false, values: shown, errors: messages, sectors: sectors),
            "invalid": !errors.isEmpty, "problems": errors.map { ["field": $0.field, "message": $0.message] }, "refusal": refusal ?? "",
        ]
        return pages.page("taxonomy_entry", title: "\(Self.plain(stored["label"])) · \(pages.text("taxonomy.title"))", data, session: session,
                          status: status, flash: flash)
    }

    func changeTaxonomyEntry(_ catalogue: TaxonomyCatalogue, key: String, _ form: PageForm, session: PageSession) async throws -> Response {
        let version = try self.version(form)
        let (draft, formErrors) = Self.taxonomyDraft(catalogue, creating: false, form)
        do {
            if !formErrors.isEmpty { throw StoreError.invalid(formErrors) }
            _ = try await taxonomy.update(catalogue, key: key, draft, expectedVersion: version,
                                                             actor: session.identity.actor(requestID: nil))
        } catch StoreError.invalid(let problems) {
            return try await taxonomyEntryPage(catalogue, key: key, session: session, values: form.values, version: version, errors: problems,
                                               status: .unprocessableContent)
        } catch StoreError.versionConflict {
            return try await taxonomyEntryPage(catalogue, key: key, session: session, refusal: pages.text("taxonomy.stale"), status: .preconditionFailed)
        }
        return try await taxonomyEntryPage(catalogue, key: key, session: session, flash: pages.text("taxonomy.saved"))
    }
}
