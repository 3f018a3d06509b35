import Foundation
import Logging
import PostgresNIO

/// The connection pool and the one way to run a write: a transaction.
/// `client.run()` must be running (the server runs it as a service; the CLI
/// and tests through `withRunning`).
public struct Database: Sendable {
    public let client: PostgresClient
    public let url: DatabaseURL
    public let logger: Logger

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
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
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

    /// Every write goes through here, so the change and its audit event commit together or not at all.
    public func transaction<T>(
        isolation: isolated (any _Concurrency.Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending T
    ) async throws -> sending T {
        do {
            return try await client.withTransaction(logger: logger, body)
        } catch let error as PostgresTransactionError {
            // The closure's own error (a StoreError, a constraint violation) is what callers act on.
            if let inner = error.closureError { throw inner }
            throw error
        }
    }

    /// Fails with a clear message instead of waiting forever when the server
    /// cannot be reached (the pool itself retries without end).
    public func waitUntilReachable(seconds: Int = 15) async throws {
        let reachable = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { await self.isReachable() }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return false
            }
            let first = try await group.next() ?? false
            group.cancelAll()
            return first
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

    /// Whether the database answers (for /readyz).
    public func isReachable() async -> Bool {
        do {
            let rows = try await client.query("SELECT 1", logger: logger)
            for try await _ in rows.decode(Int.self) {}
            return true
        } catch {
            return false
        }
    }
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
