import BarrierCore
import BarrierStore
import Foundation
import Hummingbird

/// Cooperation: a supplier's level and its history, the contacts log, and the
/// measures it committed to.
struct CooperationController {
    let cooperation: CooperationStore
    let config: AppConfiguration

    var endpoints: RouteCollection<BarrierRequestContext> {
        let routes = RouteCollection(context: BarrierRequestContext.self)
        routes.get("facilitators/{id}/cooperation", use: level)
        routes.post("facilitators/{id}/cooperation", use: change)
        routes.get("facilitators/{id}/contacts", use: contacts)
        routes.post("facilitators/{id}/contacts", use: addContact)
        routes.get("facilitators/{id}/measures", use: commitments)
        routes.post("facilitators/{id}/measures", use: commit)
        routes.get("measures", use: catalogue)
        routes.post("measure-commitments/{id}/implemented", use: recordStep)
        routes.post("measure-commitments/{id}/verified", use: recordStep)
        return routes
    }

    @Sendable func level(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        let level = try await cooperation.level(try context.uuidParameter())
        return .json(level.json, headers: [.eTag: "\"\(level.version)\""])
    }

    /// `{level, reason, letter_id?, contact_id?}` with If-Match (`"0"` while the supplier was never contacted).
    @Sendable func change(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let actor = try context.require(.writers).actor(requestID: context.requestID)
        let id = try context.uuidParameter()
        let version = try request.expectedVersion()
        var reader = FieldReader(try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        reader.rejectUnknown(allowed: ["level", "reason", "letter_id", "contact_id"])
        let level = reader.enumValue("level", as: CooperationLevel.self)
        let reason = reader.string("reason")
        let letter = reader.uuid("letter_id"), contact = reader.uuid("contact_id")
        reader.required("level", level)
        reader.required("reason", reason)
        if !reader.errors.isEmpty { throw Problem.invalid(reader.errors.errors) }
        let result = try await cooperation.change(id, to: level!, reason: reason!, letterID: letter, contactID: contact,
                                                  expectedVersion: version, actor: actor)
        return .json(result.json, headers: [.eTag: "\"\(result.version)\""])
    }

    @Sendable func contacts(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        let id = try context.uuidParameter()
        try await cooperation.requireSupplier(id)
        return .json("{\"items\":" + (try await cooperation.contacts(id)) + "}")
    }

    /// `{kind, occurred_on, participants?, notes?}`.
    @Sendable func addContact(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let actor = try context.require(.writers).actor(requestID: context.requestID)
        let id = try context.uuidParameter()
        var reader = FieldReader(try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        reader.rejectUnknown(allowed: ["kind", "occurred_on", "participants", "notes"])
        let kind = reader.enumValue("kind", as: ContactKind.self)
        let day = reader.string("occurred_on")
        let participants = reader.strings("participants") ?? []
        let notes = reader.string("notes") ?? ""
        reader.required("kind", kind)
        reader.required("occurred_on", day)
        if !reader.errors.isEmpty { throw Problem.invalid(reader.errors.errors) }
        let json = try await cooperation.addContact(id, kind: kind!, on: day!, participants: participants, notes: notes, actor: actor)
        return .json(json, status: .created)
    }

    @Sendable func catalogue(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        let params = try request.queryParameters(allowed: ["sector"])
        return .json("{\"items\":" + (try await cooperation.catalogue(sector: params["sector"])) + "}")
    }

    @Sendable func commitments(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        let id = try context.uuidParameter()
        try await cooperation.requireSupplier(id)
        return .json("{\"items\":" + (try await cooperation.commitments(id)) + "}")
    }

    /// `{measure, committed_on, due_on, letter_id?, notes?}`.
    @Sendable func commit(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let actor = try context.require(.writers).actor(requestID: context.requestID)
        let id = try context.uuidParameter()
        var reader = FieldReader(try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        reader.rejectUnknown(allowed: ["measure", "committed_on", "due_on", "letter_id", "notes"])
        let measure = reader.string("measure"), committed = reader.string("committed_on"), due = reader.string("due_on")
        let letter = reader.uuid("letter_id")
        let notes = reader.string("notes") ?? ""
        for (name, value) in [("measure", measure), ("committed_on", committed), ("due_on", due)] { reader.required(name, value) }
        if !reader.errors.isEmpty { throw Problem.invalid(reader.errors.errors) }
        let result = try await cooperation.commit(id, measure: measure!, committedOn: committed!, dueOn: due!, letterID: letter,
                                                  notes: notes, actor: actor)
        return .json(result.json, status: .created, headers: [.eTag: "\"\(result.version)\""])
    }

    /// implemented `{on}`, verified `{on, method}`, with If-Match.
    @Sendable func recordStep(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let actor = try context.require(.writers).actor(requestID: context.requestID)
        let id = try context.uuidParameter()
        let version = try request.expectedVersion()
        let status: MeasureStatus = request.uri.path.hasSuffix("/verified") ? .verified : .implemented
        var reader = FieldReader(try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        reader.rejectUnknown(allowed: status == .verified ? ["on", "method"] : ["on"])
        let day = reader.string("on"), method = reader.string("method")
        reader.required("on", day, "is required (YYYY-MM-DD)")
        if !reader.errors.isEmpty { throw Problem.invalid(reader.errors.errors) }
        let result = try await cooperation.record(id, status: status, on: day!, method: method, expectedVersion: version, actor: actor)
        return .json(result.json, headers: [.eTag: "\"\(result.version)\""])
    }
}
