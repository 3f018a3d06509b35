import BarrierCore
import BarrierStore
import Configuration
import Foundation

/// Everything the server reads from its environment, checked at start: a bad
/// or missing value stops start-up with every problem listed in one message.
public struct AppConfiguration: Sendable {
    public var host: String = "0.0.0.0"
    public var port: Int = 8080
    /// Nil: run the embedded cluster in ./.barrier/postgres.
    public var databaseURL: String?
    /// Reports may read from a replica; unset means the primary.
    public var databaseReadURL: String?
    /// The tables' owner, for migrations and the operator's commands; unset:
    /// DATABASE_URL's role (which then owns the tables, and the server warns
    /// that row-level security does not bind it).
    public var databaseOwnerURL: String?
    public var maxConnections: Int = 20
    /// Largest JSON request body, in bytes.
    public var maxJSONBytes: Int = 1 << 20
    /// Largest CSV import, in bytes.
    public var maxImportBytes: Int = 256 << 20
    /// How long a verified API token is trusted before it is looked up again.
    public var tokenCacheSeconds: Int = 5
    public var logLevel: String = "info"
    /// The agency's SMTP relay for sending letters by e-mail; nil: letters are sent by hand.
    public var smtpRelay: SMTPRelay?
    /// Warm WeasyPrint processes printing PDFs (default: one per core).
    public var pdfWorkers: Int = ProcessInfo.processInfo.activeProcessorCount
    /// Requests that may wait for a PDF worker before more are refused with 503 (PDF_QUEUE_LIMIT); nil: the
    /// renderer's own limit, four per worker.
    public var pdfQueueLimit: Int?
    /// Seconds one PDF may take before its worker is killed and replaced (PDF_RENDER_TIMEOUT_SECONDS).
    public var pdfRenderTimeoutSeconds: Int = 60
    /// Megabytes of drafts' PDFs kept in memory, least recently used out first (PDF_CACHE_MB; 0: none kept).
    public var pdfCacheMB: Int = 64
    /// The folder where campaign ZIPs are built once and kept (CAMPAIGN_ZIP_DIR).
    public var campaignZipDirectory: String = CampaignArchives.defaultDirectory
    /// Seconds between two rounds of background work (e-mail, campaign jobs).
    public var workerPollSeconds: Int = 2
    /// A browser session ends after this many minutes without a request (SESSION_IDLE_MINUTES).
    public var sessionIdleMinutes: Int = 30
    /// …and after this many hours in any case (SESSION_HOURS).
    public var sessionHours: Int = 12
    /// Cookies carry `Secure` (COOKIE_SECURE=true when TLS ends in front of the server); nil: on unless the site is reached as localhost.
    public var cookieSecure: Bool?
    /// Seconds SIGTERM waits for requests in flight and background work before cancelling them (SHUTDOWN_GRACE_SECONDS).
    public var shutdownGraceSeconds: Int = 30
    /// Seconds between two signed checkpoints of the audit chain (AUDIT_CHECKPOINT_SECONDS), when it moved.
    public var auditCheckpointSeconds: Int = 300
    /// The key that signs them, loaded by `barrier serve` from BARRIER_AUDIT_KEY_FILE; nil: no signing (tests).
    public var auditSigningKey: AuditSigningKey?
    /// Which client a request comes from, for the limit on failed sign-ins per client: the peer, or what a
    /// trusted proxy (TRUSTED_PROXIES; none by default) says in CLIENT_IP_HEADER (X-Forwarded-For).
    public var clientAddress = ClientAddressRule()
    /// Failed sign-ins one client may make within 15 minutes before it gets 429 (SIGN_IN_CLIENT_LIMIT).
    public var signInClientLimit: Int = AccessStore.SignInClient.defaultLimit

    public init() {}

    public struct Invalid: Error, CustomStringConvertible {
        public var problems: [String]
        public var description: String { "configuration is not usable: " + problems.joined(separator: "; ") }
    }

    /// Reads the environment (through swift-configuration) over the defaults.
    public static func fromEnvironment() throws -> AppConfiguration {
        let reader = ConfigReader(provider: EnvironmentVariablesProvider())
        var config = AppConfiguration()
        var problems: [String] = []
        func integer(_ key: String, _ env: String, _ range: ClosedRange<Int>, into value: inout Int) {
            guard let raw = reader.string(forKey: ConfigKey(key)), !raw.isEmpty else { return }
            if let n = Int(raw), range.contains(n) { value = n } else {
                problems.append("\(env) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(raw)'")
            }
        }
        integer("port", "PORT", 1...65535, into: &config.port)
        integer("database.max.connections", "DATABASE_MAX_CONNECTIONS", 1...500, into: &config.maxConnections)
        integer("import.max.bytes", "IMPORT_MAX_BYTES", 1024...(4 << 30), into: &config.maxImportBytes)
        integer("json.max.bytes", "JSON_MAX_BYTES", 1024...(64 << 20), into: &config.maxJSONBytes)
        integer("token.cache.seconds", "TOKEN_CACHE_SECONDS", 0...3600, into: &config.tokenCacheSeconds)
        integer("pdf.workers", "PDF_WORKERS", 1...64, into: &config.pdfWorkers)
        integer("worker.poll.seconds", "WORKER_POLL_SECONDS", 1...3600, into: &config.workerPollSeconds)
        var queueLimit = -1
        integer("pdf.queue.limit", "PDF_QUEUE_LIMIT", 0...100_000, into: &queueLimit)
        if queueLimit >= 0 { config.pdfQueueLimit = queueLimit }
        integer("pdf.render.timeout.seconds", "PDF_RENDER_TIMEOUT_SECONDS", 1...3600, into: &config.pdfRenderTimeoutSeconds)
        integer("pdf.cache.mb", "PDF_CACHE_MB", 0...65_536, into: &config.pdfCacheMB)
        if let raw = reader.string(forKey: "campaign.zip.dir"), !raw.isEmpty { config.campaignZipDirectory = raw }
        integer("session.idle.minutes", "SESSION_IDLE_MINUTES", 1...1440, into: &config.sessionIdleMinutes)
        integer("session.hours", "SESSION_HOURS", 1...168, into: &config.sessionHours)
        integer("shutdown.grace.seconds", "SHUTDOWN_GRACE_SECONDS", 1...3600, into: &config.shutdownGraceSeconds)
        integer("audit.checkpoint.seconds", "AUDIT_CHECKPOINT_SECONDS", 1...86_400, into: &config.auditCheckpointSeconds)
        integer("sign.in.client.limit", "SIGN_IN_CLIENT_LIMIT", 1...100_000, into: &config.signInClientLimit)
        if let raw = reader.string(forKey: "trusted.proxies"), !raw.isEmpty {
            let (ranges, invalid) = IPAddressRange.list(raw)
            if invalid.isEmpty { config.clientAddress.trustedProxies = ranges } else {
                problems.append("TRUSTED_PROXIES must list IP addresses or CIDR blocks separated by commas; not: " + invalid.joined(separator: ", "))
            }
        }
        if let raw = reader.string(forKey: "client.ip.header"), !raw.isEmpty {
            let name = raw.trimmingCharacters(in: .whitespaces)
            let token = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
            if name.allSatisfy(token.contains) { config.clientAddress.header = name } else {
                problems.append("CLIENT_IP_HEADER must be a header name, not '\(raw)'")
            }
        }
        if let raw = reader.string(forKey: "cookie.secure"), !raw.isEmpty {
            switch raw.lowercased() {
            case "true", "1", "yes", "on": config.cookieSecure = true
            case "false", "0", "no", "off": config.cookieSecure = false
            default: problems.append("COOKIE_SECURE must be true or false, not '\(raw)'")
            }
        }
        if let raw = reader.string(forKey: "smtp.url"), !raw.isEmpty {
            if let problem = SMTPRelay.problem(url: raw) { problems.append(problem) } else { config.smtpRelay = SMTPRelay(url: raw) }
        }
        if let host = reader.string(forKey: "host"), !host.isEmpty { config.host = host }
        for (key, env) in [("database.url", "DATABASE_URL"), ("database.read.url", "DATABASE_READ_URL"), ("database.owner.url", "DATABASE_OWNER_URL")] {
            guard let raw = reader.string(forKey: ConfigKey(key)), !raw.isEmpty else { continue }
            if raw.hasPrefix("postgres://") || raw.hasPrefix("postgresql://") {
                switch key {
                case "database.url": config.databaseURL = raw
                case "database.read.url": config.databaseReadURL = raw
                default: config.databaseOwnerURL = raw
                }
            } else {
                problems.append("\(env) must be a postgres:// or postgresql:// URL")
            }
        }
        if let level = reader.string(forKey: "log.level"), !level.isEmpty {
            if ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) { config.logLevel = level } else {
                problems.append("LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical")
            }
        }
        if !problems.isEmpty { throw Invalid(problems: problems) }
        return config
    }
}
