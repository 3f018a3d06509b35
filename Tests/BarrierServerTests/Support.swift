import BarrierCore
import BarrierServer
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore

/// A running application on a fresh database, with a token per role.
struct TestApp: Sendable {
    let client: any TestClientProtocol
    let tokens: [Role: String]
    /// The test's superuser connection, for checks below the application.
    let db: Database
    /// The server's own pool (its role is bound by row-level security).
    let serverDB: Database

    /// The relay the server tests send through (a real aiosmtpd, started by the tests that use it).
    nonisolated(unsafe) static var smtpRelay: SMTPRelay?

    /// `readFrom` stands for a replica at DATABASE_READ_URL. `setup: .ahc(.http)` runs a real
    /// server with a pooled HTTP client, so requests sent together really run in parallel.
    static func run(readFrom replica: Database? = nil, setup: TestingSetup = .router,
                    configure: @Sendable (inout AppConfiguration) -> Void = { _ in },
                    _ body: @Sendable (TestApp) async throws -> Void) async throws {
        try await TestDatabase.withFresh { db in
            let tokens = try await Fixtures.agencyWithUsers(db)
            var config = AppConfiguration()
            config.tokenCacheSeconds = 0
            config.maxJSONBytes = 16 * 1024
            config.maxImportBytes = 64 * 1024
            config.smtpRelay = TestApp.smtpRelay
            configure(&config)
            _ = try await Fixtures.letterStore(db)
            let configuration = config
            // The server runs as its role, which row-level security binds, as in production.
            try await TestDatabase.withAppRole(db) { serverDB in
                let letters = LetterStore(serverDB, renderer: try Fixtures.renderer(), pdfs: Fixtures.pdfs)
                let app = buildApplication(configuration: configuration, database: serverDB, readDatabase: replica, letters: letters,
                                           runDatabase: false, runBackgroundWork: false)
                try await app.test(setup) { client in
                    try await body(TestApp(client: client, tokens: tokens, db: db, serverDB: serverDB))
                }
            }
        }
    }

    func request(_ method: HTTPRequest.Method, _ uri: String, as role: Role? = .officer, json: String? = nil,
                 body: String? = nil, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await request(method, uri, token: role.map { tokens[$0]! }, json: json, body: body, headers: headers)
    }

    /// The same with any token (a user of another agency).
    func request(_ method: HTTPRequest.Method, _ uri: String, token: String?, json: String? = nil,
                 body: String? = nil, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        let payload = (json ?? body).map { ByteBuffer(string: $0) }
        return try await client.execute(uri: uri, method: method, headers: headers, body: payload)
    }

    /// Creates a supplier through the API and returns its id.
    func createSupplier(_ name: String, country: String = "DE", registration: String? = nil) async throws -> String {
        let reg = registration.map { ", \"registration_number\": \"\($0)\"" } ?? ""
        let response = try await request(.post, "/api/v1/facilitators?create_anyway=true", json: """
            {"legal_name": "\(name)", "sector": "courier", "stages": ["shipping"], "country": "\(country)"\(reg)}
            """)
        guard response.status == .created, let id = response.object["id"] as? String else {
            throw TestFailure("create failed: \(response.status) \(String(buffer: response.body))")
        }
        return id
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

extension TestResponse {
    var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }

    var text: String { String(buffer: body) }

    /// The `field` of each entry of a problem's `errors`.
    var errorFields: Set<String> {
        Set(((object["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String })
    }

    var isProblem: Bool { headers[.contentType] == "application/problem+json" && object["title"] != nil && object["status"] as? Int == Int(status.code) }
}

#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 exchange over a plain socket to 127.0.0.1, with the request given as
/// bytes: for what a test client cannot send (header bytes that are not UTF-8). Returns
/// the whole answer as text (the connection is closed by `Connection: close`).
func rawHTTPExchange(port: Int, request: [UInt8]) throws -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw TestFailure("connect: \(errno)") }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { throw TestFailure("send: \(errno)") }
    var answer: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count < 0 { throw TestFailure("recv: \(errno)") }
        if count == 0 { break }
        answer.append(contentsOf: chunk[0..<count])
    }
    return String(decoding: answer, as: UTF8.self)
}
