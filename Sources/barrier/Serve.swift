import ArgumentParser
import BarrierCore
import BarrierServer
import BarrierStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

struct Serve: BarrierCommand {
    static let configuration = CommandConfiguration(
        abstract: "Migrate and serve the API (PORT, default 8080); runs the embedded PostgreSQL when DATABASE_URL is unset.")

    @Option(help: "Port to listen on (overrides PORT).") var port: Int?
    @Flag(help: "When no agency exists, create the first agency and administrator and print their login and API token once.")
    var bootstrap = false
    @Flag(help: "When the registry is empty, load the demo suppliers from seed/demo-facilitators.csv.")
    var demo = false

    func execute() async throws {
        var config = try AppConfiguration.fromEnvironment()
        if let port {
            guard (1...65535).contains(port) else { throw CLIFailure(description: "--port must be from 1 to 65535") }
            config.port = port
        }
        let resolved = try resolveDatabase(config)
        if resolved.embedded, let socket = resolved.owner.socketDirectory { say("embedded PostgreSQL: \(socket)") }
        defer {
            if let startedCluster = resolved.startedCluster {
                try? startedCluster.stop()
                say("embedded PostgreSQL stopped")
            }
        }
        var logger = Logger(label: "barrier")
        logger.logLevel = Logger.Level(rawValue: config.logLevel) ?? .info

        // Migrations, the shipped templates, the first agency and the demo
        // registry are the owner's work; the server itself runs as the app role.
        let setup = try Database(url: resolved.owner, maximumConnections: 2, logger: logger)
        let (bootstrap, demo, port, embedded) = (self.bootstrap, self.demo, config.port, resolved.embedded)
        try await setup.withRunning { db in
            let applied = try await Migrator().migrate(db)
            if !applied.isEmpty { say("migrated: \(applied.joined(separator: ", "))") }
            if embedded { try await AppRole.ensureEmbeddedLogin(db) }
            let added = try await LetterStore.shipped(db, pdfWorkers: 1).syncShippedTemplates()
            if added > 0 { say("stored \(added) new letter template version(s) from templates/letters") }
            let profiles = try await ProcedureProfileStore(db).syncShipped()
            if profiles > 0 { say("stored \(profiles) shipped procedure profile(s) from templates/procedure-profiles") }
            if bootstrap { try await firstRun(db, port: port) }
            if demo { try await loadDemo(db, onlyIfEmpty: true) }
        }

        let db = try Database(url: resolved.app, maximumConnections: config.maxConnections, logger: logger)
        try await Database(url: resolved.app, maximumConnections: 1, logger: logger).withRunning { probe in
            if let reason = try await AppRole.bypassReason(probe) {
                printError("warning: \(reason), so row-level security does not keep the agencies apart below the application; "
                           + "connect DATABASE_URL as a member of barrier_app and set DATABASE_OWNER_URL for migrations (see the README)")
            }
        }
        // Reports may read a replica; it is not migrated here (the primary's migrations reach it by replication).
        let readDB = try config.databaseReadURL.map { try Database(url: DatabaseURL($0), maximumConnections: config.maxConnections, logger: logger) }
        if readDB != nil { say("reports read the replica at DATABASE_READ_URL") }
        let letters = try LetterStore.shipped(db, pdfWorkers: config.pdfWorkers)
        // The audit chain's signing key stays outside the database (made on first start).
        let keyPath = AuditSigningKey.defaultPath()
        let keyExisted = FileManager.default.fileExists(atPath: keyPath)
        config.auditSigningKey = try AuditSigningKey.load(path: keyPath, create: true)
        if !keyExisted {
            say("created the audit signing key \(keyPath) (public key \(config.auditSigningKey!.publicKey.base64)); keep a copy apart from the database's backups")
        }
        let app = buildApplication(configuration: config, database: db, readDatabase: readDB, letters: letters, logger: logger)
        say("Barrier Registry serving on http://localhost:\(config.port)/ (API under /api/v1, description at /openapi.yaml); Ctrl-C stops it")
        // SIGTERM or Ctrl-C: stop accepting, finish the requests in flight and the current
        // step of background work, then exit; what is still running after SHUTDOWN_GRACE_SECONDS is cancelled.
        var group = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(config.shutdownGraceSeconds)
        let watchdog = ShutdownWatchdog(graceSeconds: config.shutdownGraceSeconds)
        try await ServiceGroup(configuration: group).run()
        watchdog.cancel()
        say("stopped")
    }

    /// Creates the first agency and administrator when there is none.
    private func firstRun(_ db: Database, port: Int) async throws {
        let access = AccessStore(db)
        guard try await access.isEmpty() else { return }
        let env = ProcessInfo.processInfo.environment
        let agencyName = env["BARRIER_AGENCY_NAME"] ?? "National Barrier Authority"
        let email = env["BARRIER_ADMIN_EMAIL"] ?? "admin@barrier.example"
        let actor = Actor(userID: nil, agencyID: nil, label: "system:first-run")
        let agency = try await access.createAgency(name: agencyName, country: env["BARRIER_AGENCY_COUNTRY"] ?? "NL", actor: actor)
        let user = try await access.createUser(agency: agency.uuidString, email: email, fullName: "Registry Administrator",
                                               role: "admin", password: nil, actor: actor)
        // The first token expires: it is meant for trying the API, not for an integration.
        let expires = Date().addingTimeInterval(30 * 86_400)
        let token = try await access.createToken(email: email, name: "first-run", expiresAt: expires, actor: actor)
        let day = ISO8601DateFormatter.string(from: expires, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        let secrets = """
            login:     \(email)
            password:  \(user.generatedPassword ?? "(as given)")
            API token: \(token)  (works until \(day))
            Change the password after signing in at http://localhost:\(port)/account; issue tokens for real use
            at http://localhost:\(port)/admin/users (or `barrier user token`) and revoke this one there.
            Try: curl -H "Authorization: Bearer \(token)" http://localhost:\(port)/api/v1/facilitators
            """
        if isatty(STDOUT_FILENO) == 1 {
            say("\nFirst run: created agency \"\(agencyName)\" and its administrator.\n\(secrets.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))\nThese are shown once; keep them safe.\n")
            return
        }
        // Output that is not a terminal ends up in a log: the secrets go to a file only this user can read.
        let path = env["BARRIER_FIRST_RUN_FILE"] ?? FileManager.default.currentDirectoryPath + "/.barrier/first-run.txt"
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: Data((secrets + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CLIFailure(description: "cannot write the first run's login to \(path); set BARRIER_FIRST_RUN_FILE to a writable path")
        }
        say("First run: created agency \"\(agencyName)\" and its administrator \(email). The output is not a terminal, so the password "
            + "and an API token (valid until \(day)) are in \(path), readable by this user only: read it, then delete it.")
    }
}

/// Ends the process when a graceful stop does not finish: a request can wait for good on a
/// statement that postgres-nio 1.33.2 wrote to a connection PostgreSQL had just closed
/// (the statement's promise is dropped), and an await that never returns cannot be cancelled.
/// Such a request wrote nothing (its transaction died with the connection).
final class ShutdownWatchdog {
    private let sources: [any DispatchSourceSignal]

    init(graceSeconds: Int) {
        sources = [SIGTERM, SIGINT].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(graceSeconds + 5)) {
                    printError("barrier: requests still running \(graceSeconds + 5) s after the stop signal (their statements were lost "
                               + "with the database connection; nothing of them was written); exiting")
                    exit(1)
                }
            }
            source.resume()
            return source
        }
    }

    func cancel() { sources.forEach { $0.cancel() } }
}

/// Loads the demo registry (about 60 suppliers across every sector).
func loadDemo(_ db: Database, onlyIfEmpty: Bool) async throws {
    let anyRows = try await db.query("SELECT EXISTS (SELECT 1 FROM facilitators)")
    var exists = false
    for try await e in anyRows.decode(Bool.self) { exists = e }
    if exists {
        if onlyIfEmpty { return }
        throw CLIFailure(description: "the registry already has suppliers; demo data is only loaded into an empty registry")
    }
    let dir = try ProjectFiles.directory("seed", containing: "demo-facilitators.csv")
    let result = try await FacilitatorTransfer(db).importCSV(file: dir + "/demo-facilitators.csv", actor: Actor(userID: nil, agencyID: nil, label: "system:demo-seed"))
    say("loaded \(result.created) demo suppliers")
}

struct Seed: BarrierCommand {
    static let configuration = CommandConfiguration(abstract: "Load demo data into an empty registry.")

    @Flag(help: "Load the demo suppliers (seed/demo-facilitators.csv).") var demo = false

    func execute() async throws {
        guard demo else { throw CLIFailure(description: "say what to seed: --demo") }
        try await withDatabase { db in
            try await Migrator().migrate(db)
            try await loadDemo(db, onlyIfEmpty: false)
        }
    }
}
