import ArgumentParser
import BarrierCore
import BarrierServer
import BarrierStore
import Foundation

struct AgencyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "agency", abstract: "Manage agencies.", subcommands: [Create.self])

    struct Create: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Register an agency; prints its id.")
        @Option(help: "The agency's name.") var name: String
        @Option(help: "ISO 3166-1 alpha-2 country code.") var country: String

        func execute() async throws {
            let (name, country) = (self.name, self.country)
            let id = try await withDatabase { db in
                try await Migrator().migrate(db)
                return try await AccessStore(db).createAgency(name: name, country: country, actor: cliActor())
            }
            say(id.uuidString.lowercased())
        }
    }
}

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users and their API tokens.", subcommands: [Create.self, Token.self, Revoke.self, Unlock.self])

    struct Create: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user; prints the id (and a generated password).")
        @Option(help: "Agency name or id.") var agency: String
        @Option(help: "E-mail address, the login.") var email: String
        @Option(help: "Full name.") var name: String
        @Option(help: "admin, officer or auditor.") var role: String
        @Option(help: "Password (at least 12 characters); generated when omitted.") var password: String?

        func execute() async throws {
            let (agency, email, name, role, password) = (self.agency, self.email, self.name, self.role, self.password)
            let result = try await withDatabase { db in
                try await AccessStore(db).createUser(agency: agency, email: email, fullName: name, role: role, password: password, actor: cliActor())
            }
            say(result.id.uuidString.lowercased())
            if let generated = result.generatedPassword { say("password: \(generated)") }
        }
    }

    struct Token: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Issue an API token for a user; prints it once.")
        @Option(help: "The user's e-mail.") var email: String
        @Option(help: "A name for the token, to revoke it later.") var name: String
        @Option(help: "Expiry date (YYYY-MM-DD); none when omitted.") var expires: String?

        func execute() async throws {
            var expiry: Date?
            if let expires {
                let f = ISO8601DateFormatter()
                f.formatOptions = [.withFullDate]
                guard let d = f.date(from: expires) else { throw CLIFailure(description: "--expires must be a date like 2027-06-30") }
                expiry = d
            }
            let (email, name, until) = (self.email, self.name, expiry)
            let token = try await withDatabase { db in
                try await AccessStore(db).createToken(email: email, name: name, expiresAt: until, actor: cliActor())
            }
            say(token)
        }
    }

    struct Revoke: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a user's API token by name.")
        @Option(help: "The user's e-mail.") var email: String
        @Option(help: "The token's name.") var name: String

        func execute() async throws {
            let (email, name) = (self.email, self.name)
            try await withDatabase { db in try await AccessStore(db).revokeToken(email: email, name: name, actor: cliActor()) }
            say("revoked")
        }
    }
}

extension UserCommand {
    struct Unlock: BarrierCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lift the sign-in lock on an address after too many wrong passwords, before it runs out.")
        @Option(help: "The e-mail address that was locked.") var email: String

        func execute() async throws {
            let email = self.email
            try await withDatabase { db in try await AccessStore(db).unlockSignIn(email: email, actor: cliActor()) }
            say("unlocked")
        }
    }
}

struct FacilitatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facilitator", abstract: "Register, list, show and search suppliers.",
        subcommands: [Add.self, List.self, Show.self, Search.self])

    struct Add: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Register a supplier; prints its id.")
        @Option(name: .customLong("legal-name")) var legalName: String?
        @Option(name: .customLong("alias"), help: "An alias or trading name (repeatable).") var aliases: [String] = []
        @Option var sector: String?
        @Option(name: .customLong("stage"), help: "A stage it serves (repeatable).") var stages: [String] = []
        @Option(name: .customLong("market"), help: "A market (repeatable).") var markets: [String] = []
        @Option var country: String?
        @Option(name: .customLong("registration-number")) var registrationNumber: String?
        @Option(name: .customLong("vat-number")) var vatNumber: String?
        @Option var street: String?
        @Option(name: .customLong("postal-code")) var postalCode: String?
        @Option var city: String?
        @Option var website: String?
        @Option var email: String?
        @Option var phone: String?
        @Option var notes: String?
        @Flag(name: .customLong("natural-person"), help: "A sole trader under their own name (the register may withhold it).") var naturalPerson = false
        @Flag(name: .customLong("create-anyway"), help: "Register even when similar suppliers exist.") var createAnyway = false

        func execute() async throws {
            var p = FacilitatorPatch()
            var errors = FieldErrors()
            p.legalName = legalName
            p.aliases = aliases
            p.sector = sector
            p.country = country
            p.stages = stages.compactMap { s in
                if let v = Stage(rawValue: s) { return v }
                errors.add("stages", Stage.notOne(s))
                return nil
            }
            if stages.isEmpty { p.stages = nil }
            p.markets = markets.compactMap { s in
                if let v = Market(rawValue: s) { return v }
                errors.add("markets", Market.notOne(s))
                return nil
            }
            p.registrationNumber = registrationNumber.map { $0 }
            p.vatNumber = vatNumber.map { $0 }
            p.street = street.map { $0 }
            p.postalCode = postalCode.map { $0 }
            p.city = city.map { $0 }
            p.website = website.map { $0 }
            p.email = email.map { $0 }
            p.phone = phone.map { $0 }
            p.notes = notes
            if naturalPerson { p.naturalPerson = true }
            let (patch, anyway, found) = (p, createAnyway, errors)
            let record = try await withDatabase { db in
                if !found.isEmpty {
                    // name the other bad fields too, checked against the sectors catalogue
                    let named = Set(found.errors.map(\.field))
                    let more = patch.problemsForCreate(knownSectors: try await FacilitatorStore(db).sectors()).filter { !named.contains($0.field) }
                    throw StoreError.invalid(found.errors + more)
                }
                return try await FacilitatorStore(db).create(patch, allowDuplicates: anyway, actor: cliActor())
            }
            say(record.id.uuidString.lowercased())
        }
    }

    struct List: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "List suppliers as a table (or JSON).")
        @Option var sector: String?
        @Option var country: String?
        @Option var stage: String?
        @Option var market: String?
        @Option var status: String?
        @Option(help: "Fuzzy search in names and aliases.") var q: String?
        @Option(help: "name, -name, created_at, -created_at, updated_at, -updated_at, relevance") var sort: String?
        @Option var limit: Int = 50
        @Option(help: "Continue after this cursor (printed at the end of a page).") var cursor: String?
        @Flag(help: "Print the JSON documents.") var json = false

        func execute() async throws {
            var parameters: [String: String] = ["limit": String(limit)]
            for (key, value) in [("sector", sector), ("country", country), ("stage", stage), ("market", market),
                                 ("status", status), ("q", q), ("sort", sort), ("cursor", cursor)] {
                if let value { parameters[key] = value }
            }
            let (params, asJSON) = (parameters, json)
            try await withDatabase { db in
                let store = FacilitatorStore(db)
                let query = try FacilitatorQuery(parameters: params, knownSectors: try await store.sectors())
                let page = try await store.list(query)
                printPage(page.items, next: page.nextCursor, json: asJSON)
            }
        }
    }

    struct Show: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Print one supplier's JSON document.")
        @Argument(help: "The supplier's id.") var id: String

        func execute() async throws {
            guard let uuid = UUID(uuidString: id) else { throw CLIFailure(description: "'\(id)' is not a supplier id (a UUID)") }
            let record = try await withDatabase { db in try await FacilitatorStore(db).get(uuid) }
            say(prettyJSON(record.json))
        }
    }

    struct Search: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Fuzzy search by name or alias, best matches first.")
        @Argument(help: "Text to look for.") var text: String
        @Option var limit: Int = 20

        func execute() async throws {
            let params = ["q": text, "limit": String(limit)]
            try await withDatabase { db in
                let store = FacilitatorStore(db)
                let page = try await store.list(try FacilitatorQuery(parameters: params, knownSectors: try await store.sectors()))
                printPage(page.items, next: nil, json: false)
            }
        }
    }
}

/// A JSON object document as a dictionary (empty when it is not one).
func jsonObject(_ text: String) -> [String: Any] {
    ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]) ?? [:]
}

func prettyJSON(_ text: String) -> String {
    guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)),
          let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    else { return text }
    return String(decoding: data, as: UTF8.self)
}

/// Columns padded to their widest cell.
func printTable(_ header: [String], _ rows: [[String]]) {
    let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max() ?? 0 }
    for row in [header] + rows {
        say(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
    }
}

/// An aligned table of suppliers: id, name, sector, country, status.
func printPage(_ items: [String], next: String?, json: Bool) {
    if json {
        for item in items { say(item) }
    } else {
        let rows: [[String]] = items.compactMap { item in
            guard let o = try? JSONSerialization.jsonObject(with: Data(item.utf8)) as? [String: Any] else { return nil }
            return ["id", "legal_name", "sector", "country", "status"].map { (o[$0] as? String) ?? "" }
        }
        printTable(["ID", "LEGAL NAME", "SECTOR", "COUNTRY", "STATUS"], rows)
        say("\(rows.count) supplier(s)")
    }
    if let next { say("next page: --cursor \(next)") }
}

struct ImportCommand: BarrierCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import suppliers from CSV: every row is checked first; all rows or none are written.")
    @Argument(help: "What to import: facilitators") var kind: String
    @Argument(help: "The CSV file.") var file: String

    func execute() async throws {
        guard kind == "facilitators" else { throw CLIFailure(description: "can only import 'facilitators'") }
        guard FileManager.default.isReadableFile(atPath: file) else { throw CLIFailure(description: "cannot read \(file)") }
        let (started, path) = (Date(), file)
        let result = try await withDatabase { db in
            try await Migrator().migrate(db)
            return try await FacilitatorTransfer(db).importCSV(file: path, actor: cliActor()) { stage, count in
                FileHandle.standardError.write(Data("\r\(stage) \(count) rows…".utf8))
            }
        }
        FileHandle.standardError.write(Data("\n".utf8))
        for flag in result.flags.prefix(50) { printError("line \(flag.line): \(flag.field) \(flag.message) (flagged)") }
        if result.flaggedTotal > 50 { printError("… and \(result.flaggedTotal - 50) more flagged rows") }
        let seconds = Date().timeIntervalSince(started)
        say("imported \(result.created) facilitators in \(String(format: "%.1f", seconds)) s (file sha256 \(result.fileSHA256), audit event \(result.auditSeq), \(result.flaggedTotal) flagged)")
    }
}

struct ExportCommand: BarrierCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Export the registry as CSV (to stdout or --output).")
    @Argument(help: "What to export: facilitators") var kind: String
    @Option(help: "Write to this file instead of stdout.") var output: String?

    func execute() async throws {
        guard kind == "facilitators" else { throw CLIFailure(description: "can only export 'facilitators'") }
        let handle: FileHandle
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: nil), let h = FileHandle(forWritingAtPath: output) else {
                throw CLIFailure(description: "cannot write \(output)")
            }
            handle = h
        } else {
            handle = FileHandle.standardOutput
        }
        let count = try await withDatabase { db in
            try await FacilitatorTransfer(db).exportCSV { data in handle.write(data) }
        }
        if output != nil {
            try handle.close()
            printError("exported \(count) facilitators")
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Check the audit chain and its signed checkpoints; print the signed head.",
        subcommands: [Verify.self, Head.self])

    struct Verify: BarrierCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk the hash chain and check every signed checkpoint; exit 1 naming the first broken event or checkpoint.",
            discussion: """
                Signatures are checked against the public key of the signing key file (BARRIER_AUDIT_KEY_FILE, \
                default .barrier/audit-signing.key) and every --public-key. A head published with `barrier audit head` \
                can be checked too (--head FILE): the chain must still hold the event it signed.
                """)

        @Option(name: .customLong("public-key"), help: "A trusted public key (base64, as `audit head` prints it); repeatable.")
        var publicKeys: [String] = []
        @Option(name: .customLong("head"), help: "A file with a head printed by `barrier audit head` and kept elsewhere; repeatable.")
        var heads: [String] = []

        func execute() async throws {
            var keys: [AuditPublicKey] = []
            for text in publicKeys {
                guard let key = AuditPublicKey(base64: text) else { throw CLIFailure(description: "--public-key \(text) is not a base64 Ed25519 public key") }
                keys.append(key)
            }
            let path = AuditSigningKey.defaultPath()
            if FileManager.default.fileExists(atPath: path) { keys.append(try AuditSigningKey.load(path: path, create: false).publicKey) }
            var published: [AuditCheckpoint] = []
            for file in heads {
                guard let data = FileManager.default.contents(atPath: file) else { throw CLIFailure(description: "cannot read \(file)") }
                let head = try AuditCheckpoint.parsePublished(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
                if let text = head.publicKey, let key = AuditPublicKey(base64: text), keys.isEmpty { keys.append(key) }
                published.append(head)
            }
            let (trusted, heads) = (keys, published)
            let result = try await withDatabase { db in try await AuditLog(db).verify(trusting: trusted, published: heads) }
            if let broken = result.firstBroken {
                throw CLIFailure(description: "audit chain broken at event \(broken.seq): \(broken.reason) (\(result.checked) events before it are intact)")
            }
            if let problem = result.checkpointProblem {
                throw CLIFailure(description: "audit chain not as signed: \(problem) (\(result.checked) events link and match their hashes)")
            }
            var line = "audit chain intact: \(result.checked) events verified"
            if result.checkpointsHeld > 0 {
                line += "; \(result.checkpointsHeld) signed checkpoint(s) hold"
                line += result.signaturesChecked ? "" : " (signatures not checked: no key file and no --public-key)"
                if let newest = result.newestCheckpointSeq { line += ", the newest at event \(newest), \(result.unsignedEvents) event(s) after it not yet signed" }
            } else {
                line += "; no signed checkpoint yet"
            }
            say(line)
        }
    }

    struct Head: BarrierCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign the chain's head now (unless already signed) and print it as one line of JSON, for publishing elsewhere.",
            discussion: "Needs the signing key file (BARRIER_AUDIT_KEY_FILE, default .barrier/audit-signing.key); it is created when absent.")

        func execute() async throws {
            let key = try AuditSigningKey.load(path: AuditSigningKey.defaultPath(), create: true)
            guard let head = try await withDatabase({ db in try await AuditCheckpoints(db).sign(with: key) }) else {
                throw CLIFailure(description: "the audit chain is empty: there is no head to sign yet")
            }
            print(head.published(with: key.publicKey))
        }
    }
}
