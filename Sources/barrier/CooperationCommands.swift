import ArgumentParser
import BarrierCore
import BarrierServer
import BarrierStore
import Foundation


struct CooperationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cooperation", abstract: "A supplier's cooperation level, its history, contacts and measures.",
        subcommands: [Show.self, Set.self, Contact.self, Contacts.self, Catalogue.self, Commit.self, Measures.self, Implemented.self, Verified.self])

    struct Show: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Print the supplier's level and its history.")
        @Argument(help: "The supplier's id.") var facilitator: String

        func execute() async throws {
            let id = try parseID(facilitator, "supplier")
            say(prettyJSON(try await withMigratedDatabase { db in try await CooperationStore(db).level(id).json }))
        }
    }

    struct Set: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Change the supplier's level, with the reason.")
        @Argument(help: "The supplier's id.") var facilitator: String
        @Option(help: "informed, engaged, cooperating, partially_cooperating, unresponsive or refusing.") var level: String
        @Option(help: "Why the level changes.") var reason: String
        @Option(help: "The letter it rests on.") var letter: String?
        @Option(help: "The logged contact it rests on.") var contact: String?

        func execute() async throws {
            let level: CooperationLevel = try vocabulary(level, option: "level")
            let id = try parseID(facilitator, "supplier")
            let (letterID, contactID) = (try letter.map { try parseID($0) }, try contact.map { try parseID($0, "contact") })
            let reason = self.reason
            let json = try await withMigratedDatabase { db in
                let store = CooperationStore(db)
                let current = try await store.level(id)
                return try await store.change(id, to: level, reason: reason, letterID: letterID, contactID: contactID,
                                              expectedVersion: current.version, actor: try caseworkActor()).json
            }
            say("level: \(jsonObject(json)["level"] as? String ?? "")")
        }
    }

    struct Contact: BarrierCommand {
        static let configuration = CommandConfiguration(commandName: "contact", abstract: "Log a meeting, call, e-mail or visit; prints its id.")
        @Argument(help: "The supplier's id.") var facilitator: String
        @Option(help: "meeting, call, email, letter, visit or other.") var kind: String
        @Option(help: "The day (YYYY-MM-DD).") var on: String
        @Option(name: .customLong("participant"), help: "Who took part (repeatable).") var participants: [String] = []
        @Option var notes: String = ""

        func execute() async throws {
            let kind: ContactKind = try vocabulary(kind, option: "kind")
            let id = try parseID(facilitator, "supplier")
            let (day, people, notes) = (on, participants, self.notes)
            let json = try await withMigratedDatabase { db in
                try await CooperationStore(db).addContact(id, kind: kind, on: day, participants: people, notes: notes, actor: try caseworkActor())
            }
            say(jsonObject(json)["id"] as? String ?? json)
        }
    }

    struct Contacts: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "The contacts log of a supplier, newest first.")
        @Argument(help: "The supplier's id.") var facilitator: String

        func execute() async throws {
            let id = try parseID(facilitator, "supplier")
            say(prettyJSON(try await withMigratedDatabase { db in try await CooperationStore(db).contacts(id) }))
        }
    }

    struct Catalogue: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "The measures the authority asks for (of one sector).")
        @Option var sector: String?

        func execute() async throws {
            let sector = self.sector
            let json = try await withMigratedDatabase { db in try await CooperationStore(db).catalogue(sector: sector) }
            let items = ((try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [[String: Any]]) ?? []
            printTable(["MEASURE", "LABEL"], items.map { [$0["code"] as? String ?? "", $0["label"] as? String ?? ""] })
        }
    }

    struct Commit: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Record a measure the supplier committed to; prints the commitment's id.")
        @Argument(help: "The supplier's id.") var facilitator: String
        @Option(help: "The measure's code (see catalogue).") var measure: String
        @Option(name: .customLong("committed-on")) var committedOn: String
        @Option(name: .customLong("due-on")) var dueOn: String
        @Option(help: "The letter the commitment answers.") var letter: String?

        func execute() async throws {
            let id = try parseID(facilitator, "supplier")
            let letterID = try letter.map { try parseID($0) }
            let (measure, committed, due) = (self.measure, committedOn, dueOn)
            let json = try await withMigratedDatabase { db in
                try await CooperationStore(db).commit(id, measure: measure, committedOn: committed, dueOn: due, letterID: letterID, actor: try caseworkActor()).json
            }
            say(jsonObject(json)["id"] as? String ?? json)
        }
    }

    struct Measures: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "The supplier's commitments (lapsed ones shown as lapsed).")
        @Argument(help: "The supplier's id.") var facilitator: String

        func execute() async throws {
            let id = try parseID(facilitator, "supplier")
            let json = try await withMigratedDatabase { db in try await CooperationStore(db).commitments(id) }
            let items = ((try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [[String: Any]]) ?? []
            printTable(["ID", "MEASURE", "STATUS", "DUE"], items.map {
                [$0["id"] as? String ?? "", $0["measure"] as? String ?? "", $0["status"] as? String ?? "", $0["due_on"] as? String ?? ""]
            })
        }
    }

    struct Implemented: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Record that a committed measure was implemented.")
        @Argument(help: "The commitment's id.") var commitment: String
        @Option var on: String

        func execute() async throws { try await step(commitment, .implemented, on, nil) }
    }

    struct Verified: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Record that a measure was verified, and how.")
        @Argument(help: "The commitment's id.") var commitment: String
        @Option var on: String
        @Option(help: "How it was verified.") var method: String

        func execute() async throws { try await step(commitment, .verified, on, method) }
    }
}

func step(_ commitment: String, _ status: MeasureStatus, _ day: String, _ method: String?) async throws {
    let id = try parseID(commitment, "commitment")
    let json = try await withMigratedDatabase { db in
        let store = CooperationStore(db)
        let version = try await store.commitmentVersion(id)
        return try await store.record(id, status: status, on: day, method: method, expectedVersion: version, actor: try caseworkActor()).json
    }
    say(jsonObject(json)["status"] as? String ?? json)
}
