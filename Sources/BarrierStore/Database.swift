import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The agency whose casework the current task may see and change. It is set in
/// one place per entry point (the server's authentication middleware, the CLI
/// when it acts with a user's token, background work per agency) and every
/// statement that `Database` runs carries it to PostgreSQL as the setting
/// `barrier.agency_id`, which the row-level security policies compare with
/// each row's `agency_id`. Nil: no agency, so an app-role connection sees no
/// casework at all (the operator's owner connection is not bound by it).
public enum AgencyScope {
    @TaskLocal public static var current: UUID?

    /// Runs `body` as `agency`.
    @discardableResult
    public static func with<T>(_ agency: UUID?, isolation: isolated (any _Concurrency.Actor)? = #isolation,
                               _ body: () async throws -> T) async throws -> T {
        try await $current.withValue(agency, operation: body, isolation: isolation)
    }
}

/// The connection pool and the one way to run a write: a transaction.
/// `client.run()` must be running (the server runs it as a service; the CLI
/// and tests through `withRunning`).
public struct Database: Sendable {
    /// The pool; `runRecovering()` replaces it with a fresh one when the database comes back after an outage.
    public var client: PostgresClient { pool.current }
    private let pool: Pool
    public let url: DatabaseURL
    public let logger: Logger
    /// The agency each pooled connection was last set to (session-level, so a
    /// connection that stays with one agency is not set again). Keyed by the
    /// pool's connection id, which is never reused.
    private let connectionAgencies = ConnectionAgencies()

    public init(url: DatabaseURL, maximumConnections: Int = 20, logger: Logger = Logger(label: "barrier.db")) throws {
        var configuration = try url.clientConfiguration()
        configuration.options.maximumConnections = maximumConnections
        // A fixed pool with no keep-alive pings. postgres-nio 1.33.2 starts a
        // keep-alive timer and an idle timer (tasks) at every release of a
        // connection that may idle out or needs pinging; under load these
        // piled up at about 1.5 KB per query (RSS 32 -> 300 MB over 180k
        // queries in `barrier probe-queries`) and cost a quarter of the
        // query path's CPU. With every connection kept and no pings there is
        // no timer: RSS stays at 33 MB. A connection the server closes is
        // noticed at once and replaced to keep the minimum.
        configuration.options.minimumConnections = maximumConnections
        configuration.options.keepAliveBehavior = nil
        self.pool = Pool(configuration: configuration, logger: logger)
        self.url = url
        self.logger = logger
    }

    /// Runs `body` with the pool running, then shuts the pool down.
    public func withRunning<T: Sendable>(_ body: @Sendable (Database) async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await self.client.run()
                return nil
            }
            do {
                try await self.waitUntilReachable()
                let value = try await body(self)
                group.cancelAll()
                return value
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    /// Every write goes through here, so the change and its audit event commit
    /// together or not at all; it runs as the task's agency (`AgencyScope`).
    public func transaction<T>(
        isolation: isolated (any _Concurrency.Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending T
    ) async throws -> sending T {
        let agency = AgencyScope.current ?? connectionAgencies.defaultAgency
        try pool.checkAvailable()
        do {
            return try await leased { conn in
                try await bind(conn, to: agency)
                return try await conn.withTransaction(logger: logger, body)
            }
        } catch let error as PostgresTransactionError {
            // The closure's own error (a StoreError, a constraint violation) is what callers act on.
            if let inner = error.closureError { throw inner }
            try pool.checkAvailable()
            throw error
        } catch {
            try pool.checkAvailable()
            throw error
        }
    }

    /// Runs one statement as the task's agency and returns its rows (read whole:
    /// every caller reads a page, a document or a count).
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> Rows {
        let agency = AgencyScope.current ?? connectionAgencies.defaultAgency
        try pool.checkAvailable()
        do {
            return try await leased { conn in
                try await bind(conn, to: agency)
                var rows: [PostgresRow] = []
                for try await row in try await conn.query(query, logger: logger) { rows.append(row) }
                return Rows(rows: rows)
            }
        } catch {
            try pool.checkAvailable()
            throw error
        }
    }

    /// Leases a connection set to the task's agency, for work that streams or
    /// runs several statements outside a transaction.
    public func withConnection<T>(
        isolation: isolated (any _Concurrency.Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending T
    ) async throws -> sending T {
        let agency = AgencyScope.current ?? connectionAgencies.defaultAgency
        try pool.checkAvailable()
        do {
            return try await leased { conn in
                try await bind(conn, to: agency)
                return try await body(conn)
            }
        } catch {
            try pool.checkAvailable()
            throw error
        }
    }

    /// The agency this pool acts for when a task sets none: for a tool that works
    /// for one agency on an owner's connection (the tests' fixtures). The server
    /// never sets it; its callers' agency always comes from `AgencyScope`.
    public func actFor(defaultAgency agency: UUID?) {
        connectionAgencies.defaultAgency = agency
    }

    public var defaultAgency: UUID? { connectionAgencies.defaultAgency }

    /// Runs `body` once per agency, as that agency, oldest agency first: background
    /// work (sweeps, e-mail, campaign jobs) sees one agency's casework at a time
    /// and writes as that agency, whichever role the pool logs in as.
    /// A task that already acts for one agency (a user's request) runs it for that agency alone.
    public func forEachAgency(_ body: (UUID) async throws -> Void) async throws {
        if let current = AgencyScope.current {
            try await body(current)
            return
        }
        var ids: [UUID] = []
        for try await id in try await query("SELECT id FROM agencies ORDER BY created_at, id").decode(UUID.self) { ids.append(id) }
        for id in ids { try await AgencyScope.with(id) { try await body(id) } }
    }

    /// Sets `barrier.agency_id` on the connection for its session unless it is
    /// already so. Session-level, set outside any transaction, so a rollback
    /// cannot undo it behind the cache's back.
    private func bind(_ conn: PostgresConnection, to agency: UUID?) async throws {
        let value = agency?.uuidString.lowercased() ?? ""
        if connectionAgencies.value(for: conn.id) == value { return }
        try await conn.query("SELECT set_config('barrier.agency_id', \(value), false)", logger: logger)
        connectionAgencies.set(value, for: conn.id)
    }

    /// Fails with a clear message instead of waiting forever when the server
    /// cannot be reached (the pool itself retries without end).
    public func waitUntilReachable(seconds: Int = 15) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        var reachable = false
        while !reachable, ContinuousClock.now < deadline, !Task.isCancelled {
            let left = ContinuousClock.now.duration(to: deadline)
            reachable = await isReachable(seconds: Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18)
            if !reachable { try? await Task.sleep(for: .milliseconds(100)) }
        }
        if !reachable {
            throw StoreError.cluster("cannot connect to the database \(url.database) at \(url.socketDirectory ?? url.host ?? "?") within \(seconds) s; check DATABASE_URL and that the server runs")
        }
    }

    /// Connections the database server has open for this database and user (all
    /// instances together), for the pool gauge on /metrics.
    public func openConnections() async throws -> Int {
        let rows = try await client.query(
            "SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND usename = current_user",
            logger: logger)
        for try await n in rows.decode(Int.self) { return n }
        return 0
    }

    /// Runs `work` with a connection of the pool. The lease is taken in a child task
    /// that hands the connection over and holds it until `work` is done, so that an
    /// outage can end the wait for a connection (which postgres-nio can leave
    /// pending) and close a connection whose query would otherwise never return.
    private func leased<T>(
        isolation: isolated (any _Concurrency.Actor)? = #isolation,
        _ work: (PostgresConnection) async throws -> sending T
    ) async throws -> sending T {
        let lease = Lease()
        let id = pool.track(lease)
        defer { pool.untrack(id) }
        let client = self.client
        let holder = Task {
            do {
                try await client.withConnection { conn in await lease.hold(conn) }
            } catch {
                lease.fail(error)
            }
        }
        defer { lease.release() }
        let conn: PostgresConnection
        do {
            conn = try await withTaskCancellationHandler {
                try await lease.connection()
            } onCancel: {
                holder.cancel()
            }
        } catch {
            holder.cancel()
            throw error
        }
        return try await work(conn)
    }

    /// Whether the database answers (for /readyz): at once false while an outage
    /// is known, else a `SELECT 1` through the pool within `seconds`.
    public func isReachable(seconds: Double = 2) async -> Bool {
        if pool.isDown { return false }
        let client = self.client
        return await selectOneAnswers(within: .milliseconds(Int(seconds * 1000)), logger: logger) { try await client.query($0, logger: $1) }
    }

    /// Runs the pool until cancelled, watching the database through a probe
    /// connection of its own. When the database goes away, requests fail at once
    /// with `DatabaseUnavailable` (503) instead of waiting on the pool (whose
    /// retries back off to a minute), and the pool is shut down, which fails the
    /// requests already waiting for a connection. When the probe connects again,
    /// a fresh pool (no backoff, its agency bindings forgotten) takes over.
    /// The server runs this as a service; the CLI and tests use `withRunning`.
    public func runRecovering(probeEvery: Duration = .milliseconds(250)) async {
        let probe = Probe(configuration: try? url.connectionConfiguration(connectTimeout: .seconds(1)), logger: logger)
        while !Task.isCancelled {
            let client = pool.current
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                group.addTask { await probe.wait(forReachable: false, every: probeEvery) }
                _ = await group.next()
                pool.setDown(true)
                // postgres-nio was seen to leave a query on a connection the database closed, and a
                // lease, waiting for good: every piece of work in flight is stopped here.
                pool.abortWorkInFlight()
                group.cancelAll()
            }
            if Task.isCancelled { break }
            logger.error("the database is unreachable: requests answer 503 until it returns")
            await probe.wait(forReachable: true, every: probeEvery)
            if Task.isCancelled { break }
            pool.replace()
            connectionAgencies.forgetConnections()
            pool.setDown(false)
            logger.notice("the database is reachable again: a fresh pool serves requests")
        }
        await probe.close()
    }
}

/// Whether `SELECT 1`, run by `query` (the pool's or one connection's), answers within `limit`.
private func selectOneAnswers(within limit: Duration, logger: Logger,
                              _ query: @escaping @Sendable (PostgresQuery, Logger) async throws -> PostgresRowSequence) async -> Bool {
    await withTaskGroup(of: Bool.self) { group in
        group.addTask {
            do {
                for try await _ in try await query("SELECT 1", logger).decode(Int.self) {}
                return true
            } catch {
                return false
            }
        }
        group.addTask {
            try? await Task.sleep(for: limit)
            return false
        }
        let first = await group.next() ?? false
        group.cancelAll()
        return first
    }
}

/// The database cannot be reached now; the server answers 503 at once.
public struct DatabaseUnavailable: Error, CustomStringConvertible {
    public var description: String { "the database is not reachable" }
}

/// The current pool, whether the database is known to be down, and the work in flight on it.
private final class Pool: Sendable {
    private let state: Mutex<(client: PostgresClient, down: Bool)>
    /// The leases in use or awaited now: ended when the database goes away.
    private let leases = Mutex<(next: UInt64, all: [UInt64: Lease])>((0, [:]))

    func track(_ lease: Lease) -> UInt64 {
        leases.withLock { state in
            state.next &+= 1
            state.all[state.next] = lease
            return state.next
        }
    }

    func untrack(_ id: UInt64) {
        _ = leases.withLock { $0.all.removeValue(forKey: id) }
    }

    /// Fails every wait for a connection and closes every leased connection.
    func abortWorkInFlight() {
        for lease in leases.withLock({ Array($0.all.values) }) { lease.abort() }
    }

    private let configuration: PostgresClient.Configuration
    private let logger: Logger

    init(configuration: PostgresClient.Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        state = Mutex((PostgresClient(configuration: configuration, backgroundLogger: logger), false))
    }

    var current: PostgresClient { state.withLock { $0.client } }
    var isDown: Bool { state.withLock { $0.down } }
    func setDown(_ down: Bool) { state.withLock { $0.down = down } }
    func checkAvailable() throws { if isDown { throw DatabaseUnavailable() } }

    func replace() {
        let fresh = PostgresClient(configuration: configuration, backgroundLogger: logger)
        state.withLock { $0.client = fresh }
    }
}

/// The hand-over of one leased connection from the task that holds the lease to the
/// task that uses it; `abort` ends either side at once.
final class Lease: Sendable {
    private enum State {
        case waiting(CheckedContinuation<PostgresConnection, any Error>?)
        case delivered(PostgresConnection)
        case failed(any Error)
        case released
    }
    private let state = Mutex<(state: State, holder: CheckedContinuation<Void, Never>?)>((.waiting(nil), nil))

    /// The user's side: the connection, or the reason there is none.
    func connection() async throws -> PostgresConnection {
        try await withCheckedThrowingContinuation { continuation in
            let resume: Result<PostgresConnection, any Error>? = state.withLock { s in
                switch s.state {
                case .waiting: s.state = .waiting(continuation); return nil
                case .delivered(let conn): return .success(conn)
                case .failed(let error): return .failure(error)
                case .released: return .failure(DatabaseUnavailable())
                }
            }
            if let resume { continuation.resume(with: resume) }
        }
    }

    /// The holder's side: hands `conn` over and keeps the lease until `release`.
    func hold(_ conn: PostgresConnection) async {
        await withCheckedContinuation { (holder: CheckedContinuation<Void, Never>) in
            let (user, done): (CheckedContinuation<PostgresConnection, any Error>?, Bool) = state.withLock { s in
                switch s.state {
                case .waiting(let user):
                    s.state = .delivered(conn)
                    s.holder = holder
                    return (user, false)
                case .delivered, .failed, .released:
                    return (nil, true)
                }
            }
            user?.resume(returning: conn)
            if done { holder.resume() }
        }
    }

    func fail(_ error: any Error) {
        let user: CheckedContinuation<PostgresConnection, any Error>? = state.withLock { s in
            guard case .waiting(let user) = s.state else { return nil }
            s.state = .failed(error)
            return user
        }
        user?.resume(throwing: error)
    }

    /// The user is done: the holder gives the connection back.
    func release() {
        let holder: CheckedContinuation<Void, Never>? = state.withLock { s in
            let holder = s.holder
            s.holder = nil
            if case .waiting(let user) = s.state, let user {
                s.state = .released
                user.resume(throwing: CancellationError())
            } else {
                s.state = .released
            }
            return holder
        }
        holder?.resume()
    }

    /// The database went away: a waiting user fails now; a leased connection is closed,
    /// which fails the query running on it.
    func abort() {
        let (user, conn): (CheckedContinuation<PostgresConnection, any Error>?, PostgresConnection?) = state.withLock { s in
            switch s.state {
            case .waiting(let user):
                s.state = .failed(DatabaseUnavailable())
                return (user, nil)
            case .delivered(let conn):
                return (nil, conn)
            case .failed, .released:
                return (nil, nil)
            }
        }
        user?.resume(throwing: DatabaseUnavailable())
        conn?.close().whenComplete { _ in }
    }
}

/// One connection outside the pool that asks `SELECT 1`: a refused or closed
/// connection is an outage at once; a statement unanswered for `patience` too.
private actor Probe {
    let configuration: PostgresConnection.Configuration?
    let logger: Logger
    var connection: PostgresConnection?
    var nextID = 1
    let patience: Duration = .seconds(3)

    init(configuration: PostgresConnection.Configuration?, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Returns once the database's reachability is `reachable` (or when cancelled).
    func wait(forReachable reachable: Bool, every interval: Duration) async {
        while !Task.isCancelled {
            if await answers() == reachable { return }
            try? await Task.sleep(for: interval)
        }
    }

    private func answers() async -> Bool {
        guard let configuration else { return true }
        do {
            if connection == nil || connection!.isClosed {
                nextID += 1
                connection = try await PostgresConnection.connect(configuration: configuration, id: nextID, logger: logger)
            }
            let conn = connection!
            let (patience, logger) = (self.patience, self.logger)
            let answered = await selectOneAnswers(within: patience, logger: logger) { try await conn.query($0, logger: $1) }
            if !answered { await close() }
            return answered
        } catch {
            await close()
            return false
        }
    }

    func close() async {
        try? await connection?.close()
        connection = nil
    }
}

/// The rows of one statement, read whole; `decode` works as on a row sequence.
public struct Rows: AsyncSequence, Sendable {
    public typealias Element = PostgresRow
    public let rows: [PostgresRow]

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: IndexingIterator<[PostgresRow]>
        public mutating func next() async -> PostgresRow? { base.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: rows.makeIterator()) }

    init(rows: [PostgresRow]) { self.rows = rows }

    /// Reads a statement's rows whole.
    public init(_ sequence: PostgresRowSequence) async throws {
        var rows: [PostgresRow] = []
        for try await row in sequence { rows.append(row) }
        self.rows = rows
    }
}

final class ConnectionAgencies: Sendable {
    private let values = Mutex<[PostgresConnection.ID: String]>([:])
    private let fallback = Mutex<UUID?>(nil)
    var defaultAgency: UUID? {
        get { fallback.withLock { $0 } }
        set { fallback.withLock { $0 = newValue } }
    }
    func value(for id: PostgresConnection.ID) -> String? { values.withLock { $0[id] } }
    func set(_ value: String, for id: PostgresConnection.ID) { values.withLock { $0[id] = value } }
    /// A fresh pool numbers its connections from the start again.
    func forgetConnections() { values.withLock { $0.removeAll() } }
}

/// Finds the project's files (sql/, templates/, seed/) from the working folder or
/// from the executable's location, so the program runs from anywhere in a checkout.
public enum ProjectFiles {
    public static func directory(_ name: String, containing marker: String) throws -> String {
        if let env = ProcessInfo.processInfo.environment["BARRIER_HOME"] {
            let path = env + "/" + name
            if FileManager.default.fileExists(atPath: path + "/" + marker) { return path }
        }
        var starts = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            starts.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        for start in starts {
            var dir = start
            for _ in 0..<8 {
                let candidate = dir.appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent(marker).path) {
                    return candidate.path
                }
                dir.deleteLastPathComponent()
            }
        }
        throw StoreError.migration("cannot find the \(name)/ folder of the project; run from the checkout or set BARRIER_HOME")
    }
}
