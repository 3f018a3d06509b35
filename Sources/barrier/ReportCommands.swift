import ArgumentParser
import BarrierCore
import BarrierStore
import Foundation

struct ReportCommand: BarrierCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print a report as aligned tables (or one table as CSV): cooperation, funnel, licensing, matrix or signals.")

    @Argument(help: "cooperation, funnel, licensing, matrix or signals.") var kind: String
    @Option(help: "First day of the period (YYYY-MM-DD); default: twelve months back.") var from: String?
    @Option(help: "Last day of the period; default: today.") var to: String?
    @Option var sector: String?
    @Option var country: String?
    @Option var stage: String?
    @Option(help: "The agency whose figures to show (name or id; the operator's choice, default the only one). With BARRIER_TOKEN: the user's own.")
    var agency: String?
    @Option(help: "cooperation: group by sector, country or stage.") var by: String = "sector"
    @Option(name: .customLong("gap-signals"), help: "matrix: signals that make a gap.") var gapSignals: Int = 5
    @Option(name: .customLong("gap-share"), help: "matrix: share cooperating under which a cell is a gap.") var gapShare: Double = 0.25
    @Option(help: "Only this table.") var table: String?
    @Flag(help: "Print the table as CSV (with --table).") var csv = false

    func execute() async throws {
        let kind: ReportKind = try vocabulary(kind, option: "kind")
        let dimension: ReportDimension = try vocabulary(by, option: "by")
        let stage: Stage? = try vocabulary(self.stage, option: "stage")
        guard gapSignals >= 1 else { throw CLIFailure(description: "--gap-signals must be at least 1") }
        guard (0...1).contains(gapShare) else { throw CLIFailure(description: "--gap-share must be a share from 0 to 1") }
        if csv && table == nil { throw CLIFailure(description: "--csv prints one table: name it with --table") }
        let (from, to, sector, country, agency, rule, only, csv) = (self.from, self.to, self.sector, self.country?.uppercased(), self.agency,
                                                                  MatrixGapRule(minimumSignals: gapSignals, maximumShareCooperating: gapShare), table, self.csv)
        let report = try await withMigratedDatabase { db in
            // A report is one agency's figures, counted as that agency.
            let agencyID = try await resolveAgency(db, agency)
            return try await AgencyScope.with(agencyID) {
                try await ReportStore(db).report(kind, ReportFilter(from: from, to: to, sector: sector, country: country, stage: stage),
                                                 by: dimension, gapRule: rule)
            }
        }
        var tables = report.tables
        if let only {
            tables = tables.filter { $0.name == only }
            if tables.isEmpty {
                throw CLIFailure(description: "--table: the \(kind.rawValue) report has \(report.tables.map(\.name).joined(separator: ", "))")
            }
        }
        if csv {
            FileHandle.standardOutput.write(try tables[0].csv())
            return
        }
        for (i, table) in tables.enumerated() {
            if i > 0 { say("") }
            say("\(table.title) [\(table.name)]")
            printTable(table.columns.map { $0.name.uppercased() }, table.rows.map { $0.map { $0 ?? "" } })
        }
    }
}

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Action plans and their progress (write them through POST /api/v1/action-plans).",
        subcommands: [List.self, Show.self])

    struct List: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "List the action plans.")

        func execute() async throws {
            let items = try await withMigratedDatabase { db in try await ActionPlanStore(db).list() }
            printTable(["ID", "TITLE", "FROM", "TO", "MEASURES DONE", "NEXT EVALUATION"], items.map { json in
                let o = jsonObject(json)
                return [o["id"] as? String ?? "", o["title"] as? String ?? "", o["starts_on"] as? String ?? "", o["ends_on"] as? String ?? "",
                        "\(o["measures_done"] ?? 0)/\(o["measures_total"] ?? 0)", o["next_evaluation"] as? String ?? ""]
            })
        }
    }

    struct Show: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "A plan's indicators against their targets, and its measures.")
        @Argument var id: String

        func execute() async throws {
            let id = try parseID(self.id, "action plan")
            let o = jsonObject(try await withMigratedDatabase { db in try await ActionPlanStore(db).get(id).json })
            say("\(o["title"] as? String ?? "") (\(o["starts_on"] as? String ?? "") – \(o["ends_on"] as? String ?? ""))")
            func text(_ value: Any?) -> String {
                switch value {
                case let n as NSNumber: return n.stringValue
                case let s as String: return s
                default: return ""
                }
            }
            printTable(["INDICATOR", "METRIC", "TARGET", "MEASURED", "PROGRESS"], (o["indicators"] as? [[String: Any]] ?? []).map { x in
                [text(x["name"]), text(x["metric"]), text(x["target"]), text(x["measured"]),
                 (x["progress"] as? NSNumber).map { "\(Int(($0.doubleValue * 100).rounded()))%" } ?? ""]
            })
            say("")
            printTable(["#", "MEASURE", "STATUS", "DUE"], (o["measures"] as? [[String: Any]] ?? []).map { m in
                [text(m["position"]), text(m["description"]), text(m["status"]), text(m["due_on"])]
            })
        }
    }
}
