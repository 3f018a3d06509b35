import BarrierCore
import BarrierStore
import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle
import Synchronization

/// Metrics go to one Prometheus registry per process: MetricsSystem can be bootstrapped once.
enum MetricsRegistry {
    static let shared: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()
}

/// Builds the whole application; `barrier serve` and the tests both call this,
/// so tests exercise the real assembly. When `runDatabase` is true the pool runs
/// as a service of the application (started and stopped with it).
/// `readDatabase` (DATABASE_READ_URL, a replica) serves the reports; every
/// other read and every write goes to `database`.
public func buildApplication(
    configuration: AppConfiguration, database: Database, readDatabase: Database? = nil, letters: LetterStore, runDatabase: Bool = true,
    runBackgroundWork: Bool = true, logger: Logger? = nil
) -> some ApplicationProtocol {
    var logger = logger ?? Logger(label: "barrier")
    logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
    let router = buildRouter(configuration: configuration, database: database, readDatabase: readDatabase, letters: letters)
    var services: [any Service] = runDatabase ? ([database] + (readDatabase.map { [$0] } ?? [])).map(DatabaseService.init) : []
    if runBackgroundWork {
        services.append(BackgroundWork(
            mail: LetterMail(database, letters: letters, relay: configuration.smtpRelay), letters: letters,
            campaigns: CampaignStore(database, letters: letters), licensing: LicensingStore(database, letters: letters),
            idempotencyKeys: IdempotencyKeys(database), pollSeconds: configuration.workerPollSeconds,
            checkpoints: configuration.auditSigningKey.map { (AuditCheckpoints(database), $0, configuration.auditCheckpointSeconds) },
            logger: logger))
    }
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "barrier-registry"),
        services: services,
        logger: logger)
}

public func buildRouter(configuration: AppConfiguration, database: Database, readDatabase: Database? = nil,
                        letters: LetterStore) -> Router<BarrierRequestContext> {
    // The PDF workers' queue and time limits and the drafts' PDF cache are the process's, set from the configuration.
    // (An unset queue limit leaves the renderer's own: four per worker.)
    letters.pdfs.configure(queueLimit: configuration.pdfQueueLimit, renderTimeout: .seconds(configuration.pdfRenderTimeoutSeconds))
    letters.draftPDFs.setMaxBytes(configuration.pdfCacheMB << 20)
    let reports = ReportStore(readDatabase ?? database)
    let registry = MetricsRegistry.shared
    let router = Router(context: BarrierRequestContext.self)
    router.add(middleware: SecurityHeaders())
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: ProblemMiddleware())
    router.get("healthz") { _, _ in Response.json("{\"status\":\"ok\"}") }
    router.get("readyz") { _, _ -> Response in
        guard await database.isReachable() else {
            throw Problem(.serviceUnavailable, "Service unavailable", detail: "The database is not reachable.")
        }
        if let readDatabase, await !readDatabase.isReachable() {
            throw Problem(.serviceUnavailable, "Service unavailable", detail: "The read replica (DATABASE_READ_URL) is not reachable.")
        }
        return .json("{\"status\":\"ready\",\"database\":\"reachable\"}")
    }
    let poolMax = Gauge(label: "barrier_db_pool_max_connections")
    let poolOpen = Gauge(label: "barrier_db_connections_open")
    let databaseUp = Gauge(label: "barrier_db_up")
    router.get("metrics") { _, _ -> Response in
        poolMax.record(configuration.maxConnections)
        if let open = try? await database.openConnections() {
            poolOpen.record(open)
            databaseUp.record(1)
        } else {
            databaseUp.record(0)
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }
    router.get("openapi.yaml") { _, _ -> Response in
        Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.text)))
    }
    let api = router.group("api/v1")
        .add(middleware: TokenAuthenticator(access: AccessStore(database), cacheSeconds: configuration.tokenCacheSeconds))
        .add(middleware: IdempotencyMiddleware(
            keys: IdempotencyKeys(database),
            maxBodyBytes: max(configuration.maxImportBytes, configuration.maxJSONBytes, UploadedDocument.maxBytes / 3 * 4 + 65_536)))
    api.addRoutes(FacilitatorController(store: FacilitatorStore(database), transfer: FacilitatorTransfer(database), config: configuration).endpoints)
    api.addRoutes(AuditController(log: AuditLog(database)).endpoints)
    api.addRoutes(LetterController(
        letters: letters, mail: LetterMail(database, letters: letters, relay: configuration.smtpRelay), access: AccessStore(database),
        config: configuration).endpoints)
    api.addRoutes(CampaignController(campaigns: CampaignStore(database, letters: letters), config: configuration).endpoints)
    api.addRoutes(CooperationController(cooperation: CooperationStore(database), config: configuration).endpoints)
    api.addRoutes(SignalController(signals: SignalStore(database), config: configuration).endpoints)
    api.addRoutes(ReportController(reports: reports, plans: ActionPlanStore(database), config: configuration).endpoints)
    api.addRoutes(LicensingController(licensing: LicensingStore(database, letters: letters), config: configuration).endpoints)
    api.addRoutes(ProcedureProfileController(profiles: ProcedureProfileStore(database), config: configuration).endpoints)
    api.addRoutes(TaxonomyController(taxonomy: TaxonomyStore(database), config: configuration).endpoints)
    // The HTML pages, behind a browser session.
    if let pages = try? PageRenderer.shipped() {
        PageController(access: AccessStore(database), reports: reports, plans: ActionPlanStore(database), pages: pages, config: configuration,
                       facilitators: FacilitatorStore(database), cooperation: CooperationStore(database), letters: letters,
                       licensing: LicensingStore(database, letters: letters), signals: SignalStore(database),
                       transfer: FacilitatorTransfer(database), audit: AuditLog(database),
                       mail: LetterMail(database, letters: letters, relay: configuration.smtpRelay), campaigns: CampaignStore(database, letters: letters),
                       profiles: ProcedureProfileStore(database), taxonomy: TaxonomyStore(database))
            .register(on: router)
    }
    // The public register needs no login: it is published by law.
    PublicRegisterController(licensing: LicensingStore(database, letters: letters)).register(on: router)
    return router
}

/// A pool as a service of the application: it runs, and is replaced after an outage, until the server stops.
struct DatabaseService: Service, CustomStringConvertible {
    let database: Database
    var description: String { "DatabaseService(\(database.url.database))" }
    init(_ database: Database) { self.database = database }
    func run() async throws {
        // Shut down last: the server and the background work stop first (services stop in reverse order).
        try await cancelWhenGracefulShutdown { await database.runRecovering() }
    }
}

/// The OpenAPI 3.1 description of the API, shipped as a resource of this module.
public enum OpenAPIDocument {
    public static let text: String = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
              let text = try? String(contentsOf: url, encoding: .utf8)
        else { return "openapi: 3.1.0\n" }
        return text
    }()
}
