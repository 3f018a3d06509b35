import BarrierCore
import BarrierStore
import Foundation
import Hummingbird

/// Home and the registry in the browser: the dashboard, the supplier list with
/// the API's filters, fuzzy search and keyset pages, a supplier's page with its
/// whole timeline, and the forms to register, edit, archive and merge. Every
/// change goes through `FacilitatorStore`, as the API's does.
extension PageController {
    static let contactRows = 3

    func registerRegistryPages(on router: Router<BarrierRequestContext>) {
        router.get("home") { request, _ in try await withSession(request) { session in try await home(session) } }
        router.get("suppliers") { request, _ in try await withSession(request) { session in try await supplierList(request, session: session) } }
        router.get("suppliers/new") { request, _ in
            try await withSession(request, roles: RoleSets.writers) { session in
                try await supplierForm(session: session, title: pages.text("registry.create"), action: "/suppliers", values: [:])
            }
        }
        router.post("suppliers") { request, _ in try await withForm(request, roles: RoleSets.writers) { s, f in try await createSupplier(f, session: s) } }
        router.get("suppliers/{id}") { request, context in
            let created = request.uri.queryParameters["created"] == "1"
            let lookForDuplicates = request.uri.queryParameters["duplicates"] == "1"
            return try await withSession(request) { session in
                try await supplierPage(try context.uuidParameter(), session: session, flash: created ? pages.text("registry.created") : nil,
                                       duplicates: lookForDuplicates)
            }
        }
        router.get("suppliers/{id}/edit") { request, context in
            try await withSession(request, roles: RoleSets.writers) { session in try await editForm(try context.uuidParameter(), session: session) }
        }
        router.post("suppliers/{id}") { request, context in
            let id = try context.uuidParameter()
            return try await withForm(request, roles: RoleSets.writers) { s, f in try await updateSupplier(id, f, session: s) }
        }
        router.post("suppliers/{id}/archive") { request, context in
            let id = try context.uuidParameter()
            return try await withForm(request, roles: RoleSets.writers) { s, f in
                _ = try await facilitators.archive(id, expectedVersion: try version(f), actor: s.identity.actor(requestID: nil))
                return try await supplierPage(id, session: s, flash: pages.text("registry.archived"))
            }
        }
        router.post("suppliers/{id}/merge") { request, context in
            let id = try context.uuidParameter()
            return try await withForm(request, roles: RoleSets.writers) { s, f in
                guard let duplicate = f.text("duplicate_id").flatMap(UUID.init(uuidString:)) else {
                    return try await supplierPage(id, session: s, errors: ["duplicate_id": "must be the id (UUID) of the duplicate supplier"],
                                                  status: .unprocessableContent)
                }
                _ = try await facilitators.merge(id, duplicate: duplicate, expectedVersion: try version(f), actor: s.identity.actor(requestID: nil))
                return try await supplierPage(id, session: s, flash: pages.text("registry.merged"))
            }
        }
    }

    func version(_ form: PageForm) throws -> Int {
        guard let raw = form.text("version"), let v = Int(raw), v >= 0 else {
            throw Problem.badRequest("The form names no version of the record; open the page again.")
        }
        return v
    }

    // MARK: Home

    func home(_ session: PageSession) async throws -> Response {
        let d = try await reports.dashboard(userID: session.identity.userID)
        let report = try await reports.report(.cooperation, ReportFilter(), by: .sector)
        var data: [String: Any] = [
            "cards": [
                ["label": pages.text("home.overdue"), "count": d.lettersOverdue, "href": "/letters?overdue=1"],
                ["label": pages.text("home.waitingDecision"), "count": d.actionsWaitingForDecision, "href": "/actions"],
                ["label": pages.text("home.waitingSecond"), "count": d.actionsWaitingForSecondOfficer, "href": "/actions"],
                ["label": pages.text("home.lapsed"), "count": d.commitmentsLapsed],
                ["label": pages.text("home.campaigns"), "count": d.campaignsInProgress, "href": "/campaigns"],
                ["label": pages.text("home.emailsFailed"), "count": d.emailsFailed, "href": "/letters?email=failed"],
                ["label": pages.text("home.emailsUncertain"), "count": d.emailsUncertain, "href": "/letters?email=uncertain"],
            ] as [[String: Any]],
        ]
        if let table = report.tables.first(where: { $0.name == "levels" }),
           let sector = table.columns.firstIndex(where: { $0.name == "sector" }),
           let level = table.columns.firstIndex(where: { $0.name == "level" }),
           let count = table.columns.firstIndex(where: { $0.name == "suppliers" }) {
            var bySector: [String: [String: Int]] = [:]
            for row in table.rows { bySector[row[sector] ?? "", default: [:]][row[level] ?? "", default: 0] += Int(row[count] ?? "") ?? 0 }
            let levels = CooperationLevel.allCases.map(\.rawValue)
            data["levels"] = levels
            data["rows"] = bySector.keys.sorted().map { name in
                let counts = bySector[name] ?? [:]
                return ["sector": name, "href": "/suppliers?sector=\(name)",
                        "cells": levels.map { ["count": counts[$0] ?? 0, "href": "/suppliers?sector=\(name)&cooperation=\($0)"] },
                        "total": counts.values.reduce(0, +)] as [String: Any]
            }
            data["total"] = bySector.values.flatMap(\.values).reduce(0, +)
        }
        return pages.page("home", title: pages.text("home.title"), data, session: session)
    }

    // MARK: The list

    func supplierList(_ request: Request, session: PageSession) async throws -> Response {
        var parameters: [String: String] = [:]
        for (key, value) in request.uri.queryParameters where !value.isEmpty { parameters[String(key)] = String(value) }
        let sectors = try await facilitators.sectors()
        var data: [String: Any] = ["filter": parameters]
        data["sectors"] = sectors.sorted().map { ["code": $0, "selected": parameters["sector"] == $0] }
        data["stages"] = Stage.allCases.map { ["code": $0.rawValue, "selected": parameters["stage"] == $0.rawValue] }
        data["markets"] = Market.allCases.map { ["code": $0.rawValue, "selected": parameters["market"] == $0.rawValue] }
        data["statuses"] = FacilitatorStatus.allCases.map { ["code": $0.rawValue, "selected": parameters["status"] == $0.rawValue] }
        data["levels"] = CooperationLevel.allCases.map { ["code": $0.rawValue, "selected": parameters["cooperation"] == $0.rawValue] }
        do {
            let query = try FacilitatorQuery(parameters: parameters, knownSectors: sectors)
            let page = try await facilitators.list(query)
            data["items"] = page.items.map { json -> [String: Any] in
                let o = Self.object(json)
                return ["id": o["id"] ?? "", "name": o["legal_name"] ?? "", "sector": o["sector"] ?? "", "country": o["country"] ?? "",
                        "status": o["status"] ?? "", "city": o["city"] as? String ?? ""]
            }
            if let next = page.nextCursor {
                var p = parameters
                p["cursor"] = next
                data["next"] = "/suppliers?" + Self.queryString(p)
            }
            if parameters["cursor"] != nil {
                var p = parameters
                p["cursor"] = nil
                data["first"] = "/suppliers" + (p.isEmpty ? "" : "?" + Self.queryString(p))
            }
            return pages.page("suppliers", title: pages.text("registry.title"), data, session: session)
        } catch StoreError.invalid(let problems) {
            data["errors"] = Dictionary(problems.map { ($0.field, $0.message) }, uniquingKeysWith: { a, _ in a })
            data["invalid"] = true
            return pages.page("suppliers", title: pages.text("registry.title"), data, session: session, status: .badRequest)
        }
    }

    static func queryString(_ parameters: [String: String]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return parameters.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }

    static func object(_ json: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
    }

    // MARK: A supplier's page

    /// The supplier's page. The search for possible duplicates runs only when asked
    /// (`duplicates`): a fuzzy match over the whole registry, it costs more than the
    /// rest of the page together (75 ms for a common name on 1M suppliers).
    func supplierPage(_ id: UUID, session: PageSession, flash: String? = nil, errors: [String: String] = [:],
                      status: HTTPResponse.Status = .ok, duplicates lookForDuplicates: Bool = false) async throws -> Response {
        let record = try await facilitators.get(id)
        var o = Self.object(record.json)
        o["version"] = record.version
        o["aliases_text"] = (o["aliases"] as? [String] ?? []).joined(separator: ", ")
        o["stages_text"] = (o["stages"] as? [String] ?? []).joined(separator: ", ")
        o["markets_text"] = (o["markets"] as? [String] ?? []).joined(separator: ", ")
        o["contacts"] = (o["contacts"] as? [[String: Any]] ?? []).map { $0.mapValues { $0 is NSNull ? "" : $0 } }
        o["archived"] = (o["status"] as? String) == FacilitatorStatus.archived.rawValue
        let level = try await cooperation.level(id)
        o["level"] = Self.object(level.json)["level"] ?? CooperationLevel.notContacted.rawValue
        let entries = try await facilitators.timeline(id)
        o["timeline"] = entries.map { e -> [String: Any] in
            ["day": e.day, "kind": e.kind, "summary": e.summary]
        }
        o["duplicatesChecked"] = lookForDuplicates
        let duplicates = (o["archived"] as? Bool) == true || !lookForDuplicates ? [] : try await facilitators.duplicates(of: id)
        o["duplicates"] = duplicates.map { ["id": $0.id, "name": $0.legalName, "country": $0.country, "field": $0.matchedField,
                                            "score": String(format: "%.2f", $0.score)] }
        let letterItems = try await letters.list(facilitatorID: id, limit: 200).map { json -> [String: Any] in
            let l = Self.object(json)
            return ["id": l["id"] ?? "", "reference": l["reference"] as? String ?? "", "kind": l["kind"] ?? "", "status": l["status"] ?? ""]
        }
        o["letters"] = letterItems
        o["remindable"] = letterItems.filter {
            LetterStatus(rawValue: $0["status"] as? String ?? "").map(LetterDrafting.remindable.contains) ?? false
        }
        o["letterKinds"] = LetterKind.allCases.filter(LetterDrafting.officerKinds.contains).map(\.rawValue)
        o["languages"] = LetterLanguage.allCases.map(\.rawValue)
        o["errors"] = errors
        return pages.page("supplier", title: o["legal_name"] as? String ?? "", o, session: session, status: status, flash: flash)
    }

    // MARK: Forms

    /// The form's fields as typed (or as stored), errors beside each.
    func supplierForm(session: PageSession, title: String, action: String, values: [String: Any], errors: [FieldError] = [],
                      candidates: [DuplicateCandidate] = [], overridable: Bool = true, status: HTTPResponse.Status = .ok) async throws -> Response {
        var data = values
        let stages = Set(values["stages"] as? [String] ?? []), markets = Set(values["markets"] as? [String] ?? [])
        let sector = values["sector"] as? String
        data["sectors"] = try await facilitators.sectors().sorted().map { ["code": $0, "selected": sector == $0] }
        data["stageOptions"] = Stage.allCases.map { ["code": $0.rawValue, "checked": stages.contains($0.rawValue)] }
        data["marketOptions"] = Market.allCases.map { ["code": $0.rawValue, "checked": markets.contains($0.rawValue)] }
        var contacts = values["contacts"] as? [[String: Any]] ?? []
        while contacts.count < Self.contactRows { contacts.append([:]) }
        var messages: [String: String] = [:]
        for e in errors where messages[e.field] == nil { messages[e.field] = e.message }
        data["contactRows"] = contacts.enumerated().map { i, c -> [String: Any] in
            var row = c
            row["index"] = i
            row["number"] = i + 1
            row["errors"] = ["name": messages["contacts[\(i)].name"], "email": messages["contacts[\(i)].email"],
                             "phone": messages["contacts[\(i)].phone"], "role": messages["contacts[\(i)].role"]].compactMapValues { $0 }
            return row
        }
        data["errors"] = messages
        data["invalid"] = !errors.isEmpty
        data["action"] = action
        data["heading"] = title
        if !candidates.isEmpty {
            data["candidates"] = candidates.map { ["id": $0.id, "name": $0.legalName, "country": $0.country, "field": $0.matchedField,
                                                   "score": String(format: "%.2f", $0.score)] }
            data["overridable"] = overridable
        }
        return pages.page("supplier_form", title: title, data, session: session, status: status)
    }

    /// What the form sent, as a patch of every field (blank optional fields clear them), and the values to show again.
    func patch(from form: PageForm) -> (FacilitatorPatch, [String: Any]) {
        var p = FacilitatorPatch()
        var values: [String: Any] = [:]
        func text(_ key: String) -> String? {
            let v = form.text(key)
            values[key] = form[key] ?? ""
            return v
        }
        p.legalName = text("legal_name") ?? ""
        let aliases = (form["aliases"] ?? "").split(whereSeparator: \.isNewline).map { $0.trimmingWhitespace }.filter { !$0.isEmpty }
        p.aliases = aliases
        values["aliases"] = form["aliases"] ?? ""
        p.sector = text("sector") ?? ""
        values["sector"] = form["sector"] ?? ""
        let stages = form.all("stages"), markets = form.all("markets")
        p.stages = stages.compactMap(Stage.init(rawValue:))
        p.markets = markets.compactMap(Market.init(rawValue:))
        values["stages"] = stages
        values["markets"] = markets
        p.country = (text("country") ?? "").uppercased()
        p.registrationNumber = .some(text("registration_number"))
        p.vatNumber = .some(text("vat_number"))
        p.street = .some(text("street"))
        p.postalCode = .some(text("postal_code"))
        p.city = .some(text("city"))
        p.website = .some(text("website"))
        p.email = .some(text("email"))
        p.phone = .some(text("phone"))
        p.notes = text("notes") ?? ""
        p.naturalPerson = form["natural_person"] == "true"
        values["natural_person"] = p.naturalPerson
        var contacts: [ContactPoint] = [], shown: [[String: Any]] = []
        for i in 0..<Self.contactRows {
            let name = form.text("contact\(i)_name"), role = form.text("contact\(i)_role")
            let email = form.text("contact\(i)_email"), phone = form.text("contact\(i)_phone")
            shown.append(["name": form["contact\(i)_name"] ?? "", "role": form["contact\(i)_role"] ?? "",
                          "email": form["contact\(i)_email"] ?? "", "phone": form["contact\(i)_phone"] ?? ""])
            if name == nil && role == nil && email == nil && phone == nil { continue }
            contacts.append(ContactPoint(name: name ?? "", role: role, email: email, phone: phone))
        }
        p.contacts = contacts
        values["contacts"] = shown
        return (p, values)
    }

    func createSupplier(_ form: PageForm, session: PageSession) async throws -> Response {
        let (patch, values) = patch(from: form)
        let title = pages.text("registry.create")
        do {
            let record = try await facilitators.create(patch, allowDuplicates: form["create_anyway"] == "1",
                                                       actor: session.identity.actor(requestID: nil))
            return Response(status: .seeOther, headers: [.location: "/suppliers/\(record.id.uuidString.lowercased())?created=1"])
        } catch StoreError.invalid(let errors) {
            return try await supplierForm(session: session, title: title, action: "/suppliers", values: values, errors: errors,
                                          status: .unprocessableContent)
        } catch StoreError.duplicates(let candidates, let overridable) {
            return try await supplierForm(session: session, title: title, action: "/suppliers", values: values, candidates: candidates,
                                          overridable: overridable, status: .conflict)
        }
    }

    func editForm(_ id: UUID, session: PageSession) async throws -> Response {
        let record = try await facilitators.get(id)
        var o = Self.object(record.json)
        o["aliases"] = (o["aliases"] as? [String] ?? []).joined(separator: "\n")
        o["version"] = record.version
        o["editing"] = true
        o["contacts"] = (o["contacts"] as? [[String: Any]] ?? []).map { $0.mapValues { $0 is NSNull ? "" : $0 } }
        return try await supplierForm(session: session, title: pages.text("registry.edit", ["name": o["legal_name"] as? String ?? ""]),
                                      action: "/suppliers/\(id.uuidString.lowercased())", values: o)
    }

    func updateSupplier(_ id: UUID, _ form: PageForm, session: PageSession) async throws -> Response {
        var (patch, values) = patch(from: form)
        patch.status = nil
        values["version"] = form["version"] ?? ""
        values["editing"] = true
        let title = pages.text("registry.edit", ["name": form["legal_name"] ?? ""])
        do {
            _ = try await facilitators.update(id, patch, expectedVersion: try version(form), actor: session.identity.actor(requestID: nil))
            return try await supplierPage(id, session: session, flash: pages.text("registry.saved"))
        } catch StoreError.invalid(let errors) {
            return try await supplierForm(session: session, title: title, action: "/suppliers/\(id.uuidString.lowercased())", values: values,
                                          errors: errors, status: .unprocessableContent)
        }
    }
}

/// The role sets the pages check (the same as the API's).
enum RoleSets {
    static let everyone: Set<Role> = Set(Role.allCases)
    static let writers: Set<Role> = Set(Role.allCases.filter(\.canWrite))
    static let admins: Set<Role> = [.admin]
}
