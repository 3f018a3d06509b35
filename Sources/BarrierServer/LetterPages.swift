import BarrierCore
import BarrierStore
import Foundation
import Hummingbird

/// Letters in the browser: drafting from a supplier's page, the letter's page
/// with its text and its PDF inline, approving, recording its sending,
/// delivery, return or answer (with the response document), the files, and the
/// list of letters (overdue ones first to remind). Every step calls the same
/// `LetterStore` use case as the API.
extension PageController {
    func registerLetterPages(on router: Router<BarrierRequestContext>) {
        router.get("letters") { request, _ in try await withSession(request) { session in try await letterList(request, session: session) } }
        router.post("suppliers/{id}/letters") { request, context in
            let supplier = try context.uuidParameter()
            return try await withForm(request, roles: RoleSets.writers) { s, f in try await draftLetter(supplier, f, session: s) }
        }
        for format in LetterStore.Format.allCases {
            router.get("letters/{id}.\(format.rawValue)") { request, context in
                let id = try context.uuidParameter()
                return try await withSession(request) { _ in
                    var response = try await LetterController.file(letters, id, format: format)
                    // The letter page shows the PDF inline: this site may frame it, no other.
                    response.headers[.init("Content-Security-Policy")!] = "default-src 'none'; frame-ancestors 'self'"
                    response.headers[.init("X-Frame-Options")!] = "SAMEORIGIN"
                    return response
                }
            }
        }
        router.get("letters/{id}/response-document") { request, context in
            let id = try context.uuidParameter()
            return try await withSession(request) { _ in
                guard let document = try await letters.responseDocument(id) else {
                    throw Problem(.notFound, "Not found", detail: "This letter has no response document.")
                }
                return .file(document)
            }
        }
        router.get("letters/{id}") { request, context in
            try await withSession(request) { session in try await letterPage(try context.uuidParameter(), session: session) }
        }
        router.post("letters/{id}/approve") { request, context in
            let id = try context.uuidParameter()
            return try await withForm(request, roles: RoleSets.writers) { s, f in
                _ = try await letters.approve(id, expectedVersion: try version(f), actor: s.identity.actor(requestID: nil))
                return try await letterPage(id, session: s, flash: pages.text("letter.approved"))
            }
        }
        router.post("letters/{id}/email") { request, context in
            let id = try context.uuidParameter()
            return try await withForm(request, roles: RoleSets.writers) { s, f in
                try await letterChange(id, session: s, flash: "letter.emailQueued") {
                    let confirmed = f.text("confirm_address") == "1"
                    if confirmed && s.identity.role != .admin {
                        throw StoreError.invalid([FieldError(field: "to", message: "only an admin confirms an address that is not the supplier's")])
                    }
                    _ = try await mail.queue(id, to: f.text("to"), otherAddressConfirmedByAdmin: confirmed, expectedVersion: try version(f),
                                             actor: s.identity.actor(requestID: nil))
                }
            }
        }
        for step in EmailRequeue.allCases {
            router.post("letters/{id}/email/\(step.rawValue)") { request, context in
                let id = try context.uuidParameter()
                return try await withForm(request, roles: RoleSets.admins) { s, f in
                    try await letterChange(id, session: s, flash: "letter.email.\(step.rawValue)Done") {
                        _ = try await mail.requeue(id, step, reason: f["reason"] ?? "", byAdmin: s.identity.role == .admin,
                                                   actor: s.identity.actor(requestID: nil))
                    }
                }
            }
        }
        router.post("letters/{id}/steps") { request, context in
            let id = try context.uuidParameter()
            return try await withForm(request, roles: RoleSets.writers) { s, f in try await recordStep(id, f, session: s) }
        }
    }

    // MARK: Drafting

    func draftLetter(_ supplier: UUID, _ form: PageForm, session: PageSession) async throws -> Response {
        var errors = FieldErrors()
        let kind = form.text("kind").flatMap(LetterKind.init(rawValue:))
        if kind == nil { errors.add("kind", "choose the kind of letter") }
        let language = form.text("language").flatMap(LetterLanguage.init(rawValue:))
        if form.text("language") != nil && language == nil { errors.add("language", "is not a language of the letters") }
        var days: Int?
        if let raw = form.text("response_days") {
            days = Int(raw)
            if days == nil { errors.add("response_days", "must be a whole number of days") }
        }
        let reminderOf = form.text("reminder_of").flatMap(UUID.init(uuidString:))
        if form.text("reminder_of") != nil && reminderOf == nil { errors.add("reminder_of", "is not a letter id") }
        if !errors.isEmpty { throw StoreError.invalid(errors.errors) }
        do {
            let record = try await letters.createDraft(
                .init(facilitatorID: supplier, kind: kind!, language: language, responseDays: days, deadline: form.text("deadline"),
                      reminderOf: reminderOf),
                agencyID: session.identity.agencyID, actor: session.identity.actor(requestID: nil))
            return Response(status: .seeOther, headers: [.location: "/letters/\(record.id.uuidString.lowercased())"])
        } catch StoreError.invalid(let problems) {
            return try await supplierPage(supplier, session: session, errors: Dictionary(problems.map { ("letter_" + $0.field, $0.message) },
                                                                                           uniquingKeysWith: { a, _ in a }),
                                          status: .unprocessableContent)
        }
    }

    func letterChange(_ id: UUID, session: PageSession, flash: String, _ change: () async throws -> Void) async throws -> Response {
        try await afterChange(flash: flash, page: { try await letterPage(id, session: session, flash: $0, errors: $1, status: $2) }, change)
    }

    // MARK: The letter's page

    func letterPage(_ id: UUID, session: PageSession, flash: String? = nil, errors: [FieldError] = [],
                    status: HTTPResponse.Status = .ok) async throws -> Response {
        let record = try await letters.get(id)
        var o = Self.object(record.json)
        o["version"] = record.version
        let state = LetterStatus(rawValue: o["status"] as? String ?? "") ?? .draft
        o["text"] = String(decoding: try await letters.file(id, format: .txt), as: UTF8.self)
        o["isDraft"] = state == .draft
        o["approved"] = state != .draft
        let next = Set(state.allowedNext)
        o["canApprove"] = state == .draft
        o["canSend"] = next.contains(.sent)
        o["canDeliver"] = next.contains(.delivered)
        o["canReturn"] = next.contains(.returned)
        o["canRespond"] = next.contains(.responded)
        o["methods"] = SendMethod.allCases.filter { $0 != .email }.map(\.rawValue)
        // E-mail through the relay: offered once for an approved letter; a failed or
        // uncertain message shown with what an admin may do about it.
        let email = (o["email"] as? [String: Any])?.mapValues { $0 is NSNull ? "" : $0 }
        o["email"] = email ?? ""
        o["canEmail"] = state == .approved && email == nil && mail.relay != nil
        let emailState = (email?["state"] as? String).flatMap(EmailState.init(rawValue:))
        o["canRetry"] = emailState == .failed
        o["canRelease"] = emailState == .uncertain
        o["channels"] = ResponseChannel.allCases.map(\.rawValue)
        if let document = o["response_document"] as? [String: Any] { o["document"] = document.mapValues { $0 is NSNull ? "" : $0 } }
        var messages: [String: String] = [:]
        for e in errors where messages[e.field] == nil { messages[e.field] = e.message }
        o["errors"] = messages
        o["invalid"] = !errors.isEmpty
        let title = (o["reference"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? pages.text("letter.draftTitle")
        return pages.page("letter", title: title, o, session: session, status: status, flash: flash)
    }

    /// Sent, delivered, returned or responded: the form's `step` names which.
    func recordStep(_ id: UUID, _ form: PageForm, session: PageSession) async throws -> Response {
        let on = form.text("on") ?? ""
        let step: LetterTrackingStep
        switch form["step"] {
        case "sent":
            guard let method = form.text("method").flatMap(SendMethod.init(rawValue:)) else {
                return try await letterPage(id, session: session, errors: [FieldError(field: "method", message: "choose how the letter went out")],
                                            status: .unprocessableContent)
            }
            step = .sent(on: on, method: method, trackingNumber: form.text("tracking_number"))
        case "delivered": step = .delivered(on: on, proof: form.text("proof"))
        case "returned": step = .returned(on: on, reason: form.text("reason") ?? "")
        case "responded":
            guard let channel = form.text("channel").flatMap(ResponseChannel.init(rawValue:)) else {
                return try await letterPage(id, session: session, errors: [FieldError(field: "channel", message: "choose how the answer came")],
                                            status: .unprocessableContent)
            }
            step = .responded(on: on, channel: channel, summary: form.text("summary"))
        default:
            throw Problem.badRequest("The form names no step.")
        }
        do {
            _ = try await letters.record(id, step: step, attachment: form.files["document"], expectedVersion: try version(form),
                                         actor: session.identity.actor(requestID: nil))
            return try await letterPage(id, session: session, flash: pages.text("letter.recorded", ["step": step.status.rawValue]))
        } catch StoreError.invalid(let problems) {
            return try await letterPage(id, session: session, errors: problems, status: .unprocessableContent)
        }
    }

    // MARK: The list

    func letterList(_ request: Request, session: PageSession) async throws -> Response {
        let overdue = request.uri.queryParameters["overdue"] == "1"
        let status = request.uri.queryParameters["status"].flatMap { LetterStatus(rawValue: String($0)) }
        let email = request.uri.queryParameters["email"].flatMap { EmailState(rawValue: String($0)) }
        let items = try await letters.list(status: status, overdue: overdue, emailState: email, limit: 200).map { json -> [String: Any] in
            let o = Self.object(json)
            return ["id": o["id"] ?? "", "reference": o["reference"] as? String ?? "", "supplier": o["supplier_name"] ?? "",
                    "facilitator_id": o["facilitator_id"] ?? "", "kind": o["kind"] ?? "", "status": o["status"] ?? "",
                    "deadline": o["response_deadline"] as? String ?? "", "overdue": o["overdue"] as? Bool ?? false]
        }
        let data: [String: Any] = [
            "items": items, "overdue": overdue, "email": email?.rawValue ?? "",
            "emailStates": [EmailState.failed, .uncertain].map { ["code": $0.rawValue, "selected": email == $0] },
            "statuses": LetterStatus.allCases.map { ["code": $0.rawValue, "selected": status == $0] },
        ]
        return pages.page("letters", title: pages.text("letter.listTitle"), data, session: session)
    }
}
