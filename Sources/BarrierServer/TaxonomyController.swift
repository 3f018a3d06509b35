import BarrierCore
import BarrierStore
import Foundation
import Hummingbird

/// `/api/v1/taxonomy`: the barrier model's catalogues (sectors, indicators,
/// measures, opportunities). Everyone reads them; an admin adds an entry or
/// changes one (If-Match), always with a reason; every version is kept.
struct TaxonomyController {
    let taxonomy: TaxonomyStore
    let config: AppConfiguration

    var endpoints: RouteCollection<BarrierRequestContext> {
        let routes = RouteCollection(context: BarrierRequestContext.self)
        routes.get("taxonomy", use: list)
        routes.post("taxonomy/{catalogue}", use: create)
        routes.get("taxonomy/{catalogue}/{key}", use: get)
        routes.patch("taxonomy/{catalogue}/{key}", use: update)
        routes.get("taxonomy/{catalogue}/{key}/versions", use: versions)
        return routes
    }

    static func catalogue(_ context: BarrierRequestContext) throws -> TaxonomyCatalogue {
        guard let raw = context.parameters.get("catalogue"), let catalogue = TaxonomyCatalogue(rawValue: raw) else {
            throw Problem(.notFound, "Not found", detail: "There is no catalogue '\(context.parameters.get("catalogue") ?? "")'; "
                          + "the catalogues are \(TaxonomyCatalogue.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        return catalogue
    }

    static func key(_ context: BarrierRequestContext) -> String { context.parameters.get("key") ?? "" }

    /// A draft from a JSON body; fields of the wrong type are named.
    static func draft(_ object: [String: JSONValue]) -> (TaxonomyDraft, [FieldError]) {
        var r = FieldReader(object)
        r.rejectUnknown(allowed: ["code", "label", "names", "letter_group", "postal", "type", "stages", "stage", "source", "source_note", "description",
                                  "sectors", "reason"],
                        readOnly: ["key", "position", "version", "updated_at", "updated_by"])
        var d = TaxonomyDraft()
        d.code = r.string("code")
        d.label = r.string("label")
        d.type = r.enumValue("type", as: SignalType.self)
        d.letterGroup = r.enumValue("letter_group", as: SectorGroup.self)
        d.postal = r.bool("postal")
        d.stages = r.enumValues("stages", as: Stage.self)
        d.stage = r.enumValue("stage", as: Stage.self)
        d.source = r.enumValue("source", as: TaxonomySource.self)
        d.sourceNote = r.string("source_note")
        d.description = r.string("description")
        d.sectors = r.strings("sectors")
        d.reason = r.string("reason")
        switch object["names"] {
        case .none: break
        case .object(let fields):
            var names: [String: String] = [:]
            for (language, value) in fields {
                if case .string(let name) = value { names[language] = name } else { r.errors.add("names.\(language)", "must be a string") }
            }
            d.names = names
        default: r.errors.add("names", "must be an object of the four letter languages, such as {\"en\": \"…\", \"fr\": \"…\", \"nl\": \"…\", \"de\": \"…\"}")
        }
        return (d, r.errors.errors)
    }

    static func answer(_ json: String, version: Int, status: HTTPResponse.Status = .ok, location: String? = nil) -> Response {
        var headers: HTTPFields = [.eTag: "\"\(version)\""]
        if let location { headers[.location] = location }
        return .json(json, status: status, headers: headers)
    }

    @Sendable func list(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        return .json(try await taxonomy.list())
    }

    @Sendable func get(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        let entry = try await taxonomy.entry(try Self.catalogue(context), key: Self.key(context))
        return Self.answer(entry.json, version: entry.version)
    }

    @Sendable func versions(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        return .json("{\"items\": \(try await taxonomy.versions(try Self.catalogue(context), key: Self.key(context)))}")
    }

    @Sendable func create(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let identity = try context.require(.administrators)
        let catalogue = try Self.catalogue(context)
        let (draft, typeErrors) = Self.draft(try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        if !typeErrors.isEmpty { throw Problem.invalid(typeErrors) }
        let created = try await taxonomy.create(catalogue, draft, actor: identity.actor(requestID: context.requestID))
        return Self.answer(created.json, version: created.version, status: .created,
                           location: "/api/v1/taxonomy/\(catalogue.rawValue)/\(created.key)")
    }

    @Sendable func update(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let identity = try context.require(.administrators)
        let catalogue = try Self.catalogue(context)
        let (draft, typeErrors) = Self.draft(try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        if !typeErrors.isEmpty { throw Problem.invalid(typeErrors) }
        let version = try request.expectedVersion()
        let changed = try await taxonomy.update(catalogue, key: Self.key(context), draft, expectedVersion: version,
                                                actor: identity.actor(requestID: context.requestID))
        return Self.answer(changed.json, version: changed.version)
    }
}
