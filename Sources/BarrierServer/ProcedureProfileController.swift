import BarrierCore
import BarrierStore
import Foundation
import Hummingbird

/// `/api/v1/agency/procedure-profile`: the law the agency acts under. Everyone
/// of the agency reads it (letters and the licensing pages state it); only an
/// admin stores a new version, with If-Match and a reason.
struct ProcedureProfileController {
    let profiles: ProcedureProfileStore
    let config: AppConfiguration

    var endpoints: RouteCollection<BarrierRequestContext> {
        let routes = RouteCollection(context: BarrierRequestContext.self)
        routes.get("agency/procedure-profile", use: current)
        routes.put("agency/procedure-profile", use: replace)
        routes.get("agency/procedure-profile/versions", use: versions)
        return routes
    }

    @Sendable func current(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let identity = try context.require(.everyone)
        let current = try await profiles.current(identity.agencyID)
        return .json(ProcedureProfileStore.document(current), headers: [.eTag: "\"\(current.version)\""])
    }

    /// `{profile: {…}, reason}`: the whole profile, as GET shows it under `profile`.
    @Sendable func replace(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let identity = try context.require(.administrators)
        let version = try request.expectedVersion()
        var reader = FieldReader(try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        reader.rejectUnknown(allowed: ["profile", "reason"], readOnly: ["version", "sha256", "origin"])
        let reason = reader.string("reason")
        var profileJSON = ""
        switch reader.object["profile"] {
        case .some(.object(let fields)): profileJSON = JSONValue.object(fields).serialized
        case .none: reader.errors.add("profile", "is required: the whole procedure profile, as GET returns it under profile")
        default: reader.errors.add("profile", "must be an object")
        }
        if !reader.errors.isEmpty { throw Problem.invalid(reader.errors.errors) }
        let stored = try await profiles.replace(identity.agencyID, json: profileJSON, reason: reason, expectedVersion: version,
                                                actor: identity.actor(requestID: context.requestID))
        return .json(ProcedureProfileStore.document(stored), headers: [.eTag: "\"\(stored.version)\""])
    }

    @Sendable func versions(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let identity = try context.require(.everyone)
        let list = try await profiles.versions(identity.agencyID)
        return .json(String(decoding: try JSONEncoder().encode(["items": list]), as: UTF8.self))
    }
}

extension JSONValue {
    /// The value as JSON text; whole numbers are written without a fraction.
    var serialized: String {
        func any(_ value: JSONValue) -> Any {
            switch value {
            case .null: return NSNull()
            case .bool(let b): return b
            case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? Int(n) as Any : n as Any
            case .string(let s): return s
            case .array(let items): return items.map(any)
            case .object(let fields): return fields.mapValues(any)
            }
        }
        let data = (try? JSONSerialization.data(withJSONObject: any(self), options: [.sortedKeys, .fragmentsAllowed])) ?? Data("null".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
