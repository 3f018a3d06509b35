import BarrierCore
import Foundation
import Hummingbird

/// Any JSON value. Request bodies are read into this first, so a wrong type in
/// one field becomes a field error beside the others instead of one decoding failure.
enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    /// Reads a JSON object body; malformed JSON, another top-level type or an
    /// oversize body are answered with a problem.
    /// The body as a JSON object; with `emptyIsObject`, a step whose fields are all optional accepts no body as `{}`.
    static func object(from request: Request, limit: Int, emptyIsObject: Bool = false) async throws -> [String: JSONValue] {
        var request = request
        let buffer = try await request.collectBody(upTo: limit)
        if emptyIsObject && buffer.readableBytes == 0 { return [:] }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(buffer: buffer)) else {
            throw Problem.badRequest("The body is not valid JSON.")
        }
        guard case .object = value else {
            throw Problem.badRequest("The body must be a JSON object.")
        }
        var problems: [FieldError] = []
        guard case .object(let object) = value.checkedText(path: "", problems: &problems) else { return [:] }
        if !problems.isEmpty { throw Problem.invalid(problems) }
        return object
    }

    /// The value with every string in NFC; a string with control characters is a
    /// problem named by its path (`contacts[1].name`).
    func checkedText(path: String, problems: inout [FieldError]) -> JSONValue {
        switch self {
        case .string(let s):
            if TextInput.hasControlCharacters(s) { problems.append(FieldError(field: path.isEmpty ? "body" : path, message: TextInput.controlMessage)) }
            return .string(TextInput.normalised(s))
        case .array(let items):
            return .array(items.enumerated().map { i, item in item.checkedText(path: "\(path)[\(i)]", problems: &problems) })
        case .object(let fields):
            var out: [String: JSONValue] = [:]
            for key in fields.keys.sorted() {
                out[key] = fields[key]!.checkedText(path: path.isEmpty ? key : "\(path).\(key)", problems: &problems)
            }
            return .object(out)
        default:
            return self
        }
    }
}

/// Reads typed fields out of a JSON object, collecting a field error for each
/// value of the wrong type.
struct FieldReader {
    let object: [String: JSONValue]
    var errors = FieldErrors()

    init(_ object: [String: JSONValue]) { self.object = object }

    mutating func string(_ key: String) -> String? {
        switch object[key] {
        case .none: return nil
        case .string(let s): return s
        default: errors.add(key, "must be a string"); return nil
        }
    }

    mutating func bool(_ key: String) -> Bool? {
        switch object[key] {
        case .none, .null: return nil
        case .bool(let b): return b
        default: errors.add(key, "must be true or false"); return nil
        }
    }

    /// `.some(nil)` when the client sent null (to clear the field).
    mutating func nullableString(_ key: String) -> String?? {
        switch object[key] {
        case .none: return nil
        case .null: return .some(nil)
        case .string(let s): return .some(s)
        default: errors.add(key, "must be a string or null"); return nil
        }
    }

    mutating func strings(_ key: String) -> [String]? {
        switch object[key] {
        case .none: return nil
        case .array(let items):
            var out: [String] = []
            for (i, item) in items.enumerated() {
                if case .string(let s) = item { out.append(s) } else { errors.add("\(key)[\(i)]", "must be a string") }
            }
            return out
        default: errors.add(key, "must be an array of strings"); return nil
        }
    }

    mutating func enumValues<T: NamedVocabulary>(_ key: String, as type: T.Type) -> [T]? {
        guard let raw = strings(key) else { return nil }
        var out: [T] = []
        for (i, s) in raw.enumerated() {
            if let v = T(rawValue: s) { out.append(v) } else {
                errors.add("\(key)[\(i)]", T.notOne(s))
            }
        }
        return out
    }

    mutating func enumValue<T: NamedVocabulary>(_ key: String, as type: T.Type) -> T? {
        guard let raw = string(key) else { return nil }
        if let v = T(rawValue: raw) { return v }
        errors.add(key, T.notOne(raw))
        return nil
    }

    mutating func uuid(_ key: String) -> UUID? {
        guard let raw = string(key) else { return nil }
        if let id = UUID(uuidString: raw) { return id }
        errors.add(key, "must be a UUID")
        return nil
    }

    /// Names a required field that is missing, unless the field already has an error of its own.
    mutating func required<T>(_ key: String, _ value: T?, _ message: String = "is required") {
        if value == nil && !errors.errors.contains(where: { $0.field == key || $0.field.hasPrefix(key + "[") }) {
            errors.add(key, message)
        }
    }

    /// Names keys that are not in `allowed`; read-only keys get their own sentence.
    mutating func rejectUnknown(allowed: Set<String>, readOnly: Set<String> = []) {
        for key in object.keys.sorted() where !allowed.contains(key) {
            if readOnly.contains(key) { errors.add(key, "is set by the registry and cannot be sent") } else {
                errors.add(key, "is not a field here; use \(allowed.sorted().joined(separator: ", "))")
            }
        }
    }
}

enum FacilitatorInput {
    static let fields: Set<String> = [
        "legal_name", "aliases", "sector", "stages", "markets", "country", "registration_number", "vat_number", "street",
        "postal_code", "city", "website", "email", "phone", "status", "notes", "contacts", "natural_person",
    ]
    static let readOnly: Set<String> = ["id", "version", "created_at", "created_by", "updated_at", "updated_by", "merged_into"]

    /// A patch from a JSON body, and the fields of the wrong type or unknown.
    static func patch(from object: [String: JSONValue]) -> (FacilitatorPatch, [FieldError]) {
        var r = FieldReader(object)
        r.rejectUnknown(allowed: fields, readOnly: readOnly)
        var p = FacilitatorPatch()
        p.legalName = r.string("legal_name")
        p.aliases = r.strings("aliases")
        p.sector = r.string("sector")
        p.stages = r.enumValues("stages", as: Stage.self)
        p.markets = r.enumValues("markets", as: Market.self)
        p.country = r.string("country")
        p.registrationNumber = r.nullableString("registration_number")
        p.vatNumber = r.nullableString("vat_number")
        p.street = r.nullableString("street")
        p.postalCode = r.nullableString("postal_code")
        p.city = r.nullableString("city")
        p.website = r.nullableString("website")
        p.email = r.nullableString("email")
        p.phone = r.nullableString("phone")
        p.status = r.enumValue("status", as: FacilitatorStatus.self)
        p.notes = r.string("notes")
        p.naturalPerson = r.bool("natural_person")
        switch object["contacts"] {
        case .none: break
        case .array(let items):
            var contacts: [ContactPoint] = []
            for (i, item) in items.enumerated() {
                guard case .object(let o) = item else { r.errors.add("contacts[\(i)]", "must be an object"); continue }
                var c = FieldReader(o)
                c.rejectUnknown(allowed: ["name", "role", "email", "phone"])
                let contact = ContactPoint(name: c.string("name") ?? "", role: c.nullableString("role") ?? nil,
                                           email: c.nullableString("email") ?? nil, phone: c.nullableString("phone") ?? nil)
                for e in c.errors.errors { r.errors.add("contacts[\(i)].\(e.field)", e.message) }
                contacts.append(contact)
            }
            p.contacts = contacts
        default:
            r.errors.add("contacts", "must be an array of objects")
        }
        return (p, r.errors.errors)
    }
}
