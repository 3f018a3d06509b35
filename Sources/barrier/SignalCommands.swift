import ArgumentParser
import BarrierCore
import BarrierServer
import BarrierStore
import Foundation

/// The fields of a signal as options, shared by `add` and `correct`.
struct SignalOptions: ParsableArguments {
    @Option(name: .customLong("facilitator"), help: "A supplier it concerns (repeatable).") var facilitators: [String] = []
    @Option(help: "financial, social, logistical, physical or administrative.") var type: String
    @Option(help: "setting_up_marketplace, running_marketplace, selling or shipping.") var stage: String
    @Option(help: "An indicator code of the catalogue (barrier signal indicators).") var indicator: String?
    @Option(name: .customLong("indicator-text"), help: "An indicator outside the catalogue, in words.") var indicatorText: String?
    @Option(name: .customLong("observed-on"), help: "The day it was observed (YYYY-MM-DD).") var observedOn: String
    @Option(help: "Where it was observed or who reported it.") var source: String
    @Option(help: "Who records it.") var reporter: String
    @Option var description: String = ""

    func draft() throws -> SignalDraft {
        let type: SignalType = try vocabulary(type, option: "type")
        let stage: Stage = try vocabulary(stage, option: "stage")
        return SignalDraft(type: type, stage: stage, indicatorCode: indicator, indicatorText: indicatorText, observedOn: observedOn,
                           source: source, reporter: reporter, description: description, facilitatorIDs: facilitators.map { $0.lowercased() })
    }
}

struct SignalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signal", abstract: "Record signals tied to suppliers, correct them (as new versions) and attach evidence.",
        subcommands: [Add.self, List.self, Show.self, Correct.self, Attach.self, Indicators.self])

    struct Add: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Record a signal; prints its id.")
        @OptionGroup var fields: SignalOptions

        func execute() async throws {
            let draft = try fields.draft()
            let json = try await withMigratedDatabase { db in try await SignalStore(db).create(draft, actor: try caseworkActor()).json }
            say(jsonObject(json)["id"] as? String ?? json)
        }
    }

    struct List: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "List signals, newest observation first.")
        @Option var facilitator: String?
        @Option var type: String?
        @Option var stage: String?

        func execute() async throws {
            let facilitator = try self.facilitator.map { try parseID($0, "supplier") }
            let t: SignalType? = try vocabulary(type, option: "type")
            let s: Stage? = try vocabulary(stage, option: "stage")
            let items = try await withMigratedDatabase { db in try await SignalStore(db).list(facilitatorID: facilitator, type: t, stage: s) }
            printTable(["ID", "OBSERVED", "TYPE", "STAGE", "INDICATOR"], items.map { json in
                let o = jsonObject(json)
                return ["id", "observed_on", "type", "stage", "indicator_label"].map { o[$0] as? String ?? "" }
            })
        }
    }

    struct Show: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Print a signal's current version.")
        @Argument var id: String

        func execute() async throws {
            let id = try parseID(self.id, "signal")
            say(prettyJSON(try await withMigratedDatabase { db in try await SignalStore(db).get(id).json }))
        }
    }

    struct Correct: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Restate a signal as a new version, with the reason for the correction.")
        @Argument var id: String
        @OptionGroup var fields: SignalOptions
        @Option(help: "What was wrong.") var reason: String

        func execute() async throws {
            let id = try parseID(self.id, "signal")
            let (draft, reason) = (try fields.draft(), self.reason)
            let version = try await withMigratedDatabase { db in
                let store = SignalStore(db)
                return try await store.correct(id, draft, reason: reason, expectedVersion: try await store.get(id).version, actor: try caseworkActor()).version
            }
            say("version \(version)")
        }
    }

    struct Attach: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Attach an evidence file (PDF, text, PNG, JPEG, e-mail or DOCX).")
        @Argument var id: String
        @Argument var file: String

        func execute() async throws {
            let id = try parseID(self.id, "signal")
            let document = try uploadedDocument(file)
            _ = try await withMigratedDatabase { db in try await SignalStore(db).attach(id, document, actor: try caseworkActor()) }
            say("attached \(document.name) (SHA-256 \(document.sha256.map { String(format: "%02x", $0) }.joined()))")
        }
    }

    struct Indicators: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "The indicator catalogue.")

        func execute() async throws {
            let json = try await withMigratedDatabase { db in try await SignalStore(db).indicators() }
            let items = ((try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [[String: Any]]) ?? []
            printTable(["INDICATOR", "TYPE", "STAGE", "LABEL"], items.map { o in ["code", "type", "stage", "label"].map { o[$0] as? String ?? "" } })
        }
    }
}
