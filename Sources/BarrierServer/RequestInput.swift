import BarrierCore
import Foundation
import Hummingbird

extension Request {
    /// The version the client read, from If-Match: 428 without it.
    func expectedVersion() throws -> Int {
        guard let raw = headers[.ifMatch] else {
            throw Problem(.preconditionRequired, "Precondition required",
                          detail: "Send If-Match with the ETag you read, so a concurrent change is never overwritten.")
        }
        let tag = raw.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let bare = tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag
        guard let version = Int(bare.trimmingCharacters(in: CharacterSet(charactersIn: "\""))) else {
            throw Problem.badRequest("If-Match must be an ETag of this API, such as \"3\".", errors: [FieldError(field: "If-Match", message: "is not an ETag of this API")])
        }
        return version
    }

    func booleanParameter(_ name: String) throws -> Bool {
        guard let raw = uri.queryParameters[Substring(name)] else { return false }
        switch raw.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw Problem.badRequest("\(name) must be true or false.", errors: [FieldError(field: name, message: "must be true or false")])
        }
    }

    /// The API's query parameters by name (the first of a repeated one). A parameter
    /// sent without a value (`?sector=`) is refused with 400 naming it: in the API an
    /// empty filter is a mistake, not "any" (the pages' forms, which send empty fields,
    /// read their query themselves).
    func apiQueryParameters() throws -> [String: String] {
        var values: [String: String] = [:]
        var errors = FieldErrors()
        for (key, value) in uri.queryParameters {
            if value.isEmpty { errors.add(String(key), "must not be empty; leave the parameter out instead") }
            if TextInput.hasControlCharacters(String(value)) { errors.add(String(key), TextInput.controlMessage) }
            if values[String(key)] == nil { values[String(key)] = String(value) }
        }
        if !errors.isEmpty { throw Problem.badRequest("Some query parameters are empty or hold control characters; each is listed in errors.", errors: errors.errors) }
        return values
    }

    /// The query parameters, refusing any not in `allowed` (400 naming them) and empty ones.
    func queryParameters(allowed: Set<String>) throws -> [String: String] {
        var values: [String: String] = [:]
        var errors = FieldErrors()
        for (key, value) in uri.queryParameters {
            if allowed.contains(String(key)) {
                values[String(key)] = String(value)
                if value.isEmpty { errors.add(String(key), "must not be empty; leave the parameter out instead") }
                if TextInput.hasControlCharacters(String(value)) { errors.add(String(key), TextInput.controlMessage) }
            } else {
                errors.add(String(key), "is not a parameter here; use \(allowed.sorted().joined(separator: ", "))")
            }
        }
        if !errors.isEmpty { throw Problem.badRequest("Some query parameters are not known, empty or hold control characters; each is listed in errors.", errors: errors.errors) }
        return values
    }
}
