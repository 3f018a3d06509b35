import Crypto
import Foundation

/// The embedded PostgreSQL: a cluster in `./.barrier/postgres` that the program
/// initialises on first use and reaches through a Unix socket only, so the
/// first run needs no database server set up by hand. PostgreSQL refuses to
/// run as root, so as root the server runs as the `postgres` system user.
public struct LocalCluster: Sendable {
    /// The data folder; the socket lives here too.
    public let directory: String
    /// Set when the checkout folder is out of the `postgres` user's reach and the
    /// cluster lives elsewhere; a sentence saying where.
    public let relocationNote: String?
    let binaries: String
    let runAsPostgres: Bool
    /// Durability off, for the throwaway test cluster only.
    let fast: Bool

    public static let superuser = "barrier"
    public static let databaseName = "barrier"

    /// Locates the cluster for the checkout at `root` (the current folder by default).
    public init(root: String = FileManager.default.currentDirectoryPath) throws {
        self.binaries = try Self.findBinaries()
        self.runAsPostgres = geteuid() == 0
        // BARRIER_CLUSTER names another cluster folder under .barrier (scripts/test uses its own).
        let name = ProcessInfo.processInfo.environment["BARRIER_CLUSTER"].flatMap { $0.isEmpty ? nil : $0 } ?? "postgres"
        self.fast = name != "postgres" && ProcessInfo.processInfo.environment["BARRIER_CLUSTER_FAST"] == "1"
        let preferred = URL(fileURLWithPath: root).appendingPathComponent(".barrier/\(name)").standardizedFileURL.path
        if Self.isUsable(preferred, asPostgres: runAsPostgres) {
            self.directory = preferred
            self.relocationNote = nil
        } else {
            let digest = SHA256.hash(data: Data(preferred.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
            self.directory = "/tmp/barrier-\(digest)/\(name)"
            self.relocationNote = "the postgres user cannot reach \(preferred); the embedded cluster lives in \(self.directory)"
        }
    }

    /// The URL of the registry database, understood by psql and by this program.
    public var url: String { Self.url(database: Self.databaseName, socketDirectory: directory) }

    public static func url(database: String, socketDirectory: String) -> String {
        "postgresql://\(superuser)@/\(database)?host=\(socketDirectory)"
    }

    /// Initialises the cluster if needed, starts it unless it runs, creates the
    /// registry database. Returns true when this call started the server.
    @discardableResult
    public func start() throws -> Bool {
        try prepareDirectory()
        if !FileManager.default.fileExists(atPath: directory + "/PG_VERSION") {
            try pg(["\(binaries)/initdb", "-D", directory, "-A", "trust", "-U", Self.superuser, "-E", "UTF8", "--locale=C.UTF-8"])
        }
        if isRunning() {
            try createDatabaseIfMissing()
            return false
        }
        clearStaleLock()
        // max_wal_size: a bulk import of a million suppliers wrote WAL fast enough
        // for a checkpoint every 10 s at the default 1 GB (PostgreSQL warned of it).
        var options = "-k \(directory) -c listen_addresses='' -c max_connections=200 -c shared_buffers=256MB -c max_wal_size=4GB"
        // The test cluster: every test has a database of its own with a fixed pool, all at once.
        if fast { options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=1000" }
        do {
            try pg(["\(binaries)/pg_ctl", "-D", directory, "-l", directory + "/server.log", "-w", "-t", "60", "-o", options, "start"])
        } catch {
            let log = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
            let tail = log.split(separator: "\n").suffix(3).joined(separator: " | ")
            throw StoreError.cluster("PostgreSQL did not start in \(directory): \(tail)")
        }
        try createDatabaseIfMissing()
        return true
    }

    private func createDatabaseIfMissing() throws {
        let exists = try Subprocess.run(
            ["\(binaries)/psql", "-h", directory, "-U", Self.superuser, "-d", "postgres", "-tAc",
             "SELECT 1 FROM pg_database WHERE datname = '\(Self.databaseName)'"])
        if exists.output.trimmingCharacters(in: .whitespacesAndNewlines) != "1" {
            try Subprocess.run(["\(binaries)/createdb", "-h", directory, "-U", Self.superuser, Self.databaseName])
        }
    }

    /// Stops the server cleanly (fast shutdown: running transactions roll back).
    public func stop() throws {
        guard isRunning() else { return }
        try pg(["\(binaries)/pg_ctl", "-D", directory, "-w", "-t", "60", "-m", "fast", "stop"])
    }

    /// Whether a live postmaster serves this folder.
    public func isRunning() -> Bool {
        guard let pid = postmasterPID() else { return false }
        guard kill(pid, 0) == 0 else { return false }
        // A pid reused by another program after a crash is not our server.
        let comm = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
        return comm.hasPrefix("postgres") || comm.hasPrefix("postmaster")
    }

    private func postmasterPID() -> pid_t? {
        guard let text = try? String(contentsOfFile: directory + "/postmaster.pid", encoding: .utf8),
              let first = text.split(separator: "\n").first, let pid = pid_t(first.trimmingCharacters(in: .whitespaces))
        else { return nil }
        return pid
    }

    /// After a crash the lock files stay behind; PostgreSQL would refuse to start
    /// if their pid now belongs to another process.
    private func clearStaleLock() {
        for name in ["postmaster.pid", ".s.PGSQL.5432.lock", ".s.PGSQL.5432"] {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }

    private func prepareDirectory() throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if runAsPostgres {
            try Subprocess.run(["/bin/chown", "postgres:postgres", directory])
            try Subprocess.run(["/bin/chmod", "700", directory])
        }
    }

    private func pg(_ arguments: [String]) throws {
        if runAsPostgres {
            try Subprocess.run(["/usr/sbin/runuser", "-u", "postgres", "--"] + arguments)
        } else {
            try Subprocess.run(arguments)
        }
    }

    /// Whether the data folder can live at `path`: the `postgres` user must be able
    /// to enter every parent, and the socket path must fit a sockaddr_un.
    private static func isUsable(_ path: String, asPostgres: Bool) -> Bool {
        guard (path + "/.s.PGSQL.5432").utf8.count < 100 else { return false }
        guard asPostgres else { return true }
        var parent = URL(fileURLWithPath: path).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: parent.path) { parent.deleteLastPathComponent() }
        let result = try? Subprocess.run(["/usr/sbin/runuser", "-u", "postgres", "--", "/usr/bin/test", "-x", parent.path], allowFailure: true)
        return result?.status == 0
    }

    static func findBinaries() throws -> String {
        let fm = FileManager.default
        if let bindir = ProcessInfo.processInfo.environment["BARRIER_PG_BINDIR"], fm.isExecutableFile(atPath: bindir + "/initdb") {
            return bindir
        }
        let versions = ((try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .compactMap(Int.init).sorted(by: >)
        for version in versions where fm.isExecutableFile(atPath: "/usr/lib/postgresql/\(version)/bin/initdb") {
            return "/usr/lib/postgresql/\(version)/bin"
        }
        throw StoreError.cluster(
            "PostgreSQL server programs (initdb, pg_ctl) not found: install them with `apt-get install postgresql-15 postgresql-contrib`, or set DATABASE_URL to a running server")
    }
}
