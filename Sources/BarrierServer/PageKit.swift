import BarrierCore
import BarrierStore
import Foundation
import Hummingbird
import Mustache
import NIOCore

/// The visible strings of the pages in one language, from
/// `templates/pages/strings/<lang>.json`: templates read them as `{{t.key.sub}}`,
/// code as `text("key.sub", ["name": value])`.
struct PageStrings: @unchecked Sendable {
    let tree: [String: Any]

    init(file: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        tree = (try JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    /// The string at a dotted key with `{name}` placeholders filled; the key itself when missing (visible in tests).
    func text(_ key: String, _ values: [String: String] = [:]) -> String {
        var node: Any? = tree
        for part in key.split(separator: ".") { node = (node as? [String: Any])?[String(part)] }
        var text = node as? String ?? key
        for (name, value) in values { text = text.replacingOccurrences(of: "{\(name)}", with: value) }
        return text
    }
}

/// Renders the pages: every `templates/pages/*.mustache`, the strings, the stylesheet.
struct PageRenderer: Sendable {
    let library: MustacheLibrary
    let strings: PageStrings
    let stylesheet: ByteBuffer

    init(directory: String) throws {
        var library = MustacheLibrary()
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".mustache") }.sorted()
        for file in names {
            try library.register(try String(contentsOfFile: "\(directory)/\(file)", encoding: .utf8), named: String(file.dropLast(".mustache".count)))
        }
        self.library = library
        self.strings = try PageStrings(file: "\(directory)/strings/en.json")
        self.stylesheet = ByteBuffer(string: try String(contentsOfFile: "\(directory)/app.css", encoding: .utf8))
    }

    static func shipped() throws -> PageRenderer {
        try PageRenderer(directory: ProjectFiles.directory("templates/pages", containing: "layout.mustache"))
    }

    func text(_ key: String, _ values: [String: String] = [:]) -> String { strings.text(key, values) }

    /// A whole page: `template` rendered with `data` (and the strings as `t`) inside the layout.
    func page(_ template: String, title: String, _ data: [String: Any], session: PageSession?, status: HTTPResponse.Status = .ok,
              flash: String? = nil, refreshSeconds: Int? = nil) -> Response {
        var data = Self.blankAsNull(data) as? [String: Any] ?? data
        // Mustache has no "is this list empty" for a wrapper (a table around rows): `{{#itemsAny}}`.
        for (key, value) in data {
            if let list = value as? [Any] { data[key + "Any"] = !list.isEmpty }
        }
        data["t"] = strings.tree
        if let session {
            data["can"] = session.can
            data["csrf"] = session.csrf
        }
        let body = library.render(data, withTemplate: template) ?? ""
        var layout: [String: Any] = ["title": title, "body": body, "t": strings.tree]
        if let flash { layout["flash"] = flash }
        if let refreshSeconds { layout["refresh"] = String(refreshSeconds) }
        if let session {
            layout["user"] = ["email": session.identity.email, "role": session.identity.role.rawValue, "csrf": session.csrf]
            layout["can"] = session.can
        }
        let html = library.render(layout, withTemplate: "layout") ?? body
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// Empty texts become nulls all the way down: to Mustache "" is a value, so
    /// `{{#reference}}…{{/reference}}` would take an empty reference for one.
    /// A null renders as nothing and stops the look-up in the enclosing contexts.
    static func blankAsNull(_ value: Any) -> Any {
        switch value {
        case let text as String: return text.isEmpty ? NSNull() : text
        case let dictionary as [String: Any]: return dictionary.mapValues(blankAsNull)
        case let list as [[String: Any]]: return list.map { $0.mapValues(blankAsNull) }
        case let list as [Any]: return list.map(blankAsNull)
        default: return value
        }
    }

    /// A page that says why a request was refused, with a way back.
    func message(_ status: HTTPResponse.Status, title: String, detail: String, session: PageSession?, errors: [FieldError] = []) -> Response {
        page("message", title: title, ["heading": title, "detail": detail, "errors": errors.map { ["field": $0.field, "message": $0.message] }],
             session: session, status: status)
    }
}

/// The signed-in user of a page request and the token its forms must carry.
struct PageSession: Sendable {
    var identity: Identity
    var csrf: String

    /// What the user's role may do, for templates to show or hide controls (the server checks again).
    var can: [String: Bool] {
        ["write": identity.role.canWrite, "admin": identity.role == .admin, "audit": identity.role.canReadAudit]
    }
}

/// A posted form (application/x-www-form-urlencoded, or multipart/form-data
/// with files): every value of each field, in order, and the files.
struct PageForm: Sendable {
    var values: [String: [String]] = [:]
    var files: [String: UploadedDocument] = [:]

    /// Reads a body of either encoding; `contentType` names which.
    init(body: ByteBuffer, contentType: String?) {
        let type = contentType?.lowercased() ?? ""
        if type.hasPrefix("multipart/form-data"), let raw = contentType, let range = raw.range(of: "boundary=", options: .caseInsensitive) {
            var boundary = String(raw[range.upperBound...]).split(separator: ";").first.map(String.init) ?? ""
            boundary = boundary.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
            self.init(multipart: Array(body.readableBytesView), boundary: boundary)
        } else {
            self.init(encoded: String(buffer: body))
        }
    }

    init(multipart bytes: [UInt8], boundary: String) {
        let delimiter = Array("--\(boundary)".utf8)
        let headerEnd = Array("\r\n\r\n".utf8)
        func find(_ needle: [UInt8], in hay: ArraySlice<UInt8>) -> Int? {
            guard needle.count <= hay.count else { return nil }
            var i = hay.startIndex
            while i <= hay.endIndex - needle.count {
                if hay[i] == needle[0] && hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
                i += 1
            }
            return nil
        }
        var rest = bytes[...]
        guard let first = find(delimiter, in: rest) else { return }
        rest = rest[(first + delimiter.count)...]
        while let next = find(delimiter, in: rest) {
            var part = rest[rest.startIndex..<next]
            rest = rest[(next + delimiter.count)...]
            if part.starts(with: Array("\r\n".utf8)) { part = part.dropFirst(2) }
            if part.count >= 2, part.suffix(2).elementsEqual(Array("\r\n".utf8)) { part = part.dropLast(2) }
            guard let split = find(headerEnd, in: part) else { continue }
            let headers = String(decoding: part[part.startIndex..<split], as: UTF8.self)
            let content = Array(part[(split + headerEnd.count)...])
            var name: String?, filename: String?, type = "application/octet-stream"
            for line in headers.split(separator: "\r\n") {
                let lower = line.lowercased()
                if lower.hasPrefix("content-disposition:") {
                    for item in line.split(separator: ";").dropFirst() {
                        let kv = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                        guard kv.count == 2 else { continue }
                        let value = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                        if kv[0] == "name" { name = value } else if kv[0] == "filename" { filename = value }
                    }
                } else if lower.hasPrefix("content-type:") {
                    type = line.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces)
                }
            }
            guard let name else { continue }
            if let filename {
                if !filename.isEmpty || !content.isEmpty {
                    // A file's name is only a label: control characters are dropped rather than refused.
                    let label = String(String.UnicodeScalarView(filename.unicodeScalars.filter { !TextInput.hasControlCharacters(String($0)) }))
                    files[name] = UploadedDocument(name: TextInput.normalised(label), contentType: type, bytes: Data(content))
                }
            } else {
                values[name, default: []].append(TextInput.normalised(String(decoding: content, as: UTF8.self)))
            }
        }
    }

    init(encoded: String) {
        for pair in encoded.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
            }
            values[decode(parts[0]), default: []].append(TextInput.normalised(parts.count > 1 ? decode(parts[1]) : ""))
        }
    }

    /// The field's value, nil when absent.
    subscript(_ key: String) -> String? { values[key]?.first }

    /// The field's value with surrounding whitespace removed; nil when absent or blank.
    func text(_ key: String) -> String? {
        guard let raw = values[key]?.first else { return nil }
        let trimmed = raw.trimmingWhitespace
        return trimmed.isEmpty ? nil : trimmed
    }

    func all(_ key: String) -> [String] { values[key] ?? [] }
}

/// Security headers on every answer: no MIME sniffing and no referrer
/// anywhere; for the pages a Content-Security-Policy that allows no inline
/// script or style and no framing. Error answers get them too.
struct SecurityHeaders<Context: RequestContext>: RouterMiddleware {
    static var contentSecurityPolicy: String {
        "default-src 'none'; style-src 'self'; img-src 'self' data:; object-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.init("X-Content-Type-Options")!] = "nosniff"
        response.headers[.init("Referrer-Policy")!] = "no-referrer"
        if !request.uri.path.hasPrefix("/api/") {
            if response.headers[.init("Content-Security-Policy")!] == nil {
                response.headers[.init("Content-Security-Policy")!] = Self.contentSecurityPolicy
            }
            if response.headers[.init("X-Frame-Options")!] == nil { response.headers[.init("X-Frame-Options")!] = "DENY" }
        }
        return response
    }
}
