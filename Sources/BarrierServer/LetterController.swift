import BarrierCore
import BarrierLetters
import BarrierStore
import Foundation
import Hummingbird
import NIOCore

/// `/api/v1/letters`, `/api/v1/letter-templates` and the agency's letterhead:
/// the "inform and call to action" outreach.
struct LetterController {
    let letters: LetterStore
    let mail: LetterMail
    let access: AccessStore
    let config: AppConfiguration

    var endpoints: RouteCollection<BarrierRequestContext> {
        let routes = RouteCollection(context: BarrierRequestContext.self)
        routes.get("letter-templates", use: templates)
        routes.get("letter-templates/{key}", use: templateVersions)
        routes.post("letter-templates/{key}", use: addTemplateVersion)
        routes.get("letters", use: list)
        routes.post("letters", use: create)
        routes.post("letters/sweep", use: sweep)
        for format in LetterStore.Format.allCases {
            routes.get("letters/{id}.\(format.rawValue)") { request, context in try await file(request, context: context, format: format) }
        }
        routes.get("letters/{id}", use: get)
        routes.post("letters/{id}/approve", use: approve)
        routes.post("letters/{id}/send", use: send)
        routes.post("letters/{id}/email/retry") { request, context in try await requeue(request, context: context, step: .retry) }
        routes.post("letters/{id}/email/release") { request, context in try await requeue(request, context: context, step: .release) }
        routes.post("letters/{id}/delivered", use: track)
        routes.post("letters/{id}/returned", use: track)
        routes.post("letters/{id}/responded", use: track)
        routes.get("letters/{id}/response-document", use: responseDocument)
        routes.get("facilitators/{id}/letters", use: timeline)
        routes.get("agency", use: agency)
        routes.patch("agency", use: updateAgency)
        return routes
    }

    // MARK: Templates

    func key(_ context: BarrierRequestContext) throws -> TemplateKey {
        let raw = context.parameters.get("key") ?? ""
        guard let key = TemplateKey(fileName: raw + ".mustache") else {
            throw Problem(.notFound, "Not found", detail: "'\(raw)' is not a template key such as inform_call_to_action.delivery.en or reminder.fr.")
        }
        return key
    }

    @Sendable func templates(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        _ = try request.queryParameters(allowed: [])
        return .json("{\"items\":[" + (try await letters.templates()).joined(separator: ",") + "]}")
    }

    @Sendable func templateVersions(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        return .json("{\"items\":[" + (try await letters.templates(key: try key(context))).joined(separator: ",") + "]}")
    }

    @Sendable func addTemplateVersion(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let actor = try context.require(.administrators).actor(requestID: context.requestID)
        let key = try key(context)
        var reader = FieldReader(try await JSONValue.object(from: request, limit: max(config.maxJSONBytes, LetterTemplate.maxRequestBytes)))
        reader.rejectUnknown(allowed: ["body"])
        let body = reader.string("body")
        if body == nil && reader.errors.isEmpty { reader.errors.add("body", "is required") }
        if !reader.errors.isEmpty { throw Problem.invalid(reader.errors.errors) }
        let result = try await letters.addTemplateVersion(key, body: body!, actor: actor)
        return .json(result.json, status: result.created ? .created : .ok)
    }

    // MARK: Letters

    @Sendable func list(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        let params = try request.queryParameters(allowed: ["facilitator_id", "status", "campaign_id", "overdue", "limit"])
        var errors = FieldErrors()
        func uuid(_ name: String) -> UUID? {
            guard let raw = params[name] else { return nil }
            if let id = UUID(uuidString: raw) { return id }
            errors.add(name, "must be a UUID")
            return nil
        }
        let facilitator = uuid("facilitator_id"), campaign = uuid("campaign_id")
        var status: LetterStatus?
        if let raw = params["status"] {
            status = LetterStatus(rawValue: raw)
            if status == nil { errors.add("status", LetterStatus.notOne(raw)) }
        }
        var limit = 100
        if let raw = params["limit"] {
            if let n = Int(raw), (1...1000).contains(n) { limit = n } else { errors.add("limit", "must be a whole number from 1 to 1000") }
        }
        let overdue = try request.booleanParameter("overdue")
        if !errors.isEmpty { throw Problem.badRequest("Some query parameters are invalid; each is listed in errors.", errors: errors.errors) }
        let items = try await letters.list(facilitatorID: facilitator, status: status, campaignID: campaign, overdue: overdue, limit: limit)
        return .json("{\"items\":[" + items.joined(separator: ",") + "]}")
    }

    @Sendable func create(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let identity = try context.require(.writers)
        var reader = FieldReader(try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        reader.rejectUnknown(allowed: ["facilitator_id", "kind", "language", "response_days", "deadline", "reminder_of"])
        let facilitator = reader.uuid("facilitator_id")
        let kind = reader.enumValue("kind", as: LetterKind.self)
        let language = reader.enumValue("language", as: LetterLanguage.self)
        let days = reader.integer("response_days")
        let deadline = reader.string("deadline")
        let reminderOf = reader.uuid("reminder_of")
        reader.required("facilitator_id", facilitator)
        reader.required("kind", kind)
        if !reader.errors.isEmpty { throw Problem.invalid(reader.errors.errors) }
        let record = try await letters.createDraft(
            .init(facilitatorID: facilitator!, kind: kind!, language: language, responseDays: days, deadline: deadline, reminderOf: reminderOf),
            agencyID: identity.agencyID, actor: identity.actor(requestID: context.requestID))
        return .json(record.json, status: .created, headers: [
            .eTag: "\"\(record.version)\"", .location: "/api/v1/letters/\(record.id.uuidString.lowercased())",
        ])
    }

    @Sendable func get(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        let record = try await letters.get(try context.uuidParameter())
        return .json(record.json, headers: [.eTag: "\"\(record.version)\""])
    }

    func file(_ request: Request, context: BarrierRequestContext, format: LetterStore.Format) async throws -> Response {
        _ = try context.require(.everyone)
        return try await Self.file(letters, try context.uuidParameter(), format: format)
    }

    /// A letter's file (a draft's preview), for the API and the pages alike.
    static func file(_ letters: LetterStore, _ id: UUID, format: LetterStore.Format) async throws -> Response {
        let data: Data
        do { data = try await letters.file(id, format: format) } catch { throw Problem.pdfUnavailable(error) ?? error }
        let type: String = switch format {
        case .html: "text/html; charset=utf-8"
        case .txt: "text/plain; charset=utf-8"
        case .pdf: "application/pdf"
        case .eml: "message/rfc822"
        }
        let name = (try await letters.get(id).reference ?? "draft-\(id.uuidString.lowercased())") + "." + format.rawValue
        return Response(status: .ok, headers: [.contentType: type, .contentDisposition: "inline; filename=\"\(name)\""],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    @Sendable func approve(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let actor = try context.require(.writers).actor(requestID: context.requestID)
        let record = try await letters.approve(try context.uuidParameter(), expectedVersion: try request.expectedVersion(), actor: actor)
        return .json(record.json, headers: [.eTag: "\"\(record.version)\""])
    }

    /// `{reason}`: an admin puts a `failed` e-mail (retry) or an `uncertain` one (release) back in the relay's queue.
    func requeue(_ request: Request, context: BarrierRequestContext, step: EmailRequeue) async throws -> Response {
        let identity = try context.require(.administrators)
        let id = try context.uuidParameter()
        var reader = FieldReader(try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        reader.rejectUnknown(allowed: ["reason"])
        let reason = reader.string("reason")
        if !reader.errors.isEmpty { throw Problem.invalid(reader.errors.errors) }
        let record = try await mail.requeue(id, step, reason: reason ?? "", byAdmin: identity.role == .admin,
                                            actor: identity.actor(requestID: context.requestID))
        return .json(record.json, headers: [.eTag: "\"\(record.version)\""])
    }

    /// Sending: recorded by hand (post, registered post, hand delivery, courier)
    /// or, with `method: email`, queued for the agency's SMTP relay (202).
    @Sendable func send(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let identity = try context.require(.writers)
        let actor = identity.actor(requestID: context.requestID)
        let id = try context.uuidParameter()
        let version = try request.expectedVersion()
        var reader = FieldReader(try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        reader.rejectUnknown(allowed: ["method", "on", "tracking_number", "to", "confirm_address"])
        let confirmAddress = reader.bool("confirm_address") ?? false
        if confirmAddress && identity.role != .admin { reader.errors.add("confirm_address", "only an admin confirms an address that is not the supplier's") }
        let method = reader.enumValue("method", as: SendMethod.self)
        let on = reader.string("on")
        let tracking = reader.string("tracking_number")
        let to = reader.string("to")
        reader.required("method", method)
        if method == .email {
            if on != nil { reader.errors.add("on", "is set when the relay accepts the message") }
            if tracking != nil { reader.errors.add("tracking_number", "does not apply to e-mail") }
        } else {
            if to != nil { reader.errors.add("to", "applies to e-mail only") }
            if on == nil { reader.errors.add("on", "is required: the day the letter went out (YYYY-MM-DD)") }
        }
        if !reader.errors.isEmpty { throw Problem.invalid(reader.errors.errors) }
        if method == .email {
            let record = try await mail.queue(id, to: to, otherAddressConfirmedByAdmin: confirmAddress, expectedVersion: version, actor: actor)
            return .json(record.json, status: .accepted, headers: [.eTag: "\"\(record.version)\""])
        }
        let record = try await letters.record(id, step: .sent(on: on!, method: method!, trackingNumber: tracking), expectedVersion: version, actor: actor)
        return .json(record.json, headers: [.eTag: "\"\(record.version)\""])
    }

    /// delivered {on, proof}, returned {on, reason}, responded {on, channel, summary, document}.
    @Sendable func track(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let actor = try context.require(.writers).actor(requestID: context.requestID)
        let id = try context.uuidParameter()
        let version = try request.expectedVersion()
        let step = request.uri.path.split(separator: "/").last.map(String.init) ?? ""
        // A response may carry its document (base64), so it may be larger than other JSON.
        let limit = step == "responded" ? max(config.maxJSONBytes, UploadedDocument.maxBytes / 3 * 4 + 65_536) : config.maxJSONBytes
        var reader = FieldReader(try await JSONValue.object(from: request, limit: limit))
        let on = reader.string("on")
        reader.required("on", on, "is required (YYYY-MM-DD)")
        var attachment: UploadedDocument?
        let trackingStep: LetterTrackingStep?
        switch step {
        case "delivered":
            reader.rejectUnknown(allowed: ["on", "proof"])
            let proof = reader.string("proof")
            trackingStep = on.map { .delivered(on: $0, proof: proof) }
        case "returned":
            reader.rejectUnknown(allowed: ["on", "reason"])
            let reason = reader.string("reason")
            if reason == nil { reader.errors.add("reason", "is required") }
            trackingStep = on.flatMap { on in reason.map { .returned(on: on, reason: $0) } }
        default:
            reader.rejectUnknown(allowed: ["on", "channel", "summary", "document"])
            let channel = reader.enumValue("channel", as: ResponseChannel.self)
            reader.required("channel", channel)
            let summary = reader.string("summary")
            attachment = reader.document("document")
            trackingStep = on.flatMap { on in channel.map { .responded(on: on, channel: $0, summary: summary) } }
        }
        if !reader.errors.isEmpty { throw Problem.invalid(reader.errors.errors) }
        let record = try await letters.record(id, step: trackingStep!, attachment: attachment, expectedVersion: version, actor: actor)
        return .json(record.json, headers: [.eTag: "\"\(record.version)\""])
    }

    @Sendable func responseDocument(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        guard let document = try await letters.responseDocument(try context.uuidParameter()) else {
            throw Problem(.notFound, "Not found", detail: "This letter has no response document.")
        }
        return .file(document)
    }

    @Sendable func sweep(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let actor = try context.require(.administrators).actor(requestID: context.requestID)
        let swept = try await letters.sweepDeadlines(actor: actor)
        return .json("{\"no_response\":[" + swept.map { "\"\($0.uuidString.lowercased())\"" }.joined(separator: ",") + "]}")
    }

    @Sendable func timeline(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        return .json("{\"items\":" + (try await letters.timeline(facilitatorID: try context.uuidParameter())) + "}")
    }

    // MARK: Agency

    @Sendable func agency(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let identity = try context.require(.everyone)
        let agency = try await access.agency(identity.agencyID)
        return .json(agency.json, headers: [.eTag: "\"\(agency.version)\""])
    }

    @Sendable func updateAgency(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let identity = try context.require(.administrators)
        let version = try request.expectedVersion()
        var reader = FieldReader(try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        reader.rejectUnknown(allowed: Set(AgencyLetterhead.textFields + ["response_days", "appeal_days"]), readOnly: ["id", "name", "country", "version"])
        var changes: [String: String?] = [:]
        for field in AgencyLetterhead.textFields {
            if let value = reader.nullableString(field) { changes[field] = value }
        }
        let days = reader.integer("response_days"), appealDays = reader.integer("appeal_days")
        if !reader.errors.isEmpty { throw Problem.invalid(reader.errors.errors) }
        if changes.isEmpty && days == nil && appealDays == nil { throw Problem.badRequest("The body names no field to change.") }
        let agency = try await access.updateLetterhead(identity.agencyID, changes: changes, responseDays: days, appealDays: appealDays,
                                                       expectedVersion: version,
                                                       actor: identity.actor(requestID: context.requestID))
        return .json(agency.json, headers: [.eTag: "\"\(agency.version)\""])
    }
}

extension FieldReader {
    mutating func integer(_ key: String) -> Int? {
        switch object[key] {
        case .none: return nil
        case .number(let n) where n == n.rounded() && abs(n) < 1e15: return Int(n)
        default: errors.add(key, "must be a whole number"); return nil
        }
    }

    /// `{"name": "…", "content_type": "…", "content_base64": "…"}` under `key`.
    mutating func document(_ key: String) -> UploadedDocument? {
        switch object[key] {
        case .none, .null: return nil
        case .object(let o):
            var inner = FieldReader(o)
            let file = inner.document(from: o)
            errors.append(contentsOf: inner.errors.errors.map { FieldError(field: "\(key).\($0.field)", message: $0.message) })
            return file
        default:
            errors.add(key, "must be an object with name, content_type and content_base64")
            return nil
        }
    }

    /// A file sent as `{name, content_type, content_base64}`.
    mutating func document(from o: [String: JSONValue]) -> UploadedDocument? {
        var fields: [String: String] = [:]
        for key in ["name", "content_type", "content_base64"] {
            if case .string(let value)? = o[key] { fields[key] = value } else { errors.add(key, "is required (a string)") }
        }
        guard let name = fields["name"], let type = fields["content_type"], let b64 = fields["content_base64"] else { return nil }
        guard let bytes = Data(base64Encoded: b64) else { errors.add("content_base64", "is not base64"); return nil }
        return UploadedDocument(name: name, contentType: type.lowercased(), bytes: bytes)
    }
}

extension Response {
    /// A stored file as a download, with its SHA-256 (RFC 9530 `Repr-Digest`).
    static func file(_ document: UploadedDocument) -> Response {
        Response(status: .ok, headers: [
            .contentType: document.contentType, .contentDisposition: "attachment; filename=\"\(document.name)\"",
            .init("Repr-Digest")!: "sha-256=:\(document.sha256.base64EncodedString()):",
        ], body: .init(byteBuffer: ByteBuffer(bytes: document.bytes)))
    }
}
