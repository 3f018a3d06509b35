import ArgumentParser
import BarrierCore
import BarrierStore
import Foundation

/// One step on an existing action, at its current version, as BARRIER_TOKEN's
/// user (the four-eyes rule tells proposer and decider apart by it).
func licensingStep(_ id: String,
                   _ body: @Sendable @escaping (LicensingStore, UUID, Int, Actor) async throws -> LicensingStore.Record) async throws {
    let id = try parseID(id, "licensing action")
    let json = try await withLetters { db, letters in
        let store = LicensingStore(db, letters: letters)
        let actor = try caseworkActor()
        return try await body(store, id, try await store.get(id).version, actor).json
    }
    let o = jsonObject(json)
    say("\(o["status"] as? String ?? "") \(o["type"] as? String ?? "") \(o["supplier_name"] as? String ?? "")")
}

struct LicensingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "licensing",
        abstract: "Licensing actions: propose, send the notice of intent, decide (due-process guard, four eyes), appeal, lift; the public register.",
        subcommands: [Propose.self, List.self, Show.self, DueProcessCheck.self, Link.self, Notice.self, Decide.self, Withdraw.self,
                      Appeal.self, AppealOutcomeCommand.self, InterimRelief.self, ReferralOutcomeCommand.self, Lift.self, Ladder.self, Register.self,
                      Sweep.self])

    struct Propose: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Propose a licensing action; prints its id.")
        @Option(name: .customLong("facilitator"), help: "The supplier.") var facilitator: String
        @Option(help: "warning, conditions, fine, suspension, revocation or referral.") var type: String
        @Option(name: .customLong("legal-basis"), help: "The provision the action rests on.") var legalBasis: String
        @Option(help: "Why: the facts relied on.") var rationale: String
        @Option(help: "The conditions (type conditions).") var conditions: String?
        @Option(name: .customLong("amount-minor"), help: "A fine in minor units (2500000 = 25,000.00).") var amountMinor: Int64?
        @Option(help: "The fine's ISO 4217 currency (EUR).") var currency: String?
        @Option(name: .customLong("effective-from")) var effectiveFrom: String?
        @Option(name: .customLong("effective-to")) var effectiveTo: String?
        @Option(name: .customLong("signal"), help: "Evidence: a signal about this supplier (repeatable).") var signals: [String] = []
        @Option(help: "Why a harsher step than the ladder suggests.") var justification: String?
        @Option(help: "The agency (name or id), when there are several.") var agency: String?

        func execute() async throws {
            let type: LicensingActionType = try vocabulary(type, option: "type")
            let draft = LicensingActionDraft(
                facilitatorID: facilitator.lowercased(), type: type, legalBasis: legalBasis, rationale: rationale, conditions: conditions,
                amountMinor: amountMinor, currency: currency, effectiveFrom: effectiveFrom, effectiveTo: effectiveTo,
                signalIDs: signals.map { $0.lowercased() }, ladderJustification: justification)
            let agency = self.agency
            let record = try await withLetters { db, letters in
                let actor = try caseworkActor()
                return try await LicensingStore(db, letters: letters).propose(draft, agencyID: try await resolveAgency(db, agency), actor: actor)
            }
            say(record.id.uuidString.lowercased())
        }
    }

    struct List: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "List licensing actions, newest proposal first.")
        @Option var facilitator: String?
        @Option var status: String?
        @Option var type: String?

        func execute() async throws {
            let facilitator = try self.facilitator.map { try parseID($0, "supplier") }
            let s: LicensingActionStatus? = try vocabulary(status, option: "status")
            let t: LicensingActionType? = try vocabulary(type, option: "type")
            let items = try await withLetters { db, letters in
                try await LicensingStore(db, letters: letters).list(facilitatorID: facilitator, status: s, type: t)
            }
            printTable(["ID", "STATUS", "TYPE", "SUPPLIER", "DECIDED"], items.map { json in
                let o = jsonObject(json)
                return ["id", "status", "type", "supplier_name", "decided_on"].map { o[$0] as? String ?? "" }
            })
        }
    }

    struct Show: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Print a licensing action with its evidence, letters, appeal and history.")
        @Argument var id: String

        func execute() async throws {
            let id = try parseID(self.id, "licensing action")
            say(prettyJSON(try await withLetters { db, letters in try await LicensingStore(db, letters: letters).get(id).json }))
        }
    }

    struct DueProcessCheck: BarrierCommand {
        static let configuration = CommandConfiguration(
            commandName: "due-process", abstract: "Whether the action could be decided today; each missing element of the record.")
        @Argument var id: String

        func execute() async throws {
            let id = try parseID(self.id, "licensing action")
            let o = jsonObject(try await withLetters { db, letters in try await LicensingStore(db, letters: letters).dueProcess(id) })
            let gaps = o["gaps"] as? [[String: Any]] ?? []
            say(gaps.isEmpty ? "ready: the record is complete" : "not ready: \(gaps.count) element(s) missing")
            for gap in gaps { say("  \(gap["code"] as? String ?? ""): \(gap["message"] as? String ?? "")") }
            say("ladder suggests: \(o["suggested_type"] as? String ?? "")" + ((o["needs_justification"] as? Bool) == true ? " (a harsher step needs --justification)" : ""))
        }
    }

    struct Link: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Link more evidence (signals about the supplier) to an undecided action.")
        @Argument var id: String
        @Option(name: .customLong("signal"), help: "A signal id (repeatable).") var signals: [String]

        func execute() async throws {
            let signals = self.signals.map { $0.lowercased() }
            try await licensingStep(id) { store, id, version, actor in
                try await store.linkSignals(id, signals, expectedVersion: version, actor: actor)
            }
        }
    }

    struct Notice: BarrierCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the notice of intent (a draft letter: approve and send it with barrier letter …).")
        @Argument var id: String
        @Option(name: .customLong("response-days"), help: "Days to respond (default: the agency's).") var responseDays: Int?
        @Option(help: "en, fr, nl or de (default: by the supplier's country).") var language: String?

        func execute() async throws {
            let language: LetterLanguage? = try vocabulary(self.language, option: "language")
            let days = responseDays
            try await licensingStep(id) { store, id, version, actor in
                try await store.issueNoticeOfIntent(id, responseDays: days, language: language, expectedVersion: version, actor: actor)
            }
        }
    }

    struct Decide: BarrierCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decide the action (not by its proposer); refused with each missing element while due process is incomplete.")
        @Argument var id: String
        @Option(name: .customLong("effective-from")) var effectiveFrom: String?
        @Option(name: .customLong("effective-to")) var effectiveTo: String?
        @Option(help: "Why a harsher step than the ladder suggests.") var justification: String?
        @Option(help: "Language of the decision letter.") var language: String?

        func execute() async throws {
            let language: LetterLanguage? = try vocabulary(self.language, option: "language")
            let decision = LicensingStore.Decision(effectiveFrom: effectiveFrom, effectiveTo: effectiveTo, ladderJustification: justification,
                                                   language: language)
            try await licensingStep(id) { store, id, version, actor in
                try await store.decide(id, decision, expectedVersion: version, actor: actor)
            }
        }
    }

    struct Withdraw: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Withdraw a proposal that is not decided.")
        @Argument var id: String
        @Option var reason: String

        func execute() async throws {
            let reason = self.reason
            try await licensingStep(id) { store, id, version, actor in
                try await store.withdraw(id, reason: reason, expectedVersion: version, actor: actor)
            }
        }
    }

    struct Appeal: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Record an appeal; the action's effect is suspended until its outcome.")
        @Argument var id: String
        @Option(name: .customLong("lodged-on"), help: "The day it was lodged (YYYY-MM-DD).") var lodgedOn: String
        @Option var grounds: String

        func execute() async throws {
            let (day, grounds) = (lodgedOn, self.grounds)
            try await licensingStep(id) { store, id, version, actor in
                try await store.appeal(id, lodgedOn: day, grounds: grounds, expectedVersion: version, actor: actor)
            }
        }
    }

    struct AppealOutcomeCommand: BarrierCommand {
        static let configuration = CommandConfiguration(commandName: "appeal-outcome",
                                                        abstract: "Record the outcome of the appeal's pending stage: upheld, varied (with new terms) or overturned.")
        @Argument var id: String
        @Option(help: "upheld, varied or overturned.") var outcome: String
        @Option(name: .customLong("decided-on")) var decidedOn: String
        @Option var reason: String
        @Option(name: .customLong("notified-on"), help: "The day the outcome reached the supplier (where the next remedy runs from it).")
        var notifiedOn: String?
        @Option(name: .customLong("amount-minor"), help: "varied: the fine's new amount in minor units.") var amountMinor: Int64?
        @Option(name: .customLong("effective-from"), help: "varied: the new first day.") var effectiveFrom: String?
        @Option(name: .customLong("effective-to"), help: "varied: the new last day.") var effectiveTo: String?
        @Option(help: "varied: the new conditions.") var conditions: String?

        func execute() async throws {
            let outcome: AppealOutcome = try vocabulary(outcome, option: "outcome")
            let (day, reason, notified) = (decidedOn, self.reason, notifiedOn)
            let terms = VariedTerms(amountMinor: amountMinor, effectiveFrom: effectiveFrom, effectiveTo: effectiveTo, conditions: conditions)
            try await licensingStep(id) { store, id, version, actor in
                try await store.decideAppeal(id, outcome: outcome, on: day, reason: reason, terms: terms.isEmpty ? nil : terms, notifiedOn: notified,
                                             expectedVersion: version, actor: actor)
            }
        }
    }

    struct InterimRelief: BarrierCommand {
        static let configuration = CommandConfiguration(commandName: "interim-relief",
                                                        abstract: "Record an order suspending an appealed action until the pending stage is decided.")
        @Argument var id: String
        @Option(name: .customLong("ordered-on")) var orderedOn: String
        @Option(name: .customLong("ordered-by"), help: "The court or body that ordered it.") var orderedBy: String
        @Option var reason: String

        func execute() async throws {
            let (day, by, reason) = (orderedOn, orderedBy, self.reason)
            try await licensingStep(id) { store, id, version, actor in
                try await store.interimRelief(id, orderedOn: day, orderedBy: by, reason: reason, expectedVersion: version, actor: actor)
            }
        }
    }

    struct ReferralOutcomeCommand: BarrierCommand {
        static let configuration = CommandConfiguration(commandName: "referral-outcome",
                                                        abstract: "Record what the competent authority did with a referral.")
        @Argument var id: String
        @Option(help: "action_taken, no_action or declined.") var outcome: String
        @Option(name: .customLong("concluded-on")) var concludedOn: String
        @Option var note: String

        func execute() async throws {
            let outcome: ReferralOutcome = try vocabulary(outcome, option: "outcome")
            let (day, note) = (concludedOn, self.note)
            try await licensingStep(id) { store, id, version, actor in
                try await store.concludeReferral(id, outcome: outcome, on: day, note: note, expectedVersion: version, actor: actor)
            }
        }
    }

    struct Lift: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Lift an action in force before its end.")
        @Argument var id: String
        @Option var reason: String
        @Option(name: .customLong("lifted-on")) var liftedOn: String?

        func execute() async throws {
            let (day, reason) = (liftedOn, self.reason)
            try await licensingStep(id) { store, id, version, actor in
                try await store.lift(id, on: day, reason: reason, expectedVersion: version, actor: actor)
            }
        }
    }

    struct Ladder: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "The step the proportionality ladder suggests for a supplier, and its record.")
        @Argument var facilitator: String

        func execute() async throws {
            let id = try parseID(facilitator, "supplier")
            let o = jsonObject(try await withLetters { db, letters in try await LicensingStore(db, letters: letters).ladder(facilitatorID: id) })
            say("suggested: \(o["suggested_type"] as? String ?? "")")
            let record = o["record"] as? [[String: Any]] ?? []
            if !record.isEmpty {
                printTable(["DECIDED", "TYPE", "STATUS", "ID"], record.map { r in ["decided_on", "type", "status", "id"].map { r[$0] as? String ?? "" } })
            }
        }
    }

    struct Register: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "The public register: final restrictive actions.")
        @Flag(help: "Print CSV, as /public/register.csv serves it.") var csv = false

        func execute() async throws {
            let csv = self.csv
            if csv {
                let data = try await withLetters { db, letters in try await LicensingStore(db, letters: letters).publicRegisterCSV() }
                FileHandle.standardOutput.write(data)
                return
            }
            let items = try await withLetters { db, letters in try await LicensingStore(db, letters: letters).publicRegister() }
            printTable(["DECIDED", "SUPPLIER", "COUNTRY", "TYPE", "STATUS", "FROM", "TO", "AMOUNT"], items.map { item in
                let value = { (key: String) -> String in (item[key] ?? nil) ?? "" }
                let amount = value("amount").isEmpty ? "" : value("amount") + " " + value("currency")
                return ["decided_on", "supplier_name", "supplier_country", "type", "status", "effective_from", "effective_to"].map(value) + [amount]
            })
        }
    }

    struct Sweep: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Mark expired the actions whose end date passed (the server does it hourly).")

        func execute() async throws {
            let expired = try await withLetters { db, letters in try await LicensingStore(db, letters: letters).sweepExpired() }
            say("\(expired.count) action(s) expired")
        }
    }
}
