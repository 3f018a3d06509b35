import BarrierCore
import BarrierLetters
import BarrierStore
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import PostgresNIO

/// Fresh databases for tests: each test gets its own database cloned from a
/// migrated template (`CREATE DATABASE … TEMPLATE barrier_template`), so tests
/// run in any order and in parallel against a real PostgreSQL.
/// `scripts/test` starts the server and sets BARRIER_TEST_DATABASE_URL.
public enum TestDatabase {
    static let logger: Logger = {
        var l = Logger(label: "barrier.tests")
        l.logLevel = .warning
        return l
    }()

    static let baseURL: DatabaseURL? = {
        guard let text = ProcessInfo.processInfo.environment["BARRIER_TEST_DATABASE_URL"] else { return nil }
        return try? DatabaseURL(text)
    }()

    public struct NotConfigured: Error, CustomStringConvertible {
        public var description: String { "BARRIER_TEST_DATABASE_URL is not set: run the tests with scripts/test" }
    }

    /// A pool on the maintenance database that lives as long as the test process.
    static let admin: Task<Database, any Error> = Task {
        guard let baseURL else { throw NotConfigured() }
        let db = try Database(url: baseURL, maximumConnections: 4, logger: logger)
        Task.detached { await db.client.run() }
        try await db.waitUntilReachable()
        try await prepareTemplate(admin: db)
        return db
    }

    static func exec(_ db: Database, _ sql: String) async throws {
        try await db.client.query(PostgresQuery(unsafeSQL: sql), logger: logger)
    }

    private static func prepareTemplate(admin: Database) async throws {
        let rows = try await admin.client.query("SELECT datname FROM pg_database WHERE datname LIKE 't\\_%' OR datname = 'barrier_template'", logger: logger)
        var stale: [String] = []
        for try await name in rows.decode(String.self) { stale.append(name) }
        for name in stale { try await exec(admin, "DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)") }
        try await exec(admin, "CREATE DATABASE barrier_template")
        let template = try Database(url: admin.url.with(database: "barrier_template"), maximumConnections: 2, logger: logger)
        try await template.withRunning { db in
            _ = try await Migrator().migrate(db)
            try await ProcedureProfileStore(db).syncShipped()
            try await AppRole.ensureEmbeddedLogin(db)
        }
    }

    /// Runs `body` with a pool on the same database as the server's role, which
    /// row-level security binds (the test's own `db` is a superuser's, which it does not).
    public static func withAppRole<T: Sendable>(_ db: Database, connections: Int = 6,
                                                _ body: @Sendable (Database) async throws -> T) async throws -> T {
        try await Database(url: db.url.with(user: AppRole.embeddedLogin), maximumConnections: connections, logger: logger).withRunning(body)
    }

    /// Runs `body` with a database of its own, dropped afterwards.
    public static func withFresh<T: Sendable>(_ body: @Sendable (Database) async throws -> T) async throws -> T {
        let admin = try await admin.value
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await exec(admin, "CREATE DATABASE \(name) TEMPLATE barrier_template")
        let db = try Database(url: admin.url.with(database: name), maximumConnections: 6, logger: logger)
        do {
            let value = try await db.withRunning(body)
            try? await exec(admin, "DROP DATABASE \(name) WITH (FORCE)")
            return value
        } catch {
            try? await exec(admin, "DROP DATABASE \(name) WITH (FORCE)")
            throw error
        }
    }

    /// Runs plain SQL on `db`, as `psql` would (the test's superuser).
    public static func sql(_ db: Database, _ text: String) async throws {
        try await db.client.query(PostgresQuery(unsafeSQL: text), logger: logger)
    }

    /// The first column of the first row, as text.
    public static func scalar(_ db: Database, _ text: String) async throws -> String? {
        let rows = try await db.client.query(PostgresQuery(unsafeSQL: text), logger: logger)
        for try await value in rows.decode(String?.self) { return value }
        return nil
    }
}

/// Ready-made inputs for tests: a CLI-like actor, an agency, users and drafts.
public enum Fixtures {
    /// The sectors a fresh database holds (migrations 0001 and 0031). The catalogue
    /// itself is the `sectors` table, which administrators extend; tests that count
    /// a fresh registry's sectors use this list.
    /// The letter group and postal caveat of each shipped sector, as migration 0037 stores them.
    public static let shippedLetterRules = SectorLetterRules(
        groups: ["courier": .delivery, "postal_service": .delivery, "parcel_delivery": .delivery, "food_delivery": .delivery,
                 "parcel_locker_operator": .delivery, "stealth_packaging": .packaging, "internet_service_provider": .internet,
                 "hosting_provider": .internet, "encrypted_messaging": .messaging, "social_media": .messaging, "online_marketplace": .messaging,
                 "cryptocurrency_exchange": .finance, "crypto_atm_operator": .finance, "payment_service": .finance, "other": .general],
        postal: ["courier", "postal_service", "parcel_delivery", "parcel_locker_operator"])

    public static let shippedSectors: [String] = [
        "courier", "postal_service", "parcel_delivery", "food_delivery", "parcel_locker_operator", "stealth_packaging",
        "internet_service_provider", "hosting_provider", "encrypted_messaging", "social_media", "online_marketplace",
        "cryptocurrency_exchange", "crypto_atm_operator", "payment_service", "other",
    ]

    public static let system = Actor(userID: nil, agencyID: nil, label: "test:system")

    /// An agency with one user of each role (`<role>@<domain>`); returns their tokens by role.
    /// The first agency a test creates is the one its fixtures' casework belongs to.
    public static func agencyWithUsers(_ db: Database, name: String = "Test Inspectorate", country: String = "NL",
                                       domain: String = "inspectorate.example") async throws -> [Role: String] {
        let access = AccessStore(db)
        let agency = try await access.createAgency(name: name, country: country, actor: system)
        var tokens: [Role: String] = [:]
        for role in Role.allCases {
            let email = "\(role.rawValue)@\(domain)"
            _ = try await access.createUser(agency: agency.uuidString, email: email, fullName: "\(role.rawValue.capitalized) User",
                                            role: role.rawValue, password: "correct horse battery", actor: system)
            tokens[role] = try await access.createToken(email: email, name: "tests", expiresAt: nil, actor: system)
        }
        if db.defaultAgency == nil { db.actFor(defaultAgency: agency) }
        try await grantPowers(db, agency: agency)
        return tokens
    }

    /// The shipped profile of `country` with the powers of a test licensing act for
    /// every restrictive action (the shipped profiles give none), and fine payment.
    public static func empoweredProfile(country: String) throws -> ProcedureProfile {
        let shipped = try ProcedureProfileStore.shippedProfiles()
        var profile = shipped[country] ?? shipped["default"]!
        let formal = ["bezwaar", "widerspruch", "recours_contentieux", "annulation", "objection"].first { profile.remedies[$0] != nil }
            ?? profile.remedies.keys.sorted().first!
        func all(_ en: String, _ fr: String, _ nl: String, _ de: String) -> LocalizedText { ["en": en, "fr": fr, "nl": nl, "de": de] }
        for type in LicensingActionType.allCases where type.isRestrictive {
            profile.actions[type.rawValue] = .some(.init(
                legalBasis: all("Article 12 of the Test Licensing Act.", "Article 12 de la loi test sur les licences.",
                                "Artikel 12 van de Testvergunningenwet.", "Artikel 12 des Testlizenzgesetzes."),
                competence: all("The Test Licensing Act empowers us to take this measure.", "La loi test nous habilite à prendre cette mesure.",
                                "De Testvergunningenwet geeft ons de bevoegdheid deze maatregel te nemen.",
                                "Das Testlizenzgesetz ermächtigt uns zu dieser Maßnahme."),
                suspensiveEffect: type != .revocation,
                effect: type != .revocation
                    ? all("Lodging the remedy suspends this decision.", "Le recours suspend cette décision.",
                          "Het rechtsmiddel schorst dit besluit.", "Der Rechtsbehelf hat aufschiebende Wirkung.")
                    : all("Lodging the remedy does not suspend this decision.", "Le recours ne suspend pas cette décision.",
                          "Het rechtsmiddel schorst dit besluit niet.", "Der Rechtsbehelf hat keine aufschiebende Wirkung."),
                remedy: formal, source: "Test Licensing Act, art. 12 (test fixture)"))
        }
        profile.finePayment = .init(beneficiary: "Test Inspectorate", iban: "NL91 ABNA 0417 1643 00", bic: "ABNANL2A", days: 30)
        return profile
    }

    /// Stores `empoweredProfile` as the agency's version 1.
    public static func grantPowers(_ db: Database, agency: UUID) async throws {
        let country = try await TestDatabase.scalar(db, "SELECT country::text FROM agencies WHERE id = '\(agency.uuidString.lowercased())'") ?? "NL"
        let encoder = JSONEncoder()
        let json = String(decoding: try encoder.encode(try empoweredProfile(country: country)), as: UTF8.self)
        _ = try await ProcedureProfileStore(db).replace(agency, json: json, reason: "test fixture: the powers of the Test Licensing Act",
                                                        expectedVersion: 0, actor: system)
    }

    public static func patch(
        _ name: String, sector: String = "parcel_delivery", country: String = "DE", registration: String? = nil,
        vat: String? = nil, aliases: [String] = [], stages: [Stage] = [.shipping]
    ) -> FacilitatorPatch {
        var p = FacilitatorPatch()
        p.legalName = name
        p.sector = sector
        p.country = country
        p.stages = stages
        p.aliases = aliases
        p.registrationNumber = .some(registration)
        p.vatNumber = .some(vat)
        p.street = "Hafenstraße 12"
        p.postalCode = "20457"
        p.city = "Hamburg"
        return p
    }
}

extension Fixtures {
    /// `templates/letters` of this checkout.
    public static let templatesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("templates/letters").path

    /// One set of warm PDF workers for the whole test process.
    /// The tests run in parallel and share it, so its queue is not bounded as a server's is (PDF_QUEUE_LIMIT).
    public static let pdfs = PDFRenderer(workers: 2, queueLimit: 100_000)

    public static func renderer() throws -> LetterRenderer { try LetterRenderer(directory: templatesDirectory) }

    /// A letter store on `db` with the shipped templates stored.
    public static func letterStore(_ db: Database) async throws -> LetterStore {
        let store = LetterStore(db, renderer: try renderer(), pdfs: pdfs)
        try await store.syncShippedTemplates()
        return store
    }

    /// A signed-in user of `agency` as the stores see them (the four-eyes rule counts only users).
    public static func user(_ db: Database, agency: UUID, email: String, role: Role = .officer) async throws -> Actor {
        _ = try await AccessStore(db).createUser(agency: agency.uuidString, email: email, fullName: email, role: role.rawValue,
                                                 password: "correct horse battery", actor: system)
        guard let id = try await TestDatabase.scalar(db, "SELECT id::text FROM users WHERE email = '\(email)'") else {
            throw StoreError.notFound(entity: "user", id: email)
        }
        return Actor(userID: id, agencyID: agency.uuidString.lowercased(), label: email)
    }

    /// An agency with a letterhead; returns its id.
    public static func letterheadAgency(_ db: Database, name: String = "Inspectorate of Licensed Services") async throws -> UUID {
        let id = try await AccessStore(db).createAgency(name: name, country: "NL", actor: system)
        try await TestDatabase.sql(db, """
            UPDATE agencies SET street = 'Koningskade 4', postal_code = '2596 AA', city = 'Den Haag', email = 'barrier@ilt.example',
                phone = '+31 70 456 00 00', signatory_name = 'mr. drs. H. J. Bakker', signatory_title = 'Director of Supervision'
            WHERE id = '\(id.uuidString.lowercased())'
            """)
        // The fixtures' casework (written as `system`, who has no agency) is this agency's.
        if db.defaultAgency == nil { db.actFor(defaultAgency: id) }
        try await grantPowers(db, agency: id)
        return id
    }
}

/// A real SMTP server for tests: aiosmtpd (from PyPI, installed by scripts/test)
/// storing what it receives in a Maildir.
public final class TestSMTPServer: @unchecked Sendable {
    public let port: Int
    public let maildir: String
    let process: Process

    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// Starts a server on a free port; BARRIER_TEST_PYTHON names a Python with aiosmtpd.
    public init() throws {
        guard let python = ProcessInfo.processInfo.environment["BARRIER_TEST_PYTHON"] else {
            throw Unavailable(description: "BARRIER_TEST_PYTHON is not set: run the tests with scripts/test")
        }
        port = try Self.freePort()
        maildir = FileManager.default.temporaryDirectory.appendingPathComponent("barrier-maildir-\(UUID().uuidString)").path
        process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)", "-c", "aiosmtpd.handlers.Mailbox", maildir]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready when it accepts a connection.
        // Ready when it accepts a connection and is still running (one that
        // could not bind exits, and the connection went to someone else).
        // Python starts slowly while the other tests load both cores: up to 30 s.
        for _ in 0..<600 {
            if !process.isRunning { break }
            if Self.accepts(port: port) {
                usleep(50_000)
                if process.isRunning { return }
                break
            }
            usleep(50_000)
        }
        kill(process.processIdentifier, SIGKILL)
        throw Unavailable(description: "aiosmtpd did not start on port \(port)")
    }

    /// Ports handed out in this process: two relays of parallel tests never share one
    /// (they did with a random pick, and one test's letter landed in the other's mailbox).
    nonisolated(unsafe) private static var handedOut: Set<Int> = []
    private static let lock = NSLock()

    /// A port the kernel says is free now (bound to port 0, then released), never one handed out before.
    static func freePort() throws -> Int {
        for _ in 0..<50 {
            guard let (fd, port) = Self.loopbackSocket() else { continue }
            close(fd)
            let fresh = lock.withLock { handedOut.insert(port).inserted }
            if fresh { return port }
        }
        throw Unavailable(description: "no free port for the test relay")
    }

    /// A TCP socket bound to 127.0.0.1 on a port the kernel picks, and that port; the caller closes it.
    public static func loopbackSocket() -> (fd: Int32, port: Int)? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        guard withUnsafePointer(to: &address, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }) == 0 else {
            close(fd)
            return nil
        }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    public var relay: SMTPRelay { SMTPRelay(url: "smtp://127.0.0.1:\(port)")! }

    /// The messages received so far, as text.
    public func messages() -> [String] {
        let dir = maildir + "/new"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        return names.compactMap { try? String(contentsOfFile: dir + "/" + $0, encoding: .utf8) }
    }

    /// SIGKILL and no waitUntilExit: aiosmtpd ignores SIGTERM, and Foundation's wait was seen to hang here.
    public func stop() {
        kill(process.processIdentifier, SIGKILL)
        try? FileManager.default.removeItem(atPath: maildir)
    }
}

/// Runs a tool as a user would and returns its standard output; `{file}` in
/// the arguments is replaced by a temporary file holding `input`.
public func runTool(_ executable: String, _ arguments: [String], input: Data? = nil) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("barrier-\(UUID().uuidString)").path
    if let input { try input.write(to: URL(fileURLWithPath: path)) }
    defer { try? FileManager.default.removeItem(atPath: path) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments.map { $0 == "{file}" ? path : $0 }
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: output, as: UTF8.self)
}
