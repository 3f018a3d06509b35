import BarrierCore
import BarrierLetters
import BarrierStore
import Foundation
import Hummingbird
import NIOCore

/// `/api/v1/campaigns`: one letter kind over a saved filter of suppliers.
struct CampaignController {
    let campaigns: CampaignStore
    let config: AppConfiguration

    var endpoints: RouteCollection<BarrierRequestContext> {
        let routes = RouteCollection(context: BarrierRequestContext.self)
        routes.get("campaigns", use: list)
        routes.post("campaigns", use: create)
        routes.get("campaigns/{id}.zip", use: zip)
        routes.get("campaigns/{id}", use: get)
        routes.get("campaigns/{id}/preview", use: preview)
        routes.post("campaigns/{id}/approve", use: approve)
        routes.get("campaigns/{id}/manifest.csv", use: manifest)
        return routes
    }

    @Sendable func list(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        _ = try request.queryParameters(allowed: [])
        return .json("{\"items\":[" + (try await campaigns.list()).joined(separator: ",") + "]}")
    }

    @Sendable func create(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let identity = try context.require(.writers)
        var reader = FieldReader(try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        reader.rejectUnknown(allowed: ["name", "kind", "filter", "language_by_country", "language_overrides", "response_days"])
        let name = reader.string("name")
        reader.required("name", name)
        let kind = reader.enumValue("kind", as: LetterKind.self) ?? .informCallToAction
        let filter = reader.stringMap("filter") ?? [:]
        var byCountry: [String: LetterLanguage] = [:]
        for (country, raw) in reader.stringMap("language_by_country") ?? [:] {
            if let language = LetterLanguage(rawValue: raw) { byCountry[country.uppercased()] = language } else {
                reader.errors.add("language_by_country.\(country)", LetterLanguage.notOne(raw))
            }
        }
        var overrides: [UUID: LetterLanguage] = [:]
        for (supplier, raw) in reader.stringMap("language_overrides") ?? [:] {
            guard let id = UUID(uuidString: supplier) else { reader.errors.add("language_overrides.\(supplier)", "is not a supplier id"); continue }
            if let language = LetterLanguage(rawValue: raw) { overrides[id] = language } else {
                reader.errors.add("language_overrides.\(supplier)", LetterLanguage.notOne(raw))
            }
        }
        let days = reader.integer("response_days")
        if !reader.errors.isEmpty { throw Problem.invalid(reader.errors.errors) }
        let record = try await campaigns.create(
            .init(name: name!, kind: kind, filter: filter, languageByCountry: byCountry, languageOverrides: overrides, responseDays: days),
            agencyID: identity.agencyID, actor: identity.actor(requestID: context.requestID))
        return .json(record.json, status: .created, headers: [
            .eTag: "\"\(record.version)\"", .location: "/api/v1/campaigns/\(record.id.uuidString.lowercased())",
        ])
    }

    @Sendable func get(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        let record = try await campaigns.get(try context.uuidParameter())
        return .json(record.json, headers: [.eTag: "\"\(record.version)\""])
    }

    @Sendable func preview(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        let params = try request.queryParameters(allowed: ["sample"])
        var sample = 3
        if let raw = params["sample"] {
            guard let n = Int(raw), (0...20).contains(n) else {
                throw Problem.badRequest("sample must be a whole number from 0 to 20.", errors: [FieldError(field: "sample", message: "must be 0 to 20")])
            }
            sample = n
        }
        return .json(try await campaigns.preview(try context.uuidParameter(), sample: sample))
    }

    @Sendable func approve(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let actor = try context.require(.writers).actor(requestID: context.requestID)
        let record = try await campaigns.approve(try context.uuidParameter(), expectedVersion: try request.expectedVersion(), actor: actor)
        return .json(record.json, status: .accepted, headers: [.eTag: "\"\(record.version)\""])
    }

    @Sendable func manifest(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        return try await Self.manifest(campaigns, try context.uuidParameter())
    }

    /// The manifest as a CSV download (the API's route and the campaign page's link).
    static func manifest(_ campaigns: CampaignStore, _ id: UUID) async throws -> Response {
        let data = try await campaigns.manifest(id)
        return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"manifest.csv\""],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The PDFs and the manifest as one ZIP, built once and streamed from its file.
    @Sendable func zip(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        return try await Self.zip(campaigns, try context.uuidParameter(), in: config.campaignZipDirectory)
    }

    /// The ZIP download (the API's route and the campaign page's link): found or built while
    /// the caller's agency is in scope (`CampaignArchives`), then streamed from its file in
    /// 64 KB chunks, so a request holds one chunk in memory, not the ZIP.
    static func zip(_ campaigns: CampaignStore, _ id: UUID, in directory: String) async throws -> Response {
        let archive: CampaignArchives.Archive
        do {
            archive = try await CampaignArchives.at(directory).archive(id, of: campaigns)
        } catch {
            throw Problem.pdfUnavailable(error) ?? error
        }
        // Opened now: a newer build may replace the file, and an open file stays readable.
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: archive.path))
        let headers: HTTPFields = [
            .contentType: "application/zip", .contentLength: String(archive.size), .eTag: "\"\(archive.etag)\"",
            .contentDisposition: "attachment; filename=\"campaign-\(id.uuidString.lowercased()).zip\"",
        ]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty {
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            try await writer.finish(nil)
        })
    }
}

extension FieldReader {
    /// An object whose values are all strings.
    mutating func stringMap(_ key: String) -> [String: String]? {
        switch object[key] {
        case .none, .null: return nil
        case .object(let o):
            var out: [String: String] = [:]
            for (k, v) in o {
                if case .string(let s) = v { out[k] = s } else { errors.add("\(key).\(k)", "must be a string") }
            }
            return out
        default:
            errors.add(key, "must be an object of strings")
            return nil
        }
    }
}
