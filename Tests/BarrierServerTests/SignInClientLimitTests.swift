import BarrierCore
import BarrierServer
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The limit on failed sign-ins per client, over real sockets (the peer address
/// is what the limit starts from, and only a live server has one).
@Suite("Failed sign-ins per client")
struct SignInClientLimitTests {
    static let right = "correct+horse+battery"
    /// The test client's peer, whichever loopback the server sees.
    static let loopback = IPAddressRange.list("127.0.0.1, ::1").ranges

    /// One sign-in through the form (a fresh form token each time), from `forwarded` when given.
    static func attempt(_ client: any TestClientProtocol, _ email: String, _ password: String, forwarded: String? = nil) async throws -> TestResponse {
        var extra: HTTPFields = [:]
        if let forwarded { extra = HTTPFields(dictionaryLiteral: (.init("X-Forwarded-For")!, forwarded)) }
        let form = try await client.execute(uri: "/login", method: .get, headers: extra, body: nil)
        let csrf = try #require(form.cookie("barrier_login_csrf"))
        var headers = extra
        headers[.contentType] = "application/x-www-form-urlencoded"
        headers[.cookie] = "barrier_login_csrf=\(csrf)"
        return try await client.execute(uri: "/login", method: .post, headers: headers,
                                        body: ByteBuffer(string: "email=\(email)&password=\(password)&csrf=\(csrf)"))
    }

    @Test("behind a trusted proxy: one client over the limit gets 429 with Retry-After and a message, and no password is checked; another still signs in; successes do not use the limit up")
    func limitPerClient() async throws {
        try await TestApp.run(setup: .live, configure: { config in
            config.clientAddress.trustedProxies = Self.loopback
            config.signInClientLimit = 3
        }) { app in
            let client = app.client
            // Successes are given back: two failures, three sign-ins, one failure is still within three.
            for n in 0..<2 { #expect(try await Self.attempt(client, "nobody\(n)%40a.example", "guess", forwarded: "203.0.113.7").status == .unauthorized) }
            for _ in 0..<3 { #expect(try await Self.attempt(client, "officer%40inspectorate.example", Self.right, forwarded: "203.0.113.7").status == .seeOther) }
            #expect(try await Self.attempt(client, "nobody2%40a.example", "guess", forwarded: "203.0.113.7").status == .unauthorized)
            // The fourth failure is refused before the password is looked at, even the right one.
            let limited = try await Self.attempt(client, "limited%40inspectorate.example", "guess", forwarded: "203.0.113.7")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.text.contains("Too many failed sign-ins from your network. Try again in 15 minutes."))
            #expect(limited.headers[.retryAfter].flatMap(Int.init).map { (840...900).contains($0) } == true)
            #expect(PasswordHashing.verifications(for: "limited@inspectorate.example") == 0)
            let right = try await Self.attempt(client, "officer%40inspectorate.example", Self.right, forwarded: "203.0.113.7")
            #expect(right.status == .tooManyRequests && right.cookie("barrier_session") == nil)
            // The page is the sign-in form as before, with the message; the address itself is not locked.
            #expect(right.text.contains("name=\"csrf\"") && right.text.contains("value=\"officer@inspectorate.example\""))
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM sign_in_throttle WHERE locked_until IS NOT NULL") == "0")
            // Another client (the right-most address a trusted proxy reports; what the client wrote left of it is not read).
            let other = try await Self.attempt(client, "officer%40inspectorate.example", Self.right, forwarded: "203.0.113.7, 198.51.100.8")
            #expect(other.status == .seeOther && other.cookie("barrier_session") != nil)
            // An IPv6 client is its /64; a client over the limit stays two above it however often it tries.
            #expect(try await Self.attempt(client, "x%40a.example", "guess", forwarded: "[2001:db8:1:2::1]:5555").status == .unauthorized)
            #expect(try await Self.attempt(client, "x%40a.example", "guess", forwarded: "2001:db8:1:2::ffff").status == .unauthorized)
            let clients = try await TestDatabase.scalar(app.db, "SELECT string_agg(client || '=' || attempts, ' ' ORDER BY client) FROM sign_in_clients")
            #expect(clients == "198.51.100.8=0 2001:db8:1:2::/64=2 203.0.113.7=5")
            // When the window is over, the client may try again.
            try await TestDatabase.sql(app.db, "UPDATE sign_in_clients SET window_started_at = now() - interval '16 minutes'")
            #expect(try await Self.attempt(client, "officer%40inspectorate.example", Self.right, forwarded: "203.0.113.7").status == .seeOther)
        }
    }

    @Test("a forged header from a peer that is not a trusted proxy is ignored: every attempt counts for the peer")
    func forgedHeaderIsIgnored() async throws {
        try await TestApp.run(setup: .live, configure: { config in
            config.clientAddress.trustedProxies = IPAddressRange.list("10.0.0.0/8").ranges
            config.signInClientLimit = 3
        }) { app in
            for n in 0..<3 {
                let response = try await Self.attempt(app.client, "nobody%40a.example", "guess", forwarded: "203.0.113.\(n), 10.0.0.1")
                #expect(response.status == .unauthorized)
            }
            let limited = try await Self.attempt(app.client, "officer%40inspectorate.example", Self.right, forwarded: "198.51.100.99")
            #expect(limited.status == .tooManyRequests && limited.headers[.retryAfter] != nil)
            #expect(try await Self.attempt(app.client, "officer%40inspectorate.example", Self.right).status == .tooManyRequests)
            let rows = try await TestDatabase.scalar(app.db, "SELECT string_agg(client, ' ') FROM sign_in_clients")
            #expect(rows == "127.0.0.1" || rows == "0:0:0:0::/64", "\(rows ?? "none")")
        }
    }

    @Test("two instances on one database share the count, also for attempts sent to both at once")
    func sharedAcrossInstances() async throws {
        try await TestApp.run(setup: .live, configure: { config in
            config.clientAddress.trustedProxies = Self.loopback
            config.signInClientLimit = 4
        }) { app in
            var config = AppConfiguration()
            config.clientAddress.trustedProxies = Self.loopback
            config.signInClientLimit = 4
            config.tokenCacheSeconds = 0
            let letters = LetterStore(app.serverDB, renderer: try Fixtures.renderer(), pdfs: Fixtures.pdfs)
            let second = buildApplication(configuration: config, database: app.serverDB, letters: letters, runDatabase: false, runBackgroundWork: false)
            try await second.test(.live) { other in
                let instances: [any TestClientProtocol] = [app.client, other]
                // One after the other, alternating: the fifth failure is refused by either instance.
                for n in 0..<4 {
                    #expect(try await Self.attempt(instances[n % 2], "nobody\(n)%40a.example", "guess", forwarded: "203.0.113.50").status == .unauthorized)
                }
                #expect(try await Self.attempt(instances[0], "officer%40inspectorate.example", Self.right, forwarded: "203.0.113.50").status == .tooManyRequests)
                #expect(try await Self.attempt(instances[1], "officer%40inspectorate.example", Self.right, forwarded: "203.0.113.50").status == .tooManyRequests)
                // Twelve at once from another client over both instances: four get a password check, eight get 429.
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for n in 0..<12 {
                        group.addTask {
                            try await Self.attempt(instances[n % 2], "parallel\(n)%40a.example", "guess", forwarded: "203.0.113.51").status
                        }
                    }
                    var all: [HTTPResponse.Status] = []
                    for try await status in group { all.append(status) }
                    return all
                }
                #expect(statuses.filter { $0 == .unauthorized }.count == 4)
                #expect(statuses.filter { $0 == .tooManyRequests }.count == 8)
                let checked = (0..<12).map { PasswordHashing.verifications(for: "parallel\($0)@a.example") }.reduce(0, +)
                #expect(checked == 4)
            }
        }
    }
}
