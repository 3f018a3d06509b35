import ArgumentParser
import BarrierCore
import BarrierLetters
import BarrierServer
import BarrierStore
import Foundation

struct CampaignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign", abstract: "Letter campaigns over a saved filter of suppliers.",
        subcommands: [Create.self, List.self, Show.self, Preview.self, Approve.self, Zip.self, Manifest.self])

    struct Create: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Save a campaign (a draft); prints its id.")
        @Option(help: "The campaign's name.") var name: String
        @Option var sector: String?
        @Option var country: String?
        @Option var stage: String?
        @Option var market: String?
        @Option var status: String?
        @Option(help: "Fuzzy search in names and aliases.") var q: String?
        @Option(name: .customLong("language"), help: "COUNTRY=LANGUAGE, e.g. BE=fr (repeatable); others by the built-in rule.")
        var languages: [String] = []
        @Option(name: .customLong("supplier-language"), help: "SUPPLIER_ID=LANGUAGE (repeatable).") var supplierLanguages: [String] = []
        @Option(name: .customLong("response-days")) var responseDays: Int?
        @Option(help: "Agency name or id (default: the only agency).") var agency: String?

        func execute() async throws {
            var filter: [String: String] = [:]
            for (key, value) in [("sector", sector), ("country", country), ("stage", stage), ("market", market), ("status", status), ("q", q)] {
                if let value { filter[key] = value }
            }
            func pairs(_ items: [String], _ option: String) throws -> [(String, LetterLanguage)] {
                try items.map { item in
                    let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2, let language = LetterLanguage(rawValue: parts[1]) else {
                        throw CLIFailure(description: "--\(option) takes KEY=LANGUAGE with a language of en, fr, nl, de; not '\(item)'")
                    }
                    return (parts[0], language)
                }
            }
            let byCountry = Dictionary(try pairs(languages, "language").map { ($0.0.uppercased(), $0.1) }, uniquingKeysWith: { $1 })
            let overrides = Dictionary(try pairs(supplierLanguages, "supplier-language").map { (try parseID($0.0, "supplier"), $0.1) }, uniquingKeysWith: { $1 })
            let draft = CampaignStore.Draft(name: name, filter: filter, languageByCountry: byCountry, languageOverrides: overrides, responseDays: responseDays)
            let agency = self.agency
            let record = try await withLetters { db, letters in
                try await CampaignStore(db, letters: letters).create(draft, agencyID: try await resolveAgency(db, agency), actor: try caseworkActor())
            }
            say(record.id.uuidString.lowercased())
        }
    }

    struct List: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "List campaigns with their progress.")

        func execute() async throws {
            let items = try await withLetters { db, letters in try await CampaignStore(db, letters: letters).list() }
            printTable(["ID", "NAME", "STATUS", "LETTERS", "PDFS"], items.map { json in
                let o = jsonObject(json)
                let p = (o["progress"] as? [String: Any]) ?? [:]
                return [o["id"] as? String ?? "", o["name"] as? String ?? "", o["status"] as? String ?? "",
                        "\(p["letters_done"] as? Int ?? 0)/\(p["letters_total"] as? Int ?? 0)", "\(p["pdfs_done"] as? Int ?? 0)"]
            })
        }
    }

    struct Show: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Print a campaign's JSON document.")
        @Argument var id: String

        func execute() async throws {
            let id = try parseID(self.id, "campaign")
            say(prettyJSON(try await withLetters { db, letters in try await CampaignStore(db, letters: letters).get(id).json }))
        }
    }

    struct Preview: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "How many letters approving would write, and the first ones as text.")
        @Argument var id: String
        @Option var sample: Int = 1

        func execute() async throws {
            let id = try parseID(self.id, "campaign")
            guard (0...20).contains(sample) else { throw CLIFailure(description: "--sample must be from 0 to 20") }
            let sample = self.sample
            let json = try await withLetters { db, letters in try await CampaignStore(db, letters: letters).preview(id, sample: sample) }
            let o = jsonObject(json)
            say("\(o["letters"] as? Int ?? 0) letter(s); \(o["skipped_without_address"] as? Int ?? 0) supplier(s) skipped for lack of a postal address")
            for letter in (o["sample"] as? [[String: Any]]) ?? [] {
                say("\n----- \(letter["supplier_name"] as? String ?? "") (\(letter["template"] as? String ?? "")) -----")
                say(letter["text"] as? String ?? "")
            }
        }
    }

    struct Approve: BarrierCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a campaign and write its letters, with a progress bar (a running server may take part in the work).")
        @Argument var id: String

        func execute() async throws {
            let id = try parseID(self.id, "campaign")
            try await withLetters { db, letters in
                let campaigns = CampaignStore(db, letters: letters)
                let current = try await campaigns.get(id)
                _ = try await campaigns.approve(id, expectedVersion: current.version, actor: try caseworkActor())
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { while try await campaigns.runNextJob() {} }
                    group.addTask {
                        while true {
                            let o = jsonObject(try await campaigns.get(id).json)
                            let p = (o["progress"] as? [String: Any]) ?? [:]
                            let total = p["letters_total"] as? Int ?? 0, done = p["letters_done"] as? Int ?? 0, pdfs = p["pdfs_done"] as? Int ?? 0
                            progressBar("letters", done, total)
                            progressBar("PDFs", pdfs, total, sameLine: false)
                            let status = o["status"] as? String ?? ""
                            if status == "failed" { throw CLIFailure(description: "the campaign failed: \(o["last_error"] as? String ?? "")") }
                            if status == "generated" && pdfs >= total { break }
                            try await Task.sleep(for: .milliseconds(300))
                        }
                    }
                    try await group.waitForAll()
                }
                FileHandle.standardError.write(Data("\n".utf8))
            }
            say("approved; download with: barrier campaign zip \(id.uuidString.lowercased())")
        }
    }

    struct Zip: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Write a ZIP of the campaign's PDFs and its manifest.")
        @Argument var id: String
        @Option(help: "The file to write (default: campaign-<id>.zip).") var output: String?

        func execute() async throws {
            let id = try parseID(self.id, "campaign")
            let path = output ?? "campaign-\(id.uuidString.lowercased()).zip"
            try await withLetters { db, letters in try await CampaignStore(db, letters: letters).writeZIP(id, to: path) }
            say(path)
        }
    }

    struct Manifest: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Print the campaign's manifest (CSV: reference, supplier, address, SHA-256).")
        @Argument var id: String

        func execute() async throws {
            let id = try parseID(self.id, "campaign")
            let data = try await withLetters { db, letters in try await CampaignStore(db, letters: letters).manifest(id) }
            FileHandle.standardOutput.write(data)
        }
    }
}

/// `letters [##########----------] 512/1000` on stderr, redrawn in place.
func progressBar(_ label: String, _ done: Int, _ total: Int, sameLine: Bool = true) {
    let width = 30
    let filled = total == 0 ? 0 : min(width, done * width / total)
    let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
    let text = "\(label.padding(toLength: 8, withPad: " ", startingAt: 0)) [\(bar)] \(done)/\(total)"
    FileHandle.standardError.write(Data((sameLine ? "\r" + text : "  " + text).utf8))
}
