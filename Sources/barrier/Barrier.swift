import ArgumentParser
import BarrierCore
import BarrierServer
import BarrierStore
import Foundation
import PostgresNIO
import Logging

@main
struct Barrier: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "barrier",
        abstract: "Barrier Registry: suppliers the darknet trade leans on, outreach to them, cooperation and licensing.",
        subcommands: [
            Serve.self, Migrate.self, DB.self, AgencyCommand.self, UserCommand.self, FacilitatorCommand.self,
            ImportCommand.self, ExportCommand.self, AuditCommand.self, BackupCommand.self, RestoreCommand.self, Seed.self, LetterCommand.self, CampaignCommand.self, CooperationCommand.self, SignalCommand.self, LicensingCommand.self, ReportCommand.self, PlanCommand.self, BenchLetters.self, BenchReports.self, BenchSearchSQL.self, ProbeQueries.self,
        ])
}

/// A word of one of the closed lists, read from an option; one line naming the list when it is not one.
func vocabulary<T: NamedVocabulary>(_ raw: String, option: String) throws -> T {
    guard let value = T(rawValue: raw) else { throw CLIFailure(description: "--\(option): \(T.notOne(raw))") }
    return value
}

/// The same for an option that may be left out.
func vocabulary<T: NamedVocabulary>(_ raw: String?, option: String) throws -> T? {
    try raw.map { try vocabulary($0, option: option) as T }
}

/// The one line a command prints on stderr when it refuses bad input.
struct CLIFailure: Error, CustomStringConvertible {
    var description: String
}

/// The database a command works on: DATABASE_URL, or the embedded cluster,
/// started if it is not running. `startedCluster` is set when this call started
/// it, so the caller stops it again when done.
/// `owner` owns the tables (migrations, the operator's commands); `app` is the
/// role row-level security binds (the server, and commands run with BARRIER_TOKEN).
struct ResolvedDatabase {
    var owner: DatabaseURL
    var app: DatabaseURL
    var startedCluster: LocalCluster?
    /// The embedded cluster, whose server login the program creates itself.
    var embedded: Bool
}

func resolveDatabase(_ config: AppConfiguration) throws -> ResolvedDatabase {
    if let text = config.databaseURL {
        let app = try DatabaseURL(text)
        return ResolvedDatabase(owner: try config.databaseOwnerURL.map(DatabaseURL.init) ?? app, app: app, startedCluster: nil, embedded: false)
    }
    let local = try LocalCluster()
    if let note = local.relocationNote { printError(note) }
    let started = try local.start()
    let owner = try DatabaseURL(local.url)
    return ResolvedDatabase(owner: owner, app: owner.with(user: AppRole.embeddedLogin), startedCluster: started ? local : nil, embedded: true)
}

/// The user a command acts for, from BARRIER_TOKEN (set by `withDatabase`).
enum CLIUser {
    @TaskLocal static var current: Identity?
}

/// Runs `body` against the configured database: DATABASE_URL, or the embedded
/// cluster (started for the command and stopped after it unless it already ran).
///
/// With BARRIER_TOKEN set the command acts as that token's user: it connects as
/// the server's role, which row-level security binds, and runs as the user's
/// agency. Without it, it acts as the operator (`cli:<unix user>`) on the
/// owner's connection: migrations, agencies and users, reading; a command that
/// changes casework refuses (`caseworkActor`).
func withDatabase<T: Sendable>(maximumConnections: Int = 4, migrate: Bool = false,
                               _ body: @Sendable (Database) async throws -> T) async throws -> T {
    do {
        let resolved = try resolveDatabase(try AppConfiguration.fromEnvironment())
        defer { try? resolved.startedCluster?.stop() }
        var logger = Logger(label: "barrier.cli")
        logger.logLevel = .error  // the terminal gets one line per problem, not the pool's chatter
        let token = ProcessInfo.processInfo.environment["BARRIER_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if migrate || (token != nil && resolved.embedded) {
            try await Database(url: resolved.owner, maximumConnections: 1, logger: logger).withRunning { owner in
                if migrate {
                    try await Migrator().migrate(owner)
                    // The shipped templates are every agency's: stored by the owner.
                    let letters = try LetterStore.shipped(owner, pdfWorkers: 1)
                    try await letters.syncShippedTemplates()
                    await letters.pdfs.shutdown()
                    try await ProcedureProfileStore(owner).syncShipped()
                }
                if resolved.embedded { try await AppRole.ensureEmbeddedLogin(owner) }
            }
        }
        guard let token else {
            return try await Database(url: resolved.owner, maximumConnections: maximumConnections, logger: logger).withRunning(body)
        }
        return try await Database(url: resolved.app, maximumConnections: maximumConnections, logger: logger).withRunning { db in
            guard let identity = try await AccessStore(db).identity(forToken: token) else {
                throw CLIFailure(description: "BARRIER_TOKEN is unknown, revoked or expired")
            }
            return try await CLIUser.$current.withValue(identity) {
                try await AgencyScope.with(identity.agencyID) { try await body(db) }
            }
        }
    } catch {
        throw CLIFailure(description: describe(error))
    }
}

/// `withDatabase` on a schema brought up to date first.
func withMigratedDatabase<T: Sendable>(_ body: @Sendable (Database) async throws -> T) async throws -> T {
    try await withDatabase(migrate: true, body)
}

/// A sentence for the terminal; field errors joined into one line.
func describe(_ error: any Error) -> String {
    switch error {
    case let failure as CLIFailure: return failure.description
    case let store as StoreError:
        switch store {
        case .notFound(let entity, let id): return "no \(entity) '\(id)'"
        case .versionConflict(let current): return "the record changed meanwhile (now version \(current))"
        case .invalid(let errors):
            return errors.map { ($0.line.map { "line \($0): " } ?? "") + "\($0.field) \($0.message)" }.joined(separator: "; ")
        case .duplicates(let candidates, let overridable):
            let list = candidates.prefix(5).map { "\($0.legalName) (\($0.id), \($0.matchedField), score \($0.score))" }.joined(separator: ", ")
            return "possible duplicate of \(list)" + (overridable ? "; repeat with --create-anyway to register it all the same" : "; an equal registration number in the same country is never registered twice")
        case .conflict(let message), .cluster(let message), .migration(let message), .forbidden(let message): return message
        case .refused(_, let detail, let errors):
            return detail + " " + errors.map { "\($0.field): \($0.message)" }.joined(separator: " ")
        case .transition(let entity, let from, let to, let allowed):
            return StoreError.transitionRefusal(entity: entity, from: from, to: to, allowed: allowed)
        }
    case let invalid as AppConfiguration.Invalid: return invalid.description
    case let psql as PSQLError:
        return "the database refused: " + (psql.serverInfo?[.message] ?? String(reflecting: psql).prefix(300).description)
    default: return String(describing: error)
    }
}

/// Who a command acts as: BARRIER_TOKEN's user, or the operator.
func cliActor() -> Actor {
    if let user = CLIUser.current { return user.actor(requestID: nil) }
    return Actor(userID: nil, agencyID: nil, label: "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? "\(getuid())"))
}

/// The actor of a command that changes an agency's casework: only a user, by
/// their token, with a role that may write. The operator reads, and cannot be
/// anybody's second pair of eyes.
func caseworkActor() throws -> Actor {
    guard let user = CLIUser.current else {
        throw CLIFailure(description: "this command changes an agency's casework, so it acts for a user: set BARRIER_TOKEN to that user's API token (barrier user token --email …)")
    }
    guard user.role.canWrite else { throw CLIFailure(description: "BARRIER_TOKEN belongs to \(user.email), an auditor, who may not change records") }
    return user.actor(requestID: nil)
}

/// Writes a line to stdout at once (print is block-buffered into a pipe or a
/// file, and the first-run login must show before the server runs).
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("barrier: \(message)\n".utf8))
}

/// Every command's body goes through this so a refusal is one line and exit 1.
protocol BarrierCommand: AsyncParsableCommand {
    func execute() async throws
}

extension BarrierCommand {
    func run() async throws {
        do {
            try await execute()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError(describe(error))
            throw ExitCode.failure
        }
    }
}

struct Migrate: BarrierCommand {
    static let configuration = CommandConfiguration(abstract: "Apply the SQL migrations in sql/ that are not applied yet.")

    func execute() async throws {
        let applied = try await withDatabase { db in try await Migrator().migrate(db) }
        say(applied.isEmpty ? "schema is up to date" : "applied \(applied.joined(separator: ", "))")
    }
}

struct DB: BarrierCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Start, stop or locate the embedded PostgreSQL cluster (./.barrier/postgres).")

    @Argument(help: "start | stop | url") var action: String

    func execute() async throws {
        let cluster: LocalCluster
        do { cluster = try LocalCluster() } catch { throw CLIFailure(description: describe(error)) }
        if let note = cluster.relocationNote { printError(note) }
        switch action {
        case "start":
            do { try cluster.start() } catch { throw CLIFailure(description: describe(error)) }
            say(cluster.url)
        case "stop":
            try cluster.stop()
        case "url":
            say(cluster.url)
        default:
            throw CLIFailure(description: "unknown action '\(action)'; use start, stop or url")
        }
    }
}
