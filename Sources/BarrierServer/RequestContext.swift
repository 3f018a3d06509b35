import BarrierCore
import BarrierStore
import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// The context of every request: who is calling (nil when no token was sent)
/// and the request id that ties log lines and audit events together.
public struct BarrierRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Identity?
    public var requestID: String = ""
    /// The TCP peer (a proxy's address when one is in front; see `ClientAddressRule`); nil in router tests.
    public let remoteAddress: SocketAddress?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// The caller, who must hold one of `roles`: 401 without a token, 403 with the wrong role.
    public func require(_ roles: Set<Role>) throws -> Identity {
        guard let identity else {
            var p = Problem(.unauthorized, "Unauthorized", detail: "Send an API token: Authorization: Bearer <token>.")
            p.headers[.wwwAuthenticate] = "Bearer realm=\"barrier\""
            throw p
        }
        guard roles.contains(identity.role) else {
            throw Problem(.forbidden, "Forbidden",
                          detail: "Your role (\(identity.role.rawValue)) may not do this; it needs \(roles.map(\.rawValue).sorted().joined(separator: " or ")).")
        }
        return identity
    }

    public var actor: Actor {
        get throws { try require(Set(Role.allCases)).actor(requestID: requestID) }
    }
}

extension Set where Element == Role {
    static let everyone: Set<Role> = Set(Role.allCases)
    static let writers: Set<Role> = Set(Role.allCases.filter(\.canWrite))
    static let auditReaders: Set<Role> = Set(Role.allCases.filter(\.canReadAudit))
    static let administrators: Set<Role> = Set(Role.allCases.filter(\.canAdminister))
}

/// Resolves `Authorization: Bearer <token>` to a user. A verified token is kept
/// for a few seconds so the hot read paths cost one query, not two; a revoked
/// token stops working within that time on every instance.
struct TokenAuthenticator: RouterMiddleware {
    typealias Context = BarrierRequestContext
    let access: AccessStore
    let cacheSeconds: Int
    let cache = TokenCache()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                throw Problem(.unauthorized, "Unauthorized", detail: "The Authorization header must be 'Bearer <token>'.")
            }
            let token = String(parts[1]).trimmingCharacters(in: .whitespaces)
            guard let identity = try await identity(for: token) else {
                var p = Problem(.unauthorized, "Unauthorized", detail: "The API token is unknown, revoked or expired.")
                p.headers[.wwwAuthenticate] = "Bearer realm=\"barrier\", error=\"invalid_token\""
                throw p
            }
            context.identity = identity
        }
        // The one place a request's agency is set: everything it reads or writes runs as that agency.
        return try await AgencyScope.with(context.identity?.agencyID) { try await next(request, context) }
    }

    private func identity(for token: String) async throws -> Identity? {
        let now = ContinuousClock.now
        if cacheSeconds > 0, let (identity, expiry) = cache.entries.withLock({ $0[token] }), expiry > now {
            return identity
        }
        guard let identity = try await access.identity(forToken: token) else {
            cache.entries.withLock { _ = $0.removeValue(forKey: token) }
            return nil
        }
        if cacheSeconds > 0 {
            cache.entries.withLock { entries in
                if entries.count > 10_000 { entries.removeAll() }
                entries[token] = (identity, now + .seconds(cacheSeconds))
            }
        }
        return identity
    }
}

/// Gives every request an id (the client's X-Request-Id, or a new one), echoed
/// on every answer, errors included, and recorded with each audit event.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = BarrierRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.requestID = request.headers[.init("X-Request-Id")!].flatMap { $0.count <= 100 ? $0 : nil } ?? UUID().uuidString.lowercased()
        var response = try await next(request, context)
        response.headers[.init("X-Request-Id")!] = context.requestID
        return response
    }
}

final class TokenCache: Sendable {
    let entries = Mutex<[String: (Identity, ContinuousClock.Instant)]>([:])
}
