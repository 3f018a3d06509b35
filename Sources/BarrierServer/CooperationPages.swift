import BarrierCore
import BarrierStore
import Foundation
import Hummingbird

/// Cooperation and measures in the browser, for one supplier: the agency's
/// level with its history and the form to change it (a reason required), the
/// contacts log, and the commitments with their implemented and verified
/// steps. Each change calls the `CooperationStore` use case the API calls.
extension PageController {
    func registerCooperationPages(on router: Router<BarrierRequestContext>) {
        router.get("suppliers/{id}/cooperation") { request, context in
            try await withSession(request) { session in try await cooperationPage(try context.uuidParameter(), session: session) }
        }
        router.post("suppliers/{id}/cooperation") { request, context in
            let id = try context.uuidParameter()
            return try await withForm(request, roles: RoleSets.writers) { s, f in
                try await cooperationChange(id, session: s, flash: "cooperation.changed") {
                    guard let level = f.text("level").flatMap(CooperationLevel.init(rawValue:)) else {
                        throw StoreError.invalid([FieldError(field: "level", message: "choose a level")])
                    }
                    _ = try await cooperation.change(id, to: level, reason: f.text("reason") ?? "",
                                                     letterID: f.text("letter_id").flatMap(UUID.init(uuidString:)),
                                                     contactID: f.text("contact_id").flatMap(UUID.init(uuidString:)),
                                                     expectedVersion: try version(f), actor: s.identity.actor(requestID: nil))
                }
            }
        }
        router.post("suppliers/{id}/contacts") { request, context in
            let id = try context.uuidParameter()
            return try await withForm(request, roles: RoleSets.writers) { s, f in
                try await cooperationChange(id, session: s, flash: "cooperation.contactLogged") {
                    guard let kind = f.text("kind").flatMap(ContactKind.init(rawValue:)) else {
                        throw StoreError.invalid([FieldError(field: "kind", message: "choose the kind of contact")])
                    }
                    let participants = (f["participants"] ?? "").split(whereSeparator: \.isNewline).map { $0.trimmingWhitespace }.filter { !$0.isEmpty }
                    _ = try await cooperation.addContact(id, kind: kind, on: f.text("occurred_on") ?? "", participants: participants,
                                                         notes: f.text("notes") ?? "", actor: s.identity.actor(requestID: nil))
                }
            }
        }
        router.post("suppliers/{id}/commitments") { request, context in
            let id = try context.uuidParameter()
            return try await withForm(request, roles: RoleSets.writers) { s, f in
                try await cooperationChange(id, session: s, flash: "cooperation.committed") {
                    _ = try await cooperation.commit(id, measure: f.text("measure") ?? "", committedOn: f.text("committed_on") ?? "",
                                                     dueOn: f.text("due_on") ?? "", letterID: f.text("letter_id").flatMap(UUID.init(uuidString:)),
                                                     notes: f.text("notes") ?? "", actor: s.identity.actor(requestID: nil))
                }
            }
        }
        router.post("suppliers/{id}/commitments/{commitment}") { request, context in
            let id = try context.uuidParameter()
            let commitment = try context.uuidParameter("commitment")
            return try await withForm(request, roles: RoleSets.writers) { s, f in
                try await cooperationChange(id, session: s, flash: "cooperation.stepRecorded") {
                    guard let status = f.text("status").flatMap(MeasureStatus.init(rawValue:)) else {
                        throw StoreError.invalid([FieldError(field: "status", message: "choose implemented or verified")])
                    }
                    _ = try await cooperation.record(commitment, status: status, on: f.text("on") ?? "", method: f.text("method"),
                                                     expectedVersion: try version(f), actor: s.identity.actor(requestID: nil))
                }
            }
        }
    }

    func cooperationChange(_ id: UUID, session: PageSession, flash: String, _ change: () async throws -> Void) async throws -> Response {
        try await afterChange(flash: flash, page: { try await cooperationPage(id, session: session, flash: $0, errors: $1, status: $2) }, change)
    }

    func cooperationPage(_ id: UUID, session: PageSession, flash: String? = nil, errors: [FieldError] = [],
                         status: HTTPResponse.Status = .ok) async throws -> Response {
        let supplier = Self.object(try await facilitators.get(id).json)
        let level = try await cooperation.level(id)
        var o = Self.object(level.json)
        o["version"] = level.version
        o["id"] = id.uuidString.lowercased()
        o["supplier_name"] = supplier["legal_name"] ?? ""
        o["history"] = Array((o["history"] as? [[String: Any]] ?? []).reversed())
        o["levels"] = CooperationLevel.allCases.map { ["code": $0.rawValue, "selected": o["level"] as? String == $0.rawValue] }
        o["contactKinds"] = ContactKind.allCases.map(\.rawValue)
        let contacts = (try? JSONSerialization.jsonObject(with: Data(try await cooperation.contacts(id).utf8))) as? [[String: Any]] ?? []
        o["contacts"] = contacts.map { c -> [String: Any] in
            var c = c
            c["participants_text"] = (c["participants"] as? [String] ?? []).joined(separator: ", ")
            return c
        }
        let sector = supplier["sector"] as? String
        o["measures"] = (try? JSONSerialization.jsonObject(with: Data(try await cooperation.catalogue(sector: sector).utf8))) as? [[String: Any]] ?? []
        o["commitments"] = ((try? JSONSerialization.jsonObject(with: Data(try await cooperation.commitments(id).utf8))) as? [[String: Any]] ?? [])
            .map { c -> [String: Any] in
                var c = c
                let recorded = MeasureStatus(rawValue: c["recorded_status"] as? String ?? "") ?? .committed
                c["canImplement"] = recorded.canMove(to: .implemented)
                c["canVerify"] = recorded.canMove(to: .verified)
                c["lapsed"] = c["status"] as? String == "lapsed"
                return c
            }
        o["letters"] = try await letters.list(facilitatorID: id, limit: 200).compactMap { json -> [String: Any]? in
            let l = Self.object(json)
            guard let reference = l["reference"] as? String else { return nil }
            return ["id": l["id"] ?? "", "reference": reference]
        }
        var messages: [String: String] = [:]
        for e in errors where messages[e.field] == nil { messages[e.field] = e.message }
        o["errors"] = messages
        o["problems"] = errors.map { ["field": $0.field, "message": $0.message] }
        o["invalid"] = !errors.isEmpty
        return pages.page("cooperation", title: pages.text("cooperation.title", ["name": supplier["legal_name"] as? String ?? ""]), o,
                          session: session, status: status, flash: flash)
    }
}
