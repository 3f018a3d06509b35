import BarrierCore
import BarrierStore
import Foundation
import Hummingbird

/// Signals in the browser: record one about a supplier, read it with its
/// versions and evidence files, correct it (a new version with the reason),
/// attach evidence, and share it with another agency. Each step calls the
/// `SignalStore` use case the API calls.
extension PageController {
    func registerSignalPages(on router: Router<BarrierRequestContext>) {
        router.get("signals/new") { request, _ in
            let supplier = request.uri.queryParameters["facilitator_id"].map(String.init) ?? ""
            return try await withSession(request, roles: RoleSets.writers) { session in
                try await signalForm(session: session, values: ["facilitator_ids": supplier], action: "/signals")
            }
        }
        router.post("signals") { request, _ in try await withForm(request, roles: RoleSets.writers) { s, f in try await recordSignal(nil, f, session: s) } }
        router.get("signals/{id}") { request, context in
            try await withSession(request) { session in try await signalPage(try context.uuidParameter(), session: session) }
        }
        router.get("signals/{id}/correct") { request, context in
            let id = try context.uuidParameter()
            return try await withSession(request, roles: RoleSets.writers) { session in
                let record = try await signals.get(id)
                var values = Self.object(record.json)
                values["facilitator_ids"] = (values["facilitator_ids"] as? [String] ?? []).joined(separator: "\n")
                values["market_actor"] = values["market_actor"] as? String ?? ""
                values["version"] = record.version
                values["correcting"] = true
                return try await signalForm(session: session, values: values, action: "/signals/\(id.uuidString.lowercased())/corrections")
            }
        }
        router.post("signals/{id}/corrections") { request, context in
            let id = try context.uuidParameter()
            return try await withForm(request, roles: RoleSets.writers) { s, f in try await recordSignal(id, f, session: s) }
        }
        router.post("signals/{id}/attachments") { request, context in
            let id = try context.uuidParameter()
            return try await withForm(request, roles: RoleSets.writers) { s, f in
                guard let file = f.files["attachment"] else {
                    return try await signalPage(id, session: s, errors: [FieldError(field: "attachment", message: "choose a file")],
                                                status: .unprocessableContent)
                }
                do {
                    _ = try await signals.attach(id, file, actor: s.identity.actor(requestID: nil))
                } catch StoreError.invalid(let problems) {
                    return try await signalPage(id, session: s, errors: problems, status: .unprocessableContent)
                }
                return try await signalPage(id, session: s, flash: pages.text("signal.attached"))
            }
        }
        router.get("signals/{id}/attachments/{attachment}") { request, context in
            let id = try context.uuidParameter()
            let attachment = try context.uuidParameter("attachment")
            return try await withSession(request) { _ in .file(try await signals.attachment(id, attachmentID: attachment)) }
        }
        router.post("signals/{id}/shares") { request, context in
            let id = try context.uuidParameter()
            return try await withForm(request, roles: RoleSets.writers) { s, f in
                do {
                    _ = try await signals.share(id, with: f.text("agency") ?? "", legalBasis: f.text("legal_basis") ?? "",
                                                handlingNote: f.text("handling_note") ?? "", actor: s.identity.actor(requestID: nil))
                } catch StoreError.invalid(let problems) {
                    return try await signalPage(id, session: s, errors: problems, status: .unprocessableContent)
                }
                return try await signalPage(id, session: s, flash: pages.text("signal.shared"))
            }
        }
    }

    func signalForm(session: PageSession, values: [String: Any], action: String, errors: [FieldError] = [],
                    status: HTTPResponse.Status = .ok) async throws -> Response {
        var data = values
        let indicators = (try? JSONSerialization.jsonObject(with: Data(try await signals.indicators().utf8))) as? [[String: Any]] ?? []
        let chosen = values["indicator"] as? String
        data["indicators"] = indicators.map { ["code": $0["code"] ?? "", "label": $0["label"] ?? "", "selected": chosen == ($0["code"] as? String)] }
        data["types"] = SignalType.allCases.map { ["code": $0.rawValue, "selected": values["type"] as? String == $0.rawValue] }
        data["stages"] = Stage.allCases.map { ["code": $0.rawValue, "selected": values["stage"] as? String == $0.rawValue] }
        var messages: [String: String] = [:]
        for e in errors where messages[e.field] == nil { messages[e.field] = e.message }
        data["errors"] = messages
        data["invalid"] = !errors.isEmpty
        data["action"] = action
        return pages.page("signal_form", title: pages.text(values["correcting"] != nil ? "signal.correctTitle" : "signal.newTitle"), data,
                          session: session, status: status)
    }

    /// A new signal (`id` nil) or a correction of signal `id`.
    func recordSignal(_ id: UUID?, _ form: PageForm, session: PageSession) async throws -> Response {
        var values: [String: Any] = [:]
        for key in ["type", "stage", "indicator", "indicator_text", "observed_on", "source", "reporter", "description", "facilitator_ids",
                    "market_actor", "correction_reason", "version"] {
            values[key] = form[key] ?? ""
        }
        if id != nil { values["correcting"] = true }
        let suppliers = (form["facilitator_ids"] ?? "").split(whereSeparator: { $0.isWhitespace || $0 == "," }).map { $0.lowercased() }
        var problems: [FieldError] = []
        let type = form.text("type").flatMap(SignalType.init(rawValue:)), stage = form.text("stage").flatMap(Stage.init(rawValue:))
        if type == nil { problems.append(FieldError(field: "type", message: "choose the type of signal")) }
        if stage == nil { problems.append(FieldError(field: "stage", message: "choose the stage it concerns")) }
        let action = id.map { "/signals/\($0.uuidString.lowercased())/corrections" } ?? "/signals"
        if let type, let stage {
            let draft = SignalDraft(type: type, stage: stage, indicatorCode: form.text("indicator"), indicatorText: form.text("indicator_text"),
                                    observedOn: form.text("observed_on") ?? "", source: form.text("source") ?? "",
                                    reporter: form.text("reporter") ?? "", description: form.text("description") ?? "", facilitatorIDs: suppliers,
                                    marketActor: form.text("market_actor"))
            do {
                let actor = session.identity.actor(requestID: nil)
                if let id {
                    _ = try await signals.correct(id, draft, reason: form.text("correction_reason") ?? "", expectedVersion: try version(form),
                                                  actor: actor)
                    return try await signalPage(id, session: session, flash: pages.text("signal.corrected"))
                }
                let record = try await signals.create(draft, actor: actor)
                let created = Self.object(record.json)["id"] as? String ?? ""
                return Response(status: .seeOther, headers: [.location: "/signals/\(created)"])
            } catch StoreError.invalid(let errors) {
                problems = errors
            }
        }
        return try await signalForm(session: session, values: values, action: action, errors: problems, status: .unprocessableContent)
    }

    func signalPage(_ id: UUID, session: PageSession, flash: String? = nil, errors: [FieldError] = [],
                    status: HTTPResponse.Status = .ok) async throws -> Response {
        let record = try await signals.get(id)
        var o = Self.object(record.json)
        o["version"] = record.version
        o["attachments"] = (o["attachments"] as? [[String: Any]] ?? []).map { $0.mapValues { $0 is NSNull ? "" : $0 } }
        let supplierIDs = o["facilitator_ids"] as? [String] ?? []
        o["suppliers"] = try await supplierIDs.asyncMap { sid -> [String: Any] in
            let name = (try? await facilitators.get(UUID(uuidString: sid) ?? UUID())).map { Self.object($0.json)["legal_name"] ?? "" } ?? ""
            return ["id": sid, "name": name]
        }
        o["facilitator_ids_text"] = supplierIDs.joined(separator: "\n")
        if !(o["market_actor"] is String) { o.removeValue(forKey: "market_actor") }
        o["own"] = !(o["read_only"] as? Bool ?? false)
        o["agency_name"] = (o["agency"] as? [String: Any])?["name"] ?? ""
        var messages: [String: String] = [:]
        for e in errors where messages[e.field] == nil { messages[e.field] = e.message }
        o["errors"] = messages
        o["problems"] = errors.map { ["field": $0.field, "message": $0.message] }
        o["invalid"] = !errors.isEmpty
        o["signal_id"] = id.uuidString.lowercased()
        o["types"] = SignalType.allCases.map { ["code": $0.rawValue, "selected": o["type"] as? String == $0.rawValue] }
        o["stages"] = Stage.allCases.map { ["code": $0.rawValue, "selected": o["stage"] as? String == $0.rawValue] }
        return pages.page("signal", title: pages.text("signal.title"), o, session: session, status: status, flash: flash)
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
