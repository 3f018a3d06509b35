import BarrierCore
import BarrierStore
import Foundation
import Hummingbird
import NIOCore
import Synchronization

extension HTTPFields.Element.Name {
    static let idempotencyKey = HTTPFields.Element.Name("Idempotency-Key")!
    static let idempotentReplayed = HTTPFields.Element.Name("Idempotent-Replayed")!
}

/// `Idempotency-Key` on the API's POSTs: a client that did not get an answer
/// (a timeout, a dropped connection) repeats the request with the same key and
/// gets the first answer back, without a second change or audit event.
///
/// The key is the calling user's: it stands for one request (method, path with
/// query, SHA-256 of the raw body) for 24 hours. The same key with another
/// request is refused (422); a retry while the first still runs gets 409. An
/// answer is kept when it is final for that request (2xx, and 4xx other than
/// those the client is expected to fix and retry: 409, 412, 428, 429); a 5xx or
/// those refusals free the key, so the retry runs the request again. A claim
/// left by a crashed server is taken over by a retry after five minutes.
/// Requests without the header, other methods and unauthenticated calls pass
/// through untouched.
struct IdempotencyMiddleware: RouterMiddleware {
    typealias Context = BarrierRequestContext
    let keys: IdempotencyKeys
    /// The largest body any POST accepts (the CSV import's, usually): the body is read whole to hash it.
    let maxBodyBytes: Int

    /// The answer's headers that are part of it; the rest (request id, security headers) belong to each answer.
    static let keptHeaders: [HTTPFields.Element.Name] = [.contentType, .location, .eTag, .contentDisposition, .init("Repr-Digest")!, .retryAfter]
    /// Refusals that depend on the record's state or on timing: the client fixes the
    /// precondition and repeats the same request with the same key.
    static let retryableStatuses: Set<Int> = [409, 412, 428, 429]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post, let identity = context.identity else { return try await next(request, context) }
        let values = request.headers[values: .idempotencyKey]
        guard !values.isEmpty else { return try await next(request, context) }
        let key = try Self.validKey(values)
        var request = request
        let body = try await request.collectBody(upTo: maxBodyBytes)
        let fingerprint = IdempotencyKeys.Fingerprint(
            method: request.method.rawValue, path: request.uri.description, body: body)
        switch try await keys.claim(user: identity.userID, agency: identity.agencyID, key: key, request: fingerprint) {
        case .replay(let answer):
            var headers = HTTPFields()
            for (name, value) in answer.headers.sorted(by: { $0.key < $1.key }) {
                if let name = HTTPFields.Element.Name(name) { headers[name] = value }
            }
            headers[.idempotentReplayed] = "true"
            return Response(status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: answer.body))
        case .inFlight:
            var problem = Problem(.conflict, "Request in progress",
                                  detail: "A request with this Idempotency-Key is still being processed; repeat it once that one has answered.")
            problem.headers[.retryAfter] = "1"
            throw problem
        case .mismatch(let first):
            throw Problem(.unprocessableContent, "Idempotency key reused",
                          detail: "This Idempotency-Key was first used for \(first.method) \(first.path)"
                              + (first.method == fingerprint.method && first.path == fingerprint.path ? " with another body" : "")
                              + "; a key stands for one request. Send a new key with a new request.",
                          errors: [FieldError(field: "Idempotency-Key", message: "was used for another request in the last 24 hours")])
        case .claimed(let attempt):
            return try await run(request, context: context, next: next, identity: identity, key: key, attempt: attempt)
        }
    }

    private func run(_ request: Request, context: Context, next: (Request, Context) async throws -> Response,
                     identity: Identity, key: String, attempt: UUID) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            // The answer the client will get, as ProblemMiddleware would make it, so it can be kept.
            response = try Problem.from(error, logger: context.logger).response(from: request, context: context)
        }
        let status = Int(response.status.code)
        guard status < 500, !Self.retryableStatuses.contains(status) else {
            await release(identity: identity, key: key, attempt: attempt, context: context)
            return response
        }
        let sink = BodySink()
        do {
            try await response.body.write(CollectingBodyWriter(sink: sink))
        } catch {
            await release(identity: identity, key: key, attempt: attempt, context: context)
            throw error
        }
        let body = sink.buffer.withLock { $0 }
        var kept: [String: String] = [:]
        for name in Self.keptHeaders {
            if let value = response.headers[name] { kept[name.canonicalName] = value }
        }
        do {
            try await keys.complete(user: identity.userID, key: key, attempt: attempt,
                                    answer: .init(status: status, headers: kept, body: body))
        } catch {
            // The change is done; only its replay is lost. The claim lapses after IdempotencyKeys.takeoverAfter.
            context.logger.error("idempotency key: the answer could not be stored: \(error)")
        }
        response.body = .init(byteBuffer: body)
        return response
    }

    private func release(identity: Identity, key: String, attempt: UUID, context: Context) async {
        do {
            try await keys.release(user: identity.userID, key: key, attempt: attempt)
        } catch {
            context.logger.error("idempotency key: the claim could not be released (it lapses by itself): \(error)")
        }
    }

    /// One key of 1 to 255 characters, sent as UTF-8, without control characters.
    static func validKey(_ values: [String]) throws -> String {
        let field = "Idempotency-Key"
        guard values.count == 1 else {
            throw Problem.badRequest("Send one Idempotency-Key.", errors: [FieldError(field: field, message: "was sent more than once")])
        }
        let key = values[0]
        if key.isEmpty {
            throw Problem.badRequest("The Idempotency-Key is empty.", errors: [FieldError(field: field, message: "is empty")])
        }
        if key.unicodeScalars.count > 255 {
            throw Problem.badRequest("The Idempotency-Key is longer than 255 characters.",
                                     errors: [FieldError(field: field, message: "is longer than 255 characters")])
        }
        if key.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw Problem.badRequest("The Idempotency-Key contains control characters.",
                                     errors: [FieldError(field: field, message: "contains control characters")])
        }
        // The HTTP parser turns bytes that are not UTF-8 into U+FFFD, so a key sent as
        // ISO-8859-1 (a C1 control 0x80–0x9F or a single-byte "é") would otherwise be
        // stored as another key than the one the client meant, and a control let through.
        if key.unicodeScalars.contains("\u{FFFD}") {
            throw Problem.badRequest("The Idempotency-Key is not valid UTF-8.",
                                     errors: [FieldError(field: field, message: "is not valid UTF-8")])
        }
        return key
    }
}

/// Where a response body is collected to be kept.
final class BodySink: Sendable {
    let buffer = Mutex(ByteBuffer())
}

struct CollectingBodyWriter: ResponseBodyWriter {
    let sink: BodySink

    mutating func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        sink.buffer.withLock { _ = $0.writeBuffer(&buffer) }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
