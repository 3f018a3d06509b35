import BarrierCore
import BarrierStore
import Foundation
import Hummingbird
import NIOCore

/// `/api/v1/facilitators`: the supplier registry.
struct FacilitatorController {
    let store: FacilitatorStore
    let transfer: FacilitatorTransfer
    let config: AppConfiguration

    var endpoints: RouteCollection<BarrierRequestContext> {
        let routes = RouteCollection(context: BarrierRequestContext.self)
        routes.get("facilitators", use: list)
        routes.post("facilitators", use: create)
        routes.get("facilitators.csv", use: export)
        routes.get("facilitators/{id}", use: get)
        routes.patch("facilitators/{id}", use: update)
        routes.post("facilitators/{id}/archive", use: archive)
        routes.get("facilitators/{id}/duplicates", use: duplicates)
        routes.post("facilitators/{id}/merge", use: merge)
        routes.post("imports/facilitators", use: importCSV)
        routes.get("sectors", use: sectors)
        return routes
    }

    @Sendable func list(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        let parameters = try request.apiQueryParameters()
        let query: FacilitatorQuery
        do {
            query = try FacilitatorQuery(parameters: parameters, knownSectors: try await store.sectors())
        } catch StoreError.invalid(let errors) {
            throw Problem.badRequest("Some query parameters are invalid; each is listed in errors.", errors: errors)
        }
        let page = try await store.list(query)
        let next = page.nextCursor.map { "\"\($0)\"" } ?? "null"
        return .json("{\"items\":[\(page.items.joined(separator: ","))],\"next_cursor\":\(next)}")
    }

    @Sendable func get(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        let record = try await store.get(try context.uuidParameter())
        let etag = "\"\(record.version)\""
        if let inm = request.headers[.ifNoneMatch], inm == etag {
            return Response(status: .notModified, headers: [.eTag: etag])
        }
        return .json(record.json, headers: [.eTag: etag])
    }

    @Sendable func create(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let actor = try context.require(.writers).actor(requestID: context.requestID)
        let (patch, typeErrors) = FacilitatorInput.patch(from: try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        if !typeErrors.isEmpty {
            // Report the rule breaches of the well-typed fields too, so one answer lists everything.
            func base(_ field: String) -> String { field.split(separator: "[").first.map(String.init) ?? field }
            let typed = Set(typeErrors.map { base($0.field) })
            let more = patch.problemsForCreate(knownSectors: try await store.sectors()).filter { !typed.contains(base($0.field)) }
            throw Problem.invalid(typeErrors + more)
        }
        let createAnyway = try request.booleanParameter("create_anyway")
        let record = try await store.create(patch, allowDuplicates: createAnyway, actor: actor)
        return .json(record.json, status: .created, headers: [
            .eTag: "\"\(record.version)\"", .location: "/api/v1/facilitators/\(record.id.uuidString.lowercased())",
        ])
    }

    @Sendable func update(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let actor = try context.require(.writers).actor(requestID: context.requestID)
        let id = try context.uuidParameter()
        let version = try request.expectedVersion()
        let (patch, typeErrors) = FacilitatorInput.patch(from: try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        if !typeErrors.isEmpty { throw Problem.invalid(typeErrors) }
        if patch.isEmpty { throw Problem.badRequest("The body names no field to change.") }
        let record = try await store.update(id, patch, expectedVersion: version, actor: actor)
        return .json(record.json, headers: [.eTag: "\"\(record.version)\""])
    }

    @Sendable func archive(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let actor = try context.require(.writers).actor(requestID: context.requestID)
        let record = try await store.archive(try context.uuidParameter(), expectedVersion: try request.expectedVersion(), actor: actor)
        return .json(record.json, headers: [.eTag: "\"\(record.version)\""])
    }

    @Sendable func duplicates(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        let candidates = try await store.duplicates(of: try context.uuidParameter())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return .json("{\"candidates\":" + String(decoding: try encoder.encode(candidates), as: UTF8.self) + "}")
    }

    @Sendable func merge(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let actor = try context.require(.writers).actor(requestID: context.requestID)
        let survivor = try context.uuidParameter()
        let version = try request.expectedVersion()
        var reader = FieldReader(try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        reader.rejectUnknown(allowed: ["duplicate_id"])
        let duplicate = reader.uuid("duplicate_id")
        if duplicate == nil && reader.errors.isEmpty { reader.errors.add("duplicate_id", "is required") }
        if !reader.errors.isEmpty { throw Problem.invalid(reader.errors.errors) }
        let record = try await store.merge(survivor, duplicate: duplicate!, expectedVersion: version, actor: actor)
        return .json(record.json, headers: [.eTag: "\"\(record.version)\""])
    }

    @Sendable func importCSV(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let actor = try context.require(.writers).actor(requestID: context.requestID)
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("text/csv") else {
            throw Problem(.unsupportedMediaType, "Unsupported media type", detail: "Send the file as Content-Type: text/csv.")
        }
        // The upload goes to a private temporary file as it arrives and is read
        // from there in chunks: a large file is never held in memory.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("barrier-upload-\(UUID().uuidString).csv").path
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
              let file = FileHandle(forWritingAtPath: path) else {
            throw Problem(.serviceUnavailable, "Service unavailable", detail: "The upload could not be stored for reading; nothing was imported.")
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            defer { try? file.close() }
            var received = 0
            for try await chunk in request.body {
                received += chunk.readableBytes
                if received > config.maxImportBytes {
                    throw Problem(.contentTooLarge, "Content too large", detail: "The file is larger than IMPORT_MAX_BYTES (\(config.maxImportBytes) bytes); nothing was imported.")
                }
                try file.write(contentsOf: chunk.readableBytesView)
            }
        }
        do {
            let result = try await transfer.importCSV(file: path, actor: actor)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let flags = String(decoding: try encoder.encode(result.flags), as: UTF8.self)
            return .json(
                "{\"created\":\(result.created),\"file_sha256\":\"\(result.fileSHA256)\",\"audit_seq\":\(result.auditSeq),\"flagged\":\(flags),\"flagged_total\":\(result.flaggedTotal)}",
                status: .created)
        } catch StoreError.invalid(let errors) {
            throw Problem.invalid(errors, detail: "\(Set(errors.compactMap(\.line)).count) line(s) of the file are invalid; nothing was imported.")
        }
    }

    @Sendable func export(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        return Self.exportResponse(transfer)
    }

    /// The whole registry as CSV, streamed: the API's and the pages' export.
    static func exportResponse(_ transfer: FacilitatorTransfer) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"facilitators.csv\""],
            body: ResponseBody { writer in
                _ = try await transfer.exportCSV { data in try await writer.write(ByteBuffer(bytes: data)) }
                try await writer.finish(nil)
            })
    }

    @Sendable func sectors(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        let codes = try await store.sectors().sorted()
        return .json("{\"sectors\":[" + codes.map { "\"\($0)\"" }.joined(separator: ",") + "]}")
    }
}

extension BarrierRequestContext {
    func uuidParameter(_ name: String = "id") throws -> UUID {
        guard let raw = parameters.get(name), let id = UUID(uuidString: raw) else {
            throw Problem(.notFound, "Not found", detail: "'\(parameters.get(name) ?? "")' is not a record id (a UUID).")
        }
        return id
    }
}

extension Response {
    static func json(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
