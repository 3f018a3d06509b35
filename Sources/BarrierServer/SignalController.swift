import BarrierCore
import BarrierStore
import Foundation
import Hummingbird
import NIOCore

/// `/api/v1/signals`: observed indicators tied to suppliers, and their evidence.
struct SignalController {
    let signals: SignalStore
    let config: AppConfiguration

    var endpoints: RouteCollection<BarrierRequestContext> {
        let routes = RouteCollection(context: BarrierRequestContext.self)
        routes.get("signal-indicators", use: indicators)
        routes.get("signals", use: list)
        routes.post("signals", use: create)
        routes.get("signals/{id}", use: get)
        routes.post("signals/{id}/corrections", use: correct)
        routes.post("signals/{id}/attachments", use: attach)
        routes.get("signals/{id}/attachments/{attachment}", use: attachment)
        routes.get("signals/{id}/shares", use: shares)
        routes.post("signals/{id}/shares", use: share)
        routes.post("signals/{id}/shares/{share}/revoke", use: revokeShare)
        return routes
    }

    // MARK: Sharing with another agency

    @Sendable func shares(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        _ = try request.queryParameters(allowed: [])
        return .json("{\"items\":[" + (try await signals.shares(try context.uuidParameter())).joined(separator: ",") + "]}")
    }

    /// `{agency, legal_basis, handling_note?}`: `agency` is the receiving agency's id or name.
    @Sendable func share(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let actor = try context.require(.writers).actor(requestID: context.requestID)
        let id = try context.uuidParameter()
        var reader = FieldReader(try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        reader.rejectUnknown(allowed: ["agency", "legal_basis", "handling_note"])
        let agency = reader.string("agency"), legalBasis = reader.string("legal_basis"), note = reader.string("handling_note")
        reader.required("agency", agency, "is required: the id or name of the agency to share with")
        reader.required("legal_basis", legalBasis, "is required: name the provision that allows sharing this signal")
        if !reader.errors.isEmpty { throw Problem.invalid(reader.errors.errors) }
        let json = try await signals.share(id, with: agency!, legalBasis: legalBasis!, handlingNote: note ?? "", actor: actor)
        return .json(json, status: .created)
    }

    /// `{reason}`.
    @Sendable func revokeShare(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let actor = try context.require(.writers).actor(requestID: context.requestID)
        let id = try context.uuidParameter(), share = try context.uuidParameter("share")
        var reader = FieldReader(try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        reader.rejectUnknown(allowed: ["reason"])
        let reason = reader.string("reason")
        reader.required("reason", reason, "is required: say why the share ends")
        if !reader.errors.isEmpty { throw Problem.invalid(reader.errors.errors) }
        return .json(try await signals.revokeShare(id, share: share, reason: reason!, actor: actor))
    }

    @Sendable func indicators(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        _ = try request.queryParameters(allowed: [])
        return .json("{\"items\":" + (try await signals.indicators()) + "}")
    }

    @Sendable func list(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        let params = try request.queryParameters(allowed: ["facilitator_id", "type", "stage", "limit"])
        var errors = FieldErrors()
        var facilitator: UUID?
        if let raw = params["facilitator_id"] {
            facilitator = UUID(uuidString: raw)
            if facilitator == nil { errors.add("facilitator_id", "must be a UUID") }
        }
        let type = params["type"].flatMap { raw in SignalType(rawValue: raw) ?? { errors.add("type", SignalType.notOne(raw)); return nil }() }
        let stage = params["stage"].flatMap { raw in Stage(rawValue: raw) ?? { errors.add("stage", Stage.notOne(raw)); return nil }() }
        var limit = 100
        if let raw = params["limit"] {
            if let n = Int(raw), (1...1000).contains(n) { limit = n } else { errors.add("limit", "must be a whole number from 1 to 1000") }
        }
        if !errors.isEmpty { throw Problem.badRequest("Some query parameters are invalid; each is listed in errors.", errors: errors.errors) }
        let items = try await signals.list(facilitatorID: facilitator, type: type, stage: stage, limit: limit)
        return .json("{\"items\":[" + items.joined(separator: ",") + "]}")
    }

    /// The signal's fields as sent, every problem named.
    func draft(_ reader: inout FieldReader) -> SignalDraft? {
        let type = reader.enumValue("type", as: SignalType.self)
        let stage = reader.enumValue("stage", as: Stage.self)
        let indicator = reader.string("indicator"), indicatorText = reader.string("indicator_text")
        let observed = reader.string("observed_on"), source = reader.string("source"), reporter = reader.string("reporter")
        let description = reader.string("description") ?? ""
        let suppliers = reader.strings("facilitator_ids")
        let marketActor = reader.string("market_actor")
        reader.required("type", type)
        reader.required("stage", stage)
        reader.required("observed_on", observed)
        reader.required("source", source)
        reader.required("reporter", reporter)
        // A signal about a market actor may name no supplier.
        if marketActor == nil { reader.required("facilitator_ids", suppliers) }
        guard let type, let stage, let observed, let source, let reporter, suppliers != nil || marketActor != nil else { return nil }
        return SignalDraft(type: type, stage: stage, indicatorCode: indicator, indicatorText: indicatorText, observedOn: observed,
                           source: source, reporter: reporter, description: description,
                           facilitatorIDs: (suppliers ?? []).map { $0.lowercased() }, marketActor: marketActor)
    }

    static let fields: Set<String> = ["type", "stage", "indicator", "indicator_text", "observed_on", "source", "reporter", "description",
                                      "facilitator_ids", "market_actor"]

    @Sendable func create(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let actor = try context.require(.writers).actor(requestID: context.requestID)
        var reader = FieldReader(try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        reader.rejectUnknown(allowed: Self.fields)
        let draft = draft(&reader)
        if !reader.errors.isEmpty { throw Problem.invalid(reader.errors.errors) }
        let record = try await signals.create(draft!, actor: actor)
        let id = ((try? JSONSerialization.jsonObject(with: Data(record.json.utf8))) as? [String: Any])?["id"] as? String ?? ""
        return .json(record.json, status: .created, headers: [.eTag: "\"\(record.version)\"", .location: "/api/v1/signals/\(id)"])
    }

    @Sendable func get(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        let record = try await signals.get(try context.uuidParameter())
        return .json(record.json, headers: [.eTag: "\"\(record.version)\""])
    }

    /// The whole signal restated plus `correction_reason`, with If-Match.
    @Sendable func correct(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let actor = try context.require(.writers).actor(requestID: context.requestID)
        let id = try context.uuidParameter()
        let version = try request.expectedVersion()
        var reader = FieldReader(try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        reader.rejectUnknown(allowed: Self.fields.union(["correction_reason"]))
        let reason = reader.string("correction_reason")
        reader.required("correction_reason", reason, "is required: say what was wrong")
        let draft = draft(&reader)
        if !reader.errors.isEmpty { throw Problem.invalid(reader.errors.errors) }
        let record = try await signals.correct(id, draft!, reason: reason!, expectedVersion: version, actor: actor)
        return .json(record.json, status: .created, headers: [.eTag: "\"\(record.version)\""])
    }

    /// `{name, content_type, content_base64}`.
    @Sendable func attach(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let actor = try context.require(.writers).actor(requestID: context.requestID)
        let id = try context.uuidParameter()
        var reader = FieldReader(try await JSONValue.object(
            from: request, limit: max(config.maxJSONBytes, UploadedDocument.maxBytes / 3 * 4 + 65_536)))
        reader.rejectUnknown(allowed: ["name", "content_type", "content_base64"])
        let file = reader.document(from: reader.object)
        if !reader.errors.isEmpty { throw Problem.invalid(reader.errors.errors) }
        let record = try await signals.attach(id, file!, actor: actor)
        return .json(record.json, status: .created, headers: [.eTag: "\"\(record.version)\""])
    }

    @Sendable func attachment(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        let file = try await signals.attachment(try context.uuidParameter(), attachmentID: try context.uuidParameter("attachment"))
        return .file(file)
    }
}
