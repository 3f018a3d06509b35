import BarrierCore
import Foundation
import PostgresNIO

/// One table of a report: named columns, rows of text cells (nil is empty).
/// Numeric columns are written as numbers in JSON.
public struct ReportTable: Sendable, Equatable {
    public struct Column: Sendable, Equatable {
        public var name: String
        public var numeric: Bool
    }

    public var name: String
    public var title: String
    public var description: String
    public var columns: [Column]
    public var rows: [[String?]]

    public func value(_ row: Int, _ column: String) -> String? {
        guard let i = columns.firstIndex(where: { $0.name == column }) else { return nil }
        return rows[row][i]
    }

    public func json() -> String {
        var out: [UInt8] = []
        appendJSON(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The table as JSON, written into `out` a byte at a time: each row an object keyed
    /// by the column names (escaped once per table, not once per cell). Built with
    /// strings joined per cell it was a fifth of the server's time for a small report.
    func appendJSON(to out: inout [UInt8]) {
        out.reserveCapacity(out.count + 256 + rows.count * columns.count * 24)
        out += "{\"name\":".utf8
        appendJSONString(name, to: &out)
        out += ",\"title\":".utf8
        appendJSONString(title, to: &out)
        out += ",\"description\":".utf8
        appendJSONString(description, to: &out)
        out += ",\"columns\":[".utf8
        var keys: [[UInt8]] = []
        for (i, column) in columns.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            var key: [UInt8] = []
            appendJSONString(column.name, to: &key)
            out += key
            keys.append(key + [UInt8(ascii: ":")])
        }
        out += "],\"rows\":[".utf8
        for (r, row) in rows.enumerated() {
            if r > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "{"))
            for i in 0..<min(columns.count, row.count) {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out += keys[i]
                if let cell = row[i] {
                    if columns[i].numeric { out += cell.utf8 } else { appendJSONString(cell, to: &out) }
                } else {
                    out += "null".utf8
                }
            }
            out.append(UInt8(ascii: "}"))
        }
        out += "]}".utf8
    }

    public func csv() throws -> Data {
        try FacilitatorTransfer.csvLines([columns.map(\.name)] + rows.map { $0.map { $0 ?? "" } })
    }
}

/// A report: its tables, and the filters it was computed with.
public struct Report: Sendable {
    public var kind: ReportKind
    public var filter: ReportFilter
    public var tables: [ReportTable]

    public func table(_ name: String) -> ReportTable? { tables.first { $0.name == name } }

    public func json() -> String {
        var filters: [String] = []
        if let v = filter.from { filters.append("\"from\":\(jsonString(v))") }
        if let v = filter.to { filters.append("\"to\":\(jsonString(v))") }
        if let v = filter.sector { filters.append("\"sector\":\(jsonString(v))") }
        if let v = filter.country { filters.append("\"country\":\(jsonString(v))") }
        if let v = filter.stage { filters.append("\"stage\":\(jsonString(v.rawValue))") }
        if let v = filter.agencyID { filters.append("\"agency\":\(jsonString(v))") }
        var out = Array("{\"report\":\"\(kind.rawValue)\",\"title\":\(jsonString(kind.title)),\"filters\":{\(filters.joined(separator: ","))},\"tables\":[".utf8)
        for (i, table) in tables.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            table.appendJSON(to: &out)
        }
        out += "]}".utf8
        return String(decoding: out, as: UTF8.self)
    }
}

extension ReportFilter {
    /// Today in UTC, for the length of an open period (a day's difference at midnight changes nothing).
    static func today() -> String {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date())
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }
}

/// The reports, computed in PostgreSQL: cooperation from its tallies, the rest
/// from the rows through the indexes of migration 0009.
public struct ReportStore: Sendable {
    let db: Database

    public init(_ db: Database) { self.db = db }

    /// The sector codes a filter may name, as the catalogue stands.
    public func sectors() async throws -> Set<String> { try await TaxonomyStore(db).sectorCodes() }

    /// The sector codes a filter naming `sector` is checked against; none is read when it names none
    /// (a report without a sector filter costs no query for it).
    public func sectors(toCheck sector: String?) async throws -> Set<String> { sector == nil ? [] : try await sectors() }

    /// `knownSectors`: the sector codes the caller has already read to check the
    /// request (a sector-filtered report then reads the catalogue once, not twice).
    public func report(_ kind: ReportKind, _ filter: ReportFilter, by dimension: ReportDimension = .sector,
                       gapRule: MatrixGapRule = MatrixGapRule(), knownSectors: Set<String>? = nil) async throws -> Report {
        let known = if let knownSectors { knownSectors } else { try await sectors(toCheck: filter.sector) }
        let problems = filter.problems(knownSectors: known)
        if !problems.isEmpty { throw StoreError.invalid(problems) }
        if let tooLong = filter.periodProblem(today: ReportFilter.today()) { throw StoreError.invalid([tooLong]) }
        let tables: [ReportTable]
        switch kind {
        case .cooperation:
            tables = try await concurrently([{ try await cooperationNow(filter, by: dimension) }, { try await cooperationMonthly(filter) }])
        case .funnel:
            tables = try await concurrently([{ try await funnel(filter, byCampaign: false) }, { try await funnel(filter, byCampaign: true) }])
        case .licensing: tables = try await licensing(filter)
        case .matrix:
            tables = try await concurrently([{ try await matrix(filter, gapRule: gapRule) }, { try await model(filter, gapRule: gapRule) }])
        case .signals: tables = [try await signalsMonthly(filter)]
        }
        return Report(kind: kind, filter: filter, tables: tables)
    }

    /// Runs a report's tables side by side on the pool, in their order.
    func concurrently(_ jobs: [@Sendable () async throws -> ReportTable]) async throws -> [ReportTable] {
        try await withThrowingTaskGroup(of: (Int, ReportTable).self) { group in
            for (i, job) in jobs.enumerated() { group.addTask { (i, try await job()) } }
            var tables: [(Int, ReportTable)] = []
            for try await result in group { tables.append(result) }
            return tables.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// The SQL each table of `kind` runs, with its binds (for EXPLAIN ANALYZE in the bench).
    public func statements(_ kind: ReportKind, _ filter: ReportFilter, by dimension: ReportDimension = .sector,
                           gapRule: MatrixGapRule = MatrixGapRule()) -> [(name: String, query: PostgresQuery)] {
        switch kind {
        case .cooperation: return [("levels", cooperationNowSQL(filter, by: dimension)), ("monthly", cooperationMonthlySQL(filter))]
        case .funnel: return [("by_sector", funnelSQL(filter, byCampaign: false)), ("by_campaign", funnelSQL(filter, byCampaign: true))]
        case .licensing: return licensingSQL(filter).map { ($0.name, $0.query) }
        case .matrix: return [("cells", matrixSQL(filter, gapRule: gapRule)), ("model", modelSQL(filter, gapRule: gapRule))]
        case .signals: return [("monthly", signalsMonthlySQL(filter))]
        }
    }

    // MARK: Running

    func table(_ name: String, _ title: String, _ description: String, columns: [(String, Bool)], _ query: PostgresQuery) async throws -> ReportTable {
        let rows = try await db.query(query)
        var cells: [[String?]] = []
        for try await row in rows {
            let random = row.makeRandomAccess()
            cells.append(try (0..<columns.count).map { try random[$0].decode(String?.self) })
        }
        return ReportTable(name: name, title: title, description: description,
                           columns: columns.map { ReportTable.Column(name: $0.0, numeric: $0.1) }, rows: cells)
    }

    static func query(_ sql: String, _ binds: SQLBinds) -> PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds.binds) }

    /// The period as two days: the filter's, or the last twelve whole months up to today.
    static func period(_ filter: ReportFilter, _ binds: inout SQLBinds) -> (from: String, to: String) {
        let to = filter.to.map { "\(binds.add($0))::date" } ?? "current_date"
        let from = filter.from.map { "\(binds.add($0))::date" } ?? "(date_trunc('month', \(to)) - interval '11 months')::date"
        return (from, to)
    }

    /// Supplier conditions on `alias` (a facilitators row): sector, country, stage.
    static func supplierConditions(_ filter: ReportFilter, _ alias: String, _ binds: inout SQLBinds) -> String {
        var sql = ""
        if let sector = filter.sector { sql += " AND \(alias).sector = \(binds.add(sector))" }
        if let country = filter.country { sql += " AND \(alias).country = \(binds.add(country))" }
        if let stage = filter.stage { sql += " AND \(binds.add(stage.rawValue)) = ANY(\(alias).stages)" }
        return sql
    }

    // MARK: Cooperation

    static let cooperatingLevels = "('cooperating', 'partially_cooperating')"

    /// The agencies whose rows the caller's agency sums in the cooperation tallies:
    /// the shared base (the nil agency: every supplier as not_contacted) and its
    /// own deltas from it (sql/0013). Said in each query as well as by row-level
    /// security, which does not bind the owner or a superuser.
    static let cooperationAgencies = "('00000000-0000-0000-0000-000000000000', (SELECT current_agency()))"

    func cooperationNowSQL(_ filter: ReportFilter, by dimension: ReportDimension) -> PostgresQuery {
        var binds = SQLBinds()
        var conditions = ""
        if let sector = filter.sector { conditions += " AND sector = \(binds.add(sector))" }
        if let country = filter.country { conditions += " AND country = \(binds.add(country))" }
        // Stage rows count a supplier once per stage it serves; '*' counts it once.
        if let stage = filter.stage { conditions += " AND stage = \(binds.add(stage.rawValue))" }
        else if dimension == .stage { conditions += " AND stage <> '*'" }
        else { conditions += " AND stage = '*'" }
        let group = dimension == .country ? "country::text" : dimension.rawValue
        let levels = CooperationLevel.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        let sql = """
            WITH counts AS (SELECT \(group) AS grp, level, sum(suppliers) AS n FROM cooperation_tally
                       WHERE agency_id IN \(Self.cooperationAgencies)\(conditions) GROUP BY 1, 2),
            groups AS (SELECT grp, sum(n) AS total FROM counts GROUP BY grp HAVING sum(n) > 0)
            SELECT g.grp, l.level, coalesce(c.n, 0)::text, g.total::text, round(coalesce(c.n, 0)::numeric / g.total, 4)::text
            FROM groups g CROSS JOIN unnest(ARRAY[\(levels)]) WITH ORDINALITY l (level, o)
            LEFT JOIN counts c ON c.grp = g.grp AND c.level = l.level
            ORDER BY g.grp, l.o
            """
        return Self.query(sql, binds)
    }

    func cooperationNow(_ filter: ReportFilter, by dimension: ReportDimension) async throws -> ReportTable {
        try await table("levels", "Cooperation levels by \(dimension.rawValue), today",
                        "Registered suppliers (archived ones left out) at each cooperation level, per \(dimension.rawValue), with the share of the \(dimension.rawValue)'s total."
                            + (dimension == .stage ? " A supplier serving several stages counts in each." : ""),
                        columns: [(dimension.rawValue, false), ("level", false), ("suppliers", true), ("total", true), ("share", true)],
                        cooperationNowSQL(filter, by: dimension))
    }

    func cooperationMonthlySQL(_ filter: ReportFilter) -> PostgresQuery {
        var binds = SQLBinds()
        let (from, to) = Self.period(filter, &binds)
        var conditions = filter.stage.map { " AND stage = \(binds.add($0.rawValue))" } ?? " AND stage = '*'"
        if let sector = filter.sector { conditions += " AND sector = \(binds.add(sector))" }
        if let country = filter.country { conditions += " AND country = \(binds.add(country))" }
        let levels = CooperationLevel.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        // Levels at the first month's end are the sum of every change before it; each later month adds its own.
        let sql = """
            WITH months AS (SELECT generate_series(date_trunc('month', \(from))::timestamp, date_trunc('month', \(to))::timestamp,
                                                   interval '1 month')::date AS month),
            deltas AS (SELECT month, level, sum(delta) AS delta FROM cooperation_month_tally
                       WHERE agency_id IN \(Self.cooperationAgencies) AND month <= (SELECT max(month) FROM months)\(conditions) GROUP BY 1, 2),
            grid AS (SELECT m.month, l.level, l.o FROM months m CROSS JOIN unnest(ARRAY[\(levels)]) WITH ORDINALITY l (level, o)),
            opening AS (SELECT level, sum(delta) AS n FROM deltas WHERE month < (SELECT min(month) FROM months) GROUP BY level),
            series AS (SELECT g.month, g.level, g.o,
                              coalesce(max(b.n) OVER (PARTITION BY g.level), 0)
                              + sum(coalesce(d.delta, 0)) OVER (PARTITION BY g.level ORDER BY g.month) AS n
                       FROM grid g LEFT JOIN deltas d ON d.month = g.month AND d.level = g.level LEFT JOIN opening b ON b.level = g.level)
            SELECT to_char(month, 'YYYY-MM'), level, n::text, sum(n) OVER (PARTITION BY month)::text,
                   CASE WHEN sum(n) OVER (PARTITION BY month) = 0 THEN NULL ELSE round(n::numeric / sum(n) OVER (PARTITION BY month), 4)::text END
            FROM series ORDER BY month, o
            """
        return Self.query(sql, binds)
    }

    func cooperationMonthly(_ filter: ReportFilter) async throws -> ReportTable {
        try await table("monthly", "Cooperation levels at each month's end",
                        "From the history of levels: every supplier registered by the month's end (archived ones included), at the level it had then.",
                        columns: [("month", false), ("level", false), ("suppliers", true), ("total", true), ("share", true)],
                        cooperationMonthlySQL(filter))
    }

    // MARK: Funnel

    func funnelSQL(_ filter: ReportFilter, byCampaign: Bool) -> PostgresQuery {
        var binds = SQLBinds()
        let (from, to) = Self.period(filter, &binds)
        var conditions = " AND ft.agency_id = (SELECT current_agency()) AND ft.month BETWEEN date_trunc('month', \(from))::date AND \(to)"
        if let sector = filter.sector { conditions += " AND ft.sector = \(binds.add(sector))" }
        if let country = filter.country { conditions += " AND ft.country = \(binds.add(country))" }
        if let agency = filter.agencyID { conditions += " AND ft.agency_id = \(binds.add(agency))::uuid" }
        let group = byCampaign ? "coalesce(c.name, '(no campaign)')" : "ft.sector"
        let join = byCampaign ? "LEFT JOIN campaigns c ON c.id::text = ft.campaign" : ""
        // The median from the histogram of days: the middle value, or the mean of the two middle ones.
        let sql = """
            WITH steps AS (
                SELECT \(group) AS grp, sum(ft.sent) AS sent, sum(ft.reached) AS reached, sum(ft.responded) AS responded,
                       sum(ft.committed) AS committed, sum(ft.verified) AS verified
                FROM funnel_tally ft \(join) WHERE true\(conditions) GROUP BY 1 HAVING sum(ft.sent) > 0),
            days AS (
                SELECT \(group) AS grp, ft.days, sum(ft.letters) AS letters
                FROM funnel_response_days ft \(join) WHERE true\(conditions) GROUP BY 1, 2 HAVING sum(ft.letters) > 0),
            running AS (SELECT grp, days, sum(letters) OVER (PARTITION BY grp ORDER BY days) AS upto, sum(letters) OVER (PARTITION BY grp) AS total
                        FROM days),
            medians AS (SELECT grp, ((min(days) FILTER (WHERE upto >= div(total + 1, 2)) + min(days) FILTER (WHERE upto >= div(total, 2) + 1)) / 2.0)::float8 AS median
                        FROM running GROUP BY grp)
            SELECT s.grp, s.sent::text, s.reached::text, s.responded::text, s.committed::text, s.verified::text,
                   round(s.reached::numeric / s.sent, 4)::text, round(s.responded::numeric / s.sent, 4)::text,
                   round(s.committed::numeric / s.sent, 4)::text, round(s.verified::numeric / s.sent, 4)::text, m.median::text
            FROM steps s LEFT JOIN medians m ON m.grp = s.grp ORDER BY s.grp
            """
        return Self.query(sql, binds)
    }

    func funnel(_ filter: ReportFilter, byCampaign: Bool) async throws -> ReportTable {
        let group = byCampaign ? "campaign" : "sector"
        return try await table(
            byCampaign ? "by_campaign" : "by_sector", "Outreach funnel by \(group)",
            "First letters (inform and call to action) sent in the period's months: how many reached the supplier (delivered or answered), "
                + "were answered, led to a commitment to a measure and to a verified one; rates are of the letters sent; median days from sending to answer.",
            columns: [(group, false), ("sent", true), ("delivered", true), ("responded", true), ("committed", true), ("verified", true),
                      ("delivery_rate", true), ("response_rate", true), ("commitment_rate", true), ("verification_rate", true),
                      ("median_days_to_respond", true)],
            funnelSQL(filter, byCampaign: byCampaign))
    }

    // MARK: Licensing

    /// The actions counted: the caller's agency's, proposed in the period, of the filtered suppliers and agency.
    static func actionScope(_ filter: ReportFilter, _ binds: inout SQLBinds) -> String {
        let (from, to) = period(filter, &binds)
        var sql = "FROM licensing_actions a JOIN facilitators f ON f.id = a.facilitator_id"
            + " WHERE a.agency_id = (SELECT current_agency()) AND a.proposed_at::date BETWEEN \(from) AND \(to)"
        sql += supplierConditions(filter, "f", &binds)
        if let agency = filter.agencyID { sql += " AND a.agency_id = \(binds.add(agency))::uuid" }
        return sql
    }

    func licensingSQL(_ filter: ReportFilter) -> [(name: String, query: PostgresQuery)] {
        var out: [(String, PostgresQuery)] = []
        var b1 = SQLBinds()
        out.append(("by_type_status", Self.query(
            "SELECT a.type, a.status, count(*)::text \(Self.actionScope(filter, &b1)) GROUP BY 1, 2 ORDER BY 1, 2", b1)))
        var b2 = SQLBinds()
        out.append(("by_sector", Self.query(
            "SELECT f.sector, a.type, count(*)::text \(Self.actionScope(filter, &b2)) GROUP BY 1, 2 ORDER BY 1, 2", b2)))
        var b3 = SQLBinds()
        out.append(("by_country", Self.query(
            "SELECT f.country::text, a.type, count(*)::text \(Self.actionScope(filter, &b3)) GROUP BY 1, 2 ORDER BY 1, 2", b3)))
        var b4 = SQLBinds()
        out.append(("fines", Self.query(
            """
            SELECT a.currency, count(*)::text, sum(a.amount_minor)::text \(Self.actionScope(filter, &b4))
              AND a.type = 'fine' AND a.status = ANY(\(b4.add(LicensingActionStatus.onRecordStatuses))) GROUP BY 1 ORDER BY 1
            """, b4)))
        var b5 = SQLBinds()
        out.append(("appeals", Self.query(
            """
            SELECT count(DISTINCT a.id) FILTER (WHERE a.decided_on IS NOT NULL)::text,
                   count(DISTINCT a.id) FILTER (WHERE a.status = 'appealed')::text,
                   CASE WHEN count(DISTINCT a.id) FILTER (WHERE a.decided_on IS NOT NULL) = 0 THEN NULL
                        ELSE round((count(DISTINCT a.id) FILTER (WHERE a.status = 'appealed'))::numeric
                                   / count(DISTINCT a.id) FILTER (WHERE a.decided_on IS NOT NULL), 4)::text END,
                   count(p.action_id)::text, count(*) FILTER (WHERE p.outcome = 'upheld')::text, count(*) FILTER (WHERE p.outcome = 'varied')::text,
                   count(*) FILTER (WHERE p.outcome = 'overturned')::text
            \(Self.actionScope(filter, &b5).replacingOccurrences(of: "JOIN facilitators f ON f.id = a.facilitator_id",
                                                                  with: "JOIN facilitators f ON f.id = a.facilitator_id LEFT JOIN licensing_appeals p ON p.action_id = a.id"))
            """, b5)))
        return out
    }

    func licensing(_ filter: ReportFilter) async throws -> [ReportTable] {
        let sql = Dictionary(uniqueKeysWithValues: licensingSQL(filter).map { ($0.name, $0.query) })
        let scope = "Licensing actions proposed in the period"
        return try await concurrently([
            { try await table("by_type_status", "Actions by type and status", "\(scope), by type and where each stands.",
                              columns: [("type", false), ("status", false), ("actions", true)], sql["by_type_status"]!) },
            { try await table("by_sector", "Actions by sector", "\(scope), by the supplier's sector and the type.",
                              columns: [("sector", false), ("type", false), ("actions", true)], sql["by_sector"]!) },
            { try await table("by_country", "Actions by country", "\(scope), by the supplier's country and the type.",
                              columns: [("country", false), ("type", false), ("actions", true)], sql["by_country"]!) },
            { try await table("fines", "Fines by currency", "Fines decided and not overturned or under appeal, in minor units of each currency.",
                              columns: [("currency", false), ("fines", true), ("total_minor", true)], sql["fines"]!) },
            { try await table("appeals", "Appeals", "Of the actions decided: how many are under appeal now, the share, and the outcomes "
                                + "of appeals (each stage, objection or court, counts as one appeal).",
                              columns: [("decided", true), ("under_appeal", true), ("share_under_appeal", true), ("appeals", true),
                                        ("upheld", true), ("varied", true), ("overturned", true)], sql["appeals"]!) },
        ])
    }

    // MARK: Barrier matrix

    func matrixSQL(_ filter: ReportFilter, gapRule: MatrixGapRule) -> PostgresQuery {
        var binds = SQLBinds()
        let (from, to) = Self.period(filter, &binds)
        var tally = "", measures = "", signalSector = ""
        if let sector = filter.sector {
            let b = binds.add(sector)
            tally += " AND t.sector = \(b)"; measures += " AND m.sector = \(b)"; signalSector = " AND t.sector = \(b)"
        }
        if let country = filter.country { let b = binds.add(country); tally += " AND t.country = \(b)"; measures += " AND m.country = \(b)" }
        let signalCountry = binds.add(filter.country ?? "*")
        let minimum = binds.add(gapRule.minimumSignals), share = binds.add(gapRule.maximumShareCooperating)
        let cellSector = filter.sector.map { " AND s.code = \(binds.add($0))" } ?? ""
        let stages = Stage.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        let sql = """
            WITH cells AS (
                SELECT st.stage, st.o, s.code AS sector FROM unnest(ARRAY[\(stages)]) WITH ORDINALITY st (stage, o) CROSS JOIN sectors s
                WHERE true\(cellSector)),
            tallied AS (
                SELECT t.stage, t.sector, sum(t.suppliers) AS suppliers,
                       sum(t.suppliers) FILTER (WHERE t.level <> 'not_contacted') AS contacted,
                       sum(t.suppliers) FILTER (WHERE t.level IN \(Self.cooperatingLevels)) AS cooperating
                FROM cooperation_tally t WHERE t.agency_id IN \(Self.cooperationAgencies) AND t.stage <> '*'\(tally) GROUP BY 1, 2),
            signalled AS (
                SELECT t.stage, t.sector, sum(t.signals) AS signals FROM signal_tally t
                WHERE t.agency_id = (SELECT current_agency()) AND t.sector <> '*' AND t.country = \(signalCountry)
                  AND t.month BETWEEN date_trunc('month', \(from))::date AND \(to)\(signalSector)
                GROUP BY 1, 2),
            verified AS (SELECT m.stage, m.sector, sum(m.verified) AS measures FROM measure_tally m WHERE m.agency_id = (SELECT current_agency())\(measures) GROUP BY 1, 2)
            SELECT c.stage, c.sector, coalesce(t.suppliers, 0)::text,
                   CASE WHEN coalesce(t.suppliers, 0) = 0 THEN NULL ELSE round(coalesce(t.contacted, 0)::numeric / t.suppliers, 4)::text END,
                   CASE WHEN coalesce(t.suppliers, 0) = 0 THEN NULL ELSE round(coalesce(t.cooperating, 0)::numeric / t.suppliers, 4)::text END,
                   coalesce(s.signals, 0)::text, coalesce(v.measures, 0)::text,
                   (coalesce(s.signals, 0) >= \(minimum) AND (coalesce(t.suppliers, 0) = 0
                        OR coalesce(t.cooperating, 0)::numeric / t.suppliers < \(share)::float8))::text
            FROM cells c
            LEFT JOIN tallied t ON t.stage = c.stage AND t.sector = c.sector
            LEFT JOIN signalled s ON s.stage = c.stage AND s.sector = c.sector
            LEFT JOIN verified v ON v.stage = c.stage AND v.sector = c.sector
            ORDER BY c.o, c.sector
            """
        return Self.query(sql, binds)
    }

    func matrix(_ filter: ReportFilter, gapRule: MatrixGapRule) async throws -> ReportTable {
        try await table(
            "cells", "Barrier matrix: stages × sectors",
            "Each cell: suppliers of the sector serving the stage, the share contacted and cooperating (cooperating or partially), "
                + "signals at that stage about suppliers of the sector observed in the period's months, and their verified measures. A gap has at least "
                + "\(gapRule.minimumSignals) signals and under \(Int(gapRule.maximumShareCooperating * 100))% cooperating.",
            columns: [("stage", false), ("sector", false), ("suppliers", true), ("share_contacted", true), ("share_cooperating", true),
                      ("open_signals", true), ("verified_measures", true), ("gap", true)],
            matrixSQL(filter, gapRule: gapRule))
    }

    /// The barrier model as the paper draws it: per stage, the facilitators (sectors with
    /// suppliers serving the stage), the opportunities, the signals, the partners
    /// (cooperating suppliers, and the agencies the caller shares that stage's signals
    /// with) and the barriers (measures committed and verified, restrictive actions in effect).
    func modelSQL(_ filter: ReportFilter, gapRule: MatrixGapRule) -> PostgresQuery {
        var binds = SQLBinds()
        let (from, to) = Self.period(filter, &binds)
        var tally = "", measures = ""
        if let sector = filter.sector { let b = binds.add(sector); tally += " AND t.sector = \(b)"; measures += " AND m.sector = \(b)" }
        if let country = filter.country { let b = binds.add(country); tally += " AND t.country = \(b)"; measures += " AND m.country = \(b)" }
        let suppliers = Self.supplierConditions(ReportFilter(sector: filter.sector, country: filter.country), "f", &binds)
        let signalSector = binds.add(filter.sector ?? "*"), signalCountry = binds.add(filter.country ?? "*")
        let minimum = binds.add(gapRule.minimumSignals)
        let stages = Stage.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        let sql = """
            WITH stages AS (SELECT st.stage, st.o FROM unnest(ARRAY[\(stages)]) WITH ORDINALITY st (stage, o)),
            by_sector AS (
                SELECT t.stage, t.sector, sum(t.suppliers) AS suppliers, sum(t.suppliers) FILTER (WHERE t.level IN \(Self.cooperatingLevels)) AS cooperating
                FROM cooperation_tally t WHERE t.agency_id IN \(Self.cooperationAgencies) AND t.stage <> '*'\(tally) GROUP BY 1, 2),
            facilitating AS (
                SELECT stage, sum(suppliers) AS suppliers, coalesce(sum(cooperating), 0) AS cooperating,
                       string_agg(sector || ' (' || suppliers || ')', ', ' ORDER BY suppliers DESC, sector) FILTER (WHERE suppliers > 0) AS sectors,
                       string_agg(sector || ' (' || cooperating || ')', ', ' ORDER BY cooperating DESC, sector) FILTER (WHERE cooperating > 0) AS partners
                FROM by_sector GROUP BY stage),
            opportunities AS (SELECT stage, string_agg(label, '; ' ORDER BY position) AS labels FROM barrier_opportunities GROUP BY stage),
            signalled AS (
                SELECT stage, sum(signals) AS signals FROM signal_tally
                WHERE agency_id = (SELECT current_agency()) AND sector = \(signalSector) AND country = \(signalCountry)
                  AND month BETWEEN date_trunc('month', \(from))::date AND \(to) GROUP BY stage),
            shared AS (
                SELECT v.stage, count(DISTINCT h.shared_with) AS agencies FROM signal_shares h
                JOIN LATERAL (SELECT w.stage FROM signal_versions w WHERE w.signal_id = h.signal_id ORDER BY w.version DESC LIMIT 1) v ON true
                WHERE h.agency_id = (SELECT current_agency()) AND h.revoked_at IS NULL GROUP BY v.stage),
            commitments AS (
                SELECT m.stage, sum(m.committed) AS committed, sum(m.verified) AS verified
                FROM measure_tally m WHERE m.agency_id = (SELECT current_agency())\(measures) GROUP BY m.stage),
            actions AS (
                SELECT s.stage, count(*) AS in_effect
                FROM licensing_actions a JOIN facilitators f ON f.id = a.facilitator_id CROSS JOIN LATERAL unnest(f.stages) s (stage)
                WHERE a.agency_id = (SELECT current_agency()) AND a.type NOT IN ('warning', 'referral') AND a.status IN ('decided', 'upheld', 'varied')
                  AND a.effective_from <= current_date AND (a.effective_to IS NULL OR a.effective_to >= current_date)\(suppliers)
                GROUP BY s.stage)
            SELECT st.stage, coalesce(f.suppliers, 0)::text, coalesce(f.sectors, ''), coalesce(o.labels, ''), coalesce(g.signals, 0)::text,
                   coalesce(f.cooperating, 0)::text, coalesce(f.partners, ''), coalesce(h.agencies, 0)::text,
                   coalesce(c.committed, 0)::text, coalesce(c.verified, 0)::text, coalesce(a.in_effect, 0)::text,
                   (coalesce(g.signals, 0) >= \(minimum) AND coalesce(c.verified, 0) + coalesce(a.in_effect, 0) = 0)::text
            FROM stages st
            LEFT JOIN facilitating f ON f.stage = st.stage LEFT JOIN opportunities o ON o.stage = st.stage
            LEFT JOIN signalled g ON g.stage = st.stage LEFT JOIN shared h ON h.stage = st.stage
            LEFT JOIN commitments c ON c.stage = st.stage LEFT JOIN actions a ON a.stage = st.stage
            ORDER BY st.o
            """
        return Self.query(sql, binds)
    }

    func model(_ filter: ReportFilter, gapRule: MatrixGapRule) async throws -> ReportTable {
        try await table(
            "model", "The barrier model: facilitators, opportunities, signals, partners and barriers per stage",
            "Per stage of the criminal business process, as the EUCPN paper draws the model: the facilitators (sectors with suppliers "
                + "serving the stage, and how many), the opportunities of the paper, the signals observed in the period's months, the partners "
                + "(suppliers cooperating, by sector, and the agencies this agency shares that stage's signals with) and the barriers "
                + "(measures committed and verified, restrictive actions in effect). A gap has at least \(gapRule.minimumSignals) signals "
                + "and no barrier: no verified measure and no action in effect.",
            columns: [("stage", false), ("suppliers", true), ("facilitators", false), ("opportunities", false), ("signals", true),
                      ("cooperating_suppliers", true), ("partners", false), ("partner_agencies", true), ("measures_committed", true),
                      ("measures_verified", true), ("actions_in_effect", true), ("gap", true)],
            modelSQL(filter, gapRule: gapRule))
    }

    // MARK: Signals


    func signalsMonthlySQL(_ filter: ReportFilter) -> PostgresQuery {
        var binds = SQLBinds()
        let (from, to) = Self.period(filter, &binds)
        let sector = binds.add(filter.sector ?? "*"), country = binds.add(filter.country ?? "*")
        let stage = filter.stage.map { " AND stage = \(binds.add($0.rawValue))" } ?? ""
        let sql = """
            SELECT to_char(month, 'YYYY-MM'), type, stage, sum(signals)::text FROM signal_tally
            WHERE agency_id = (SELECT current_agency()) AND sector = \(sector) AND country = \(country) AND month BETWEEN date_trunc('month', \(from))::date AND \(to)\(stage)
            GROUP BY month, type, stage HAVING sum(signals) <> 0 ORDER BY month, type, stage
            """
        return Self.query(sql, binds)
    }

    func signalsMonthly(_ filter: ReportFilter) async throws -> ReportTable {
        try await table("monthly", "Signals by type and stage, month by month",
                        "Signals observed in the period's months (their current version), by month, type and stage; "
                            + "with a sector or country, the signals about a supplier of it.",
                        columns: [("month", false), ("type", false), ("stage", false), ("signals", true)], signalsMonthlySQL(filter))
    }
}

extension ReportStore {
    /// What the home page counts for the task's agency: the work waiting.
    public struct Dashboard: Sendable, Equatable {
        public var lettersOverdue = 0
        public var actionsWaitingForDecision = 0
        /// Of those, the ones the user proposed: another officer must decide them.
        public var actionsWaitingForSecondOfficer = 0
        public var commitmentsLapsed = 0
        public var campaignsInProgress = 0
        public var emailsFailed = 0
        public var emailsUncertain = 0
    }

    public func dashboard(userID: UUID) async throws -> Dashboard {
        let open = LicensingActionStatus.allCases.filter { $0.canMove(to: .decided) }.map(\.rawValue)
        let rows = try await db.query(
            """
            SELECT (SELECT count(*)::int FROM letters WHERE agency_id = (SELECT current_agency()) AND status IN ('sent', 'delivered')
                        AND response_deadline < current_date),
                   (SELECT count(*)::int FROM licensing_actions WHERE agency_id = (SELECT current_agency()) AND status = ANY(\(open))),
                   (SELECT count(*)::int FROM licensing_actions WHERE agency_id = (SELECT current_agency()) AND status = ANY(\(open))
                        AND proposed_by = \(userID)),
                   (SELECT count(*)::int FROM measure_commitments WHERE agency_id = (SELECT current_agency()) AND status <> 'verified'
                        AND due_on < current_date),
                   (SELECT count(*)::int FROM campaigns WHERE agency_id = (SELECT current_agency()) AND status = 'generating'),
                   (SELECT count(*)::int FROM letter_emails e JOIN letters l ON l.id = e.letter_id
                        WHERE l.agency_id = (SELECT current_agency()) AND e.state = 'failed'),
                   (SELECT count(*)::int FROM letter_emails e JOIN letters l ON l.id = e.letter_id
                        WHERE l.agency_id = (SELECT current_agency()) AND e.state = 'uncertain')
            """)
        var d = Dashboard()
        for try await r in rows.decode((Int, Int, Int, Int, Int, Int, Int).self) {
            d = Dashboard(lettersOverdue: r.0, actionsWaitingForDecision: r.1, actionsWaitingForSecondOfficer: r.2, commitmentsLapsed: r.3,
                          campaignsInProgress: r.4, emailsFailed: r.5, emailsUncertain: r.6)
        }
        return d
    }
}
