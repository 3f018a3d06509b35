import ArgumentParser
import BarrierCore
import BarrierLetters
import BarrierServer
import BarrierStore
import Foundation
import PostgresNIO

/// The in-process half of `scripts/bench letters`: a campaign over the whole
/// registry of DATABASE_URL, timing how long its letters take to be written and
/// frozen, then the PDF throughput of the warm workers. Prints `RESULT` lines.
struct BenchLetters: BarrierCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-letters", abstract: "Benchmark support for scripts/bench letters.", shouldDisplay: false)

    @Option(help: "PDFs to print for the throughput figure.") var pdfs: Int = 200
    @Option(help: "Write one letter's HTML here (for the WeasyPrint ceiling).") var htmlOut: String
    @Option(help: "Letters rendered for the rendering-alone figure.") var renderProbe: Int = 1000
    @Flag(help: "Print the rendering-alone figure and stop (no campaign).") var renderOnly = false

    func execute() async throws {
        let (pdfCount, htmlOut, probeCount, renderOnly) = (pdfs, self.htmlOut, renderProbe, self.renderOnly)
        guard probeCount > 0 else { throw CLIFailure(description: "--render-probe must be at least 1 (got \(probeCount))") }
        try await withLetters { db, letters in
            let agency = try await resolveAgency(db, nil)
            // The bench works on the owner's connection for the only agency (it acts for no user).
            db.actFor(defaultAgency: agency)
            let campaigns = CampaignStore(db, letters: letters)
            // Rendering alone, to split the freezing time between Swift and the database.
            let probe = try await db.transaction { conn in
                let ids = try await conn.query("SELECT id FROM facilitators WHERE street IS NOT NULL AND city IS NOT NULL LIMIT 1", logger: db.logger)
                var first: UUID?
                for try await id in ids.decode(UUID.self) { first = id }
                let supplier = try await letters.loadSupplier(first!, on: conn)!
                let agencySnapshot = try await letters.loadAgency(agency, on: conn).snapshot
                let template = try await letters.currentTemplate(.forLetter(kind: .informCallToAction, sector: supplier.snapshot.sector, language: .en,
                                                                                  rules: try await TaxonomyStore(db).letterRules(on: conn)), on: conn)!
                return (LetterSnapshot(kind: .informCallToAction, language: .en, agency: agencySnapshot, supplier: supplier.snapshot,
                                       letter: .init(reference: "OUT-2026-000001", date: "2026-11-29", deadline: "2026-12-29", responseDays: 30)),
                        template.body)
            }
            let compiled = try letters.renderer.compile(probe.1)
            let renderStart = ContinuousClock.now
            var bytes = 0
            for _ in 0..<probeCount {
                let r = letters.renderer.render(compiled, snapshot: probe.0)
                bytes += r.html.utf8.count + r.text.utf8.count + r.htmlSHA256.count + (try probe.0.encoded()).utf8.count
            }
            let renderTime = ContinuousClock.now - renderStart
            say("RESULT render_1000_seconds=\(renderTime.seconds * 1000 / Double(probeCount)) bytes=\(bytes)")
            if renderOnly { return }
            let draft = try await campaigns.create(.init(name: "Bench \(Date())", filter: [:]), agencyID: agency, actor: cliActor())
            _ = try await campaigns.approve(draft.id, expectedVersion: draft.version, actor: cliActor())
            let start = ContinuousClock.now
            while try await campaigns.runNextJob(only: "campaign_letters") {}
            let frozen = ContinuousClock.now - start
            let rows = try await db.query(
                "SELECT count(*)::int, min(html) FROM letters WHERE campaign_id = \(draft.id)")
            var total = 0
            var firstHTML = ""
            for try await (n, h) in rows.decode((Int, String).self) { total = n; firstHTML = h }
            let html = firstHTML
            guard total > 0, FileManager.default.createFile(atPath: htmlOut, contents: Data(html.utf8)) else {
                throw CLIFailure(description: "the campaign wrote no letter")
            }
            say("RESULT letters=\(total) freeze_seconds=\(frozen.seconds)")
            // Warm every worker first: a start is not part of the throughput.
            let workers = ProcessInfo.processInfo.activeProcessorCount
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<workers { group.addTask { _ = try await letters.pdfs.render(html: html) } }
                try await group.waitForAll()
            }
            let pdfStart = ContinuousClock.now
            let printed = try await campaigns.printPDFs(draft.id, limit: pdfCount)
            say("RESULT pdfs=\(printed) pdf_seconds=\((ContinuousClock.now - pdfStart).seconds) workers=\(workers)")
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Runs the same small query many times on the pool and prints the process's
/// resident memory before and after: the server's memory grew with every
/// database query under load, and this tells the pool apart from HTTP.
struct ProbeQueries: BarrierCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe-queries", abstract: "Benchmark support: memory of many pooled queries.", shouldDisplay: false)

    @Option var count: Int = 100_000
    @Option var concurrency: Int = 8
    @Flag(help: "Lease one connection per task for the whole round instead of one per query.") var leased = false
    @Flag(help: "Lease a connection for each query with withConnection.") var leaseEach = false

    static func rss() -> String {
        ((try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? "").split(separator: "\n")
            .first { $0.hasPrefix("VmRSS") }.map(String.init) ?? "?"
    }

    func execute() async throws {
        let (count, concurrency, leased, leaseEach) = (self.count, self.concurrency, self.leased, self.leaseEach)
        try await withDatabase(maximumConnections: concurrency) { db in
            say("before: \(Self.rss())")
            for round in 1...3 {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<concurrency {
                        group.addTask {
                            if leased {
                                try await db.client.withConnection { conn in
                                    for _ in 0..<(count / concurrency) {
                                        for try await _ in try await conn.query("SELECT code FROM sectors", logger: db.logger).decode(String.self) {}
                                    }
                                }
                            } else if leaseEach {
                                for _ in 0..<(count / concurrency) {
                                    try await db.client.withConnection { conn in
                                        for try await _ in try await conn.query("SELECT code FROM sectors", logger: db.logger).decode(String.self) {}
                                    }
                                }
                            } else {
                                for _ in 0..<(count / concurrency) {
                                    for try await _ in try await db.query("SELECT code FROM sectors").decode(String.self) {}
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                say("after round \(round) (\(count) queries): \(Self.rss())")
            }
        }
    }
}

/// The statement a supplier search runs, as pgbench script lines, so
/// `scripts/bench registry` times the very SQL the server sends: the search
/// text becomes the pgbench variable `:q` (set by the script), every other
/// bound value a `\set` variable.
struct BenchSearchSQL: BarrierCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-search-sql", abstract: "Benchmark support: the supplier search statement for pgbench.", shouldDisplay: false)

    @Option var limit: Int = 20

    func execute() async throws {
        let needle = "benchneedle"
        let query = try FacilitatorQuery(parameters: ["q": needle, "limit": String(limit)], knownSectors: [])
        let (statement, values) = FacilitatorStore.listStatement(query)
        var sql = statement.sql
        var sets: [String] = []
        for (index, value) in values.enumerated().reversed() {  // $12 before $1
            let variable: String
            if value == needle {
                variable = ":q"
            } else if Int(value) != nil {
                variable = ":p\(index + 1)"
                sets.append("\\set p\(index + 1) \(value)")
            } else {
                throw CLIFailure(description: "bench-search-sql: cannot show bound value '\(value)' to pgbench")
            }
            sql = sql.replacingOccurrences(of: "$\(index + 1)", with: variable)
        }
        for line in sets.reversed() { print(line) }
        print(sql + ";")
    }
}

/// The in-process half of `scripts/bench reports`: for each case, the EXPLAIN
/// ANALYZE execution time of every statement behind the report (summed), and
/// the time of the store call that runs them, each the median of `runs`.
/// Prints `RESULT` lines.
struct BenchReports: BarrierCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-reports", abstract: "Benchmark support for scripts/bench reports.", shouldDisplay: false)

    @Option(name: .customLong("case"), help: "name|report|query string (repeatable).") var cases: [String]
    @Option var runs: Int = 5
    @Flag(help: "Print each statement's EXPLAIN ANALYZE plan (text) once, for a look at where a report's time goes.")
    var plans = false

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.isEmpty ? 0 : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    func execute() async throws {
        let (cases, runs) = (self.cases, self.runs)
        try await withMigratedDatabase { db in
            // The SQL runs as the only agency, as the server runs it for that agency's users.
            db.actFor(defaultAgency: try await resolveAgency(db, nil))
            let store = ReportStore(db)
            for spec in cases {
                let parts = spec.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
                guard parts.count >= 2 else { throw CLIFailure(description: "--case: '\(spec)' is not name|report|query") }
                let (kind, filter, dimension, rule) = try ReportQuery.parse(kind: parts[1], query: parts.count > 2 ? parts[2] : "",
                                                                            sectors: try await store.sectors())
                var explained: [Double] = [], planned: [Double] = [], stored: [Double] = []
                var plans: [String] = []
                if self.plans {
                    for (name, query) in store.statements(kind, filter, by: dimension, gapRule: rule) {
                        let explain = PostgresQuery(unsafeSQL: "EXPLAIN (ANALYZE, BUFFERS) " + query.sql, binds: query.binds)
                        say("PLAN case=\(parts[0]) statement=\(name)")
                        for try await line in try await db.query(explain).decode(String.self) { say("PLAN   \(line)") }
                    }
                }
                for run in 0..<(runs + 1) {
                    var total = 0.0, planning = 0.0
                    for (name, query) in store.statements(kind, filter, by: dimension, gapRule: rule) {
                        let explain = PostgresQuery(unsafeSQL: "EXPLAIN (ANALYZE, FORMAT JSON) " + query.sql, binds: query.binds)
                        for try await json in try await db.query(explain).decode(String.self) {
                            let plan = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [[String: Any]]
                            let ms = (plan?.first?["Execution Time"] as? Double) ?? 0
                            total += ms
                            planning += (plan?.first?["Planning Time"] as? Double) ?? 0
                            if run == 0 { plans.append("\(name)=\(String(format: "%.1f", ms))") }
                        }
                    }
                    let start = ContinuousClock.now
                    _ = try await store.report(kind, filter, by: dimension, gapRule: rule)
                    let elapsed = ContinuousClock.now - start
                    if run > 0 {  // the first run warms the caches
                        explained.append(total)
                        planned.append(planning)
                        stored.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
                    }
                }
                say("RESULT case=\(parts[0]) explain_ms=\(String(format: "%.2f", Self.median(explained))) store_ms=\(String(format: "%.2f", Self.median(stored))) planning_ms=\(String(format: "%.2f", Self.median(planned))) statements=\(plans.joined(separator: ","))")
            }
        }
    }
}
