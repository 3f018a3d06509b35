import BarrierCore
import BarrierLetters
import BarrierStore
import Foundation
import Hummingbird
import NIOCore
import PostgresNIO

/// An RFC 9457 problem: every error the API answers with, as
/// `application/problem+json`, with one entry per invalid field.
public struct Problem: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var title: String
    public var detail: String?
    public var errors: [FieldError]?
    public var candidates: [DuplicateCandidate]?
    public var headers: HTTPFields = [:]
    /// Extra members, already JSON-encoded.
    public var extra: [String: String] = [:]

    public init(_ status: HTTPResponse.Status, _ title: String, detail: String? = nil, errors: [FieldError]? = nil) {
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
    }

    public var type: String {
        "https://barrier-registry.eu/problems/" + title.lowercased().split(whereSeparator: { !$0.isLetter }).joined(separator: "-")
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var object: [String: Any] = ["type": type, "title": title, "status": Int(status.code), "instance": request.uri.path]
        if let detail { object["detail"] = detail }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var json = String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
        json.removeLast()
        if let errors {
            json += ",\"errors\":" + String(decoding: try encoder.encode(errors), as: UTF8.self)
        }
        if let candidates {
            json += ",\"candidates\":" + String(decoding: try encoder.encode(candidates), as: UTF8.self)
        }
        for (key, value) in extra.sorted(by: { $0.key < $1.key }) {
            json += ",\"\(key)\":" + value
        }
        json += "}"
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
    }
}

extension Problem {
    static func invalid(_ errors: [FieldError], detail: String = "The request has invalid fields; each is listed in errors.") -> Problem {
        Problem(.unprocessableContent, "Validation failed", detail: detail, errors: errors)
    }

    static func badRequest(_ detail: String, errors: [FieldError]? = nil) -> Problem {
        Problem(.badRequest, "Bad request", detail: detail, errors: errors)
    }

    /// 503 when the PDF workers refused (queue full; Retry-After says when to come back)
    /// or a PDF ran past its time limit; nil for any other error.
    static func pdfUnavailable(_ error: any Error) -> Problem? {
        switch error {
        case let busy as PDFRenderer.Busy:
            var p = Problem(.serviceUnavailable, "PDF printing busy",
                            detail: "Every PDF worker is busy and \(busy.waiting) PDF(s) are waiting already; try again in \(busy.retryAfterSeconds) s.")
            p.headers[.retryAfter] = String(busy.retryAfterSeconds)
            return p
        case let late as PDFRenderer.TimedOut:
            return Problem(.serviceUnavailable, "PDF printing timed out",
                           detail: "The PDF took longer than \(late.seconds.formatted(.number.grouping(.never))) s to print and was stopped; nothing was stored.")
        default:
            return nil
        }
    }

    /// The one place where errors of the lower layers become HTTP answers.
    static func from(_ error: any Error, logger: Logger) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let failure as ValidationFailure:
            return .invalid(failure.errors)
        case let store as StoreError:
            switch store {
            case .notFound(let entity, let id):
                return Problem(.notFound, "Not found", detail: "No \(entity) with id \(id).")
            case .versionConflict(let current):
                var p = Problem(.preconditionFailed, "Precondition failed",
                                detail: "The record changed since you read it (it is now at version \(current)); read it again and reapply your change.")
                p.headers[.eTag] = "\"\(current)\""
                p.extra["current_version"] = String(current)
                return p
            case .invalid(let errors):
                return .invalid(errors)
            case .duplicates(let candidates, let overridable):
                var p = Problem(.conflict, "Possible duplicate",
                                detail: overridable
                                    ? "Similar suppliers are already registered; check the candidates, or repeat the request with create_anyway=true."
                                    : "A supplier with the same registration number is already registered in this country; it cannot be registered twice.")
                p.candidates = candidates
                p.extra["overridable"] = overridable ? "true" : "false"
                return p
            case .conflict(let message):
                return Problem(.conflict, "Conflict", detail: message)
            case .transition(let entity, let from, let to, let allowed):
                var p = Problem(.conflict, "Illegal transition",
                                detail: StoreError.transitionRefusal(entity: entity, from: from, to: to, allowed: allowed))
                p.extra["current_status"] = "\"\(from)\""
                p.extra["allowed"] = "[" + allowed.map { "\"\($0)\"" }.joined(separator: ",") + "]"
                return p
            case .refused(let title, let detail, let errors):
                return Problem(.unprocessableContent, title, detail: detail, errors: errors)
            case .forbidden(let message):
                return Problem(.forbidden, "Forbidden", detail: message)
            case .cluster(let message), .migration(let message):
                logger.error("\(message)")
                return Problem(.serviceUnavailable, "Service unavailable", detail: "The database is not available.")
            }
        case let http as HTTPError:
            switch http.status {
            case .contentTooLarge:
                return Problem(.contentTooLarge, "Content too large", detail: "The request body is larger than this endpoint accepts.")
            case .notFound:
                return Problem(.notFound, "Not found", detail: "There is no such resource.")
            case .methodNotAllowed:
                return Problem(.methodNotAllowed, "Method not allowed", detail: "This resource does not support that method.")
            default:
                return Problem(http.status, http.status.reasonPhrase, detail: http.body)
            }
        case is PDFRenderer.Busy, is PDFRenderer.TimedOut:
            return pdfUnavailable(error)!
        case is NIOTooManyBytesError:
            return Problem(.contentTooLarge, "Content too large", detail: "The request body is larger than this endpoint accepts.")
        case is DatabaseUnavailable:
            var p = Problem(.serviceUnavailable, "Service unavailable", detail: "The database is not reachable; nothing was written. Try again shortly.")
            p.headers[.retryAfter] = "1"
            return p
        case let psql as PSQLError:
            // The schema refused something the rules above missed: say which constraint, change nothing.
            if psql.serverInfo?[.sqlState] == "23505" {
                return Problem(.conflict, "Conflict", detail: "Another record already holds that unique value (\(psql.serverInfo?[.constraintName] ?? "")); nothing was written.")
            }
            if let code = psql.serverInfo?[.sqlState], code.hasPrefix("23") {
                let constraint = psql.serverInfo?[.constraintName] ?? "a database constraint"
                return Problem(.unprocessableContent, "Validation failed", detail: "The database refused the change (\(constraint)); nothing was written.")
            }
            logger.error("database error: \(String(reflecting: psql))")
            return Problem(.serviceUnavailable, "Service unavailable", detail: "The database could not complete the request; nothing was written.")
        default:
            logger.error("unexpected error: \(String(reflecting: error))")
            return Problem(.internalServerError, "Internal server error", detail: "The request failed; nothing was written.")
        }
    }
}

/// Turns every error thrown below it into a problem+json answer.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Problem.from(error, logger: context.logger)
            return try problem.response(from: request, context: context)
        }
    }
}
