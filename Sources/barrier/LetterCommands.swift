import ArgumentParser
import BarrierCore
import BarrierLetters
import BarrierServer
import BarrierStore
import Foundation

/// The agency a command acts for: BARRIER_TOKEN's user's (no other may be
/// named), else the one named, or the only one there is.
func resolveAgency(_ db: Database, _ option: String?) async throws -> UUID {
    if let user = CLIUser.current {
        if let option, try await AccessStore(db).agencyID(option) != user.agencyID {
            throw CLIFailure(description: "--agency: BARRIER_TOKEN's user acts only for their own agency")
        }
        return user.agencyID
    }
    if let option { return try await AccessStore(db).agencyID(option) }
    let rows = try await db.query("SELECT id FROM agencies ORDER BY created_at LIMIT 2")
    var ids: [UUID] = []
    for try await id in rows.decode(UUID.self) { ids.append(id) }
    guard ids.count == 1 else {
        throw CLIFailure(description: ids.isEmpty ? "there is no agency yet: barrier agency create" : "several agencies exist: say which with --agency")
    }
    return ids[0]
}

func parseID(_ text: String, _ what: String = "letter") throws -> UUID {
    guard let id = UUID(uuidString: text) else { throw CLIFailure(description: "'\(text)' is not a \(what) id (a UUID)") }
    return id
}

/// Letter work for the command line: the store with the shipped templates, and PDF workers.
func withLetters<T: Sendable>(_ body: @Sendable (Database, LetterStore) async throws -> T) async throws -> T {
    try await withMigratedDatabase { db in
        let letters = try LetterStore.shipped(db, pdfWorkers: ProcessInfo.processInfo.activeProcessorCount)
        let value = try await body(db, letters)
        await letters.pdfs.shutdown()
        return value
    }
}

func letterRow(_ json: String) -> [String] {
    let o = jsonObject(json)
    return ["id", "reference", "status", "kind", "language", "supplier_name", "response_deadline"].map { (o[$0] as? String) ?? "" }
}

struct LetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "letter", abstract: "Draft, approve, download, send and track outreach letters.",
        subcommands: [Create.self, List.self, Show.self, Approve.self, Download.self, Send.self, Delivered.self, Returned.self,
                      Responded.self, Sweep.self, Templates.self, AddTemplate.self])

    struct Create: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Draft a letter to a supplier; prints its id.")
        @Option(help: "The supplier's id.") var facilitator: String
        @Option(help: "inform_call_to_action or reminder.") var kind: String = "inform_call_to_action"
        @Option(help: "en, fr, nl or de (default: by the supplier's country).") var language: String?
        @Option(name: .customLong("response-days"), help: "Days to answer (default: the agency's).") var responseDays: Int?
        @Option(help: "Response deadline YYYY-MM-DD instead of a number of days.") var deadline: String?
        @Option(name: .customLong("reminder-of"), help: "For a reminder: the letter it follows up.") var reminderOf: String?
        @Option(help: "Agency name or id (default: the only agency).") var agency: String?

        func execute() async throws {
            let kind: LetterKind = try vocabulary(kind, option: "kind")
            let language: LetterLanguage? = try vocabulary(self.language, option: "language")
            let request = LetterStore.DraftRequest(
                facilitatorID: try parseID(facilitator, "supplier"), kind: kind, language: language, responseDays: responseDays,
                deadline: deadline, reminderOf: try reminderOf.map { try parseID($0) })
            let agency = self.agency
            let record = try await withLetters { db, letters in
                try await letters.createDraft(request, agencyID: try await resolveAgency(db, agency), actor: try caseworkActor())
            }
            say(record.id.uuidString.lowercased())
        }
    }

    struct List: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "List letters, newest first (or the overdue ones).")
        @Option(help: "Only the letters to this supplier.") var facilitator: String?
        @Option(help: "Only letters in this status.") var status: String?
        @Option(help: "Only the letters of this campaign.") var campaign: String?
        @Flag(help: "Only letters whose response deadline has passed unanswered.") var overdue = false
        @Option var limit: Int = 50
        @Flag(help: "Print the JSON documents.") var json = false

        func execute() async throws {
            let status: LetterStatus? = try vocabulary(self.status, option: "status")
            guard (1...1000).contains(limit) else { throw CLIFailure(description: "--limit must be from 1 to 1000") }
            let (facilitator, campaign) = (try self.facilitator.map { try parseID($0, "supplier") }, try self.campaign.map { try parseID($0, "campaign") })
            let (overdue, limit, statusFilter) = (self.overdue, self.limit, status)
            let items = try await withLetters { _, letters in
                try await letters.list(facilitatorID: facilitator, status: statusFilter, campaignID: campaign, overdue: overdue, limit: limit)
            }
            if json { items.forEach(say) } else {
                printTable(["ID", "REFERENCE", "STATUS", "KIND", "LANG", "SUPPLIER", "DEADLINE"], items.map(letterRow))
                say("\(items.count) letter(s)")
            }
        }
    }

    struct Show: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Print a letter's JSON document, or its text with --text.")
        @Argument(help: "The letter's id.") var id: String
        @Flag(help: "Print the letter's text (a preview for a draft).") var text = false

        func execute() async throws {
            let id = try parseID(self.id)
            let asText = text
            let output = try await withLetters { _, letters in
                asText ? String(decoding: try await letters.file(id, format: .txt), as: UTF8.self) : prettyJSON(try await letters.get(id).json)
            }
            say(output)
        }
    }

    struct Approve: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a draft: it gets its reference number and its text is frozen.")
        @Argument(help: "The letter's id.") var id: String

        func execute() async throws {
            let id = try parseID(self.id)
            let record = try await withLetters { _, letters in
                let current = try await letters.get(id)
                return try await letters.approve(id, expectedVersion: current.version, actor: try caseworkActor())
            }
            say("\(record.reference ?? "") approved")
        }
    }

    struct Download: BarrierCommand {
        static let configuration = CommandConfiguration(commandName: "download", abstract: "Write a letter as pdf, txt, html or eml.")
        @Argument(help: "The letter's id.") var id: String
        @Option(help: "pdf, txt, html or eml.") var format: String = "pdf"
        @Option(help: "The file to write (default: <reference>.<format>).") var output: String?

        func execute() async throws {
            guard let format = LetterStore.Format(rawValue: format) else { throw CLIFailure(description: "--format must be pdf, txt, html or eml") }
            let id = try parseID(self.id)
            let (data, reference) = try await withLetters { _, letters in
                (try await letters.file(id, format: format), try await letters.get(id).reference)
            }
            let path = output ?? "\(reference ?? "draft-\(id.uuidString.lowercased())").\(format.rawValue)"
            guard FileManager.default.createFile(atPath: path, contents: data) else { throw CLIFailure(description: "cannot write \(path)") }
            say(path)
        }
    }

    struct Send: BarrierCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record that a letter was sent (post, registered_post, hand, courier), or send it by e-mail through SMTP_URL.")
        @Argument(help: "The letter's id.") var id: String
        @Option(help: "registered_post, post, email, hand or courier.") var method: String
        @Option(help: "The day it went out (YYYY-MM-DD); not for e-mail.") var on: String?
        @Option(name: .customLong("tracking-number")) var trackingNumber: String?
        @Option(help: "E-mail: the recipient (default: the supplier's contact).") var to: String?

        func execute() async throws {
            let method: SendMethod = try vocabulary(method, option: "method")
            let id = try parseID(self.id)
            if method == .email {
                let config = try AppConfiguration.fromEnvironment()
                guard let relay = config.smtpRelay else { throw CLIFailure(description: "set SMTP_URL to send by e-mail, or record the sending with another --method") }
                let to = self.to
                let sent = try await withLetters { db, letters in
                    let mail = LetterMail(db, letters: letters, relay: relay)
                    let current = try await letters.get(id)
                    _ = try await mail.queue(id, to: to, expectedVersion: current.version, actor: try caseworkActor())
                    return try await mail.sendDue()
                }
                say(sent > 0 ? "sent through the relay" : "queued; the relay refused it for now and it will be retried by the server")
                return
            }
            guard let on else { throw CLIFailure(description: "--on is required: the day the letter went out (YYYY-MM-DD)") }
            let tracking = trackingNumber
            try await track(id, .sent(on: on, method: method, trackingNumber: tracking))
        }
    }

    struct Delivered: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Record that a sent letter was delivered.")
        @Argument(help: "The letter's id.") var id: String
        @Option(help: "Delivery day (YYYY-MM-DD).") var on: String
        @Option(help: "Proof of delivery (signature, tracking status).") var proof: String?

        func execute() async throws { try await track(try parseID(id), .delivered(on: on, proof: proof)) }
    }

    struct Returned: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Record that a sent letter came back undelivered.")
        @Argument(help: "The letter's id.") var id: String
        @Option(help: "The day it came back (YYYY-MM-DD).") var on: String
        @Option(help: "Why (e.g. addressee unknown).") var reason: String

        func execute() async throws { try await track(try parseID(id), .returned(on: on, reason: reason)) }
    }

    struct Responded: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Record the supplier's response, optionally with its document.")
        @Argument(help: "The letter's id.") var id: String
        @Option(help: "The day of the response (YYYY-MM-DD).") var on: String
        @Option(help: "letter, email, phone, meeting or portal.") var channel: String
        @Option(help: "What the supplier said or committed to.") var summary: String?
        @Option(help: "The response document (PDF, text, PNG, JPEG, e-mail or DOCX).") var document: String?

        func execute() async throws {
            let channel: ResponseChannel = try vocabulary(channel, option: "channel")
            let attachment = try document.map(uploadedDocument)
            try await track(try parseID(id), .responded(on: on, channel: channel, summary: summary), attachment: attachment)
        }
    }

    struct Sweep: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "Mark letters whose response deadline passed as no_response (the server does this hourly).")

        func execute() async throws {
            let swept = try await withLetters { _, letters in try await letters.sweepDeadlines() }
            say("\(swept.count) letter(s) marked no_response")
        }
    }

    struct Templates: BarrierCommand {
        static let configuration = CommandConfiguration(abstract: "List the current version of every letter template.")

        func execute() async throws {
            let items = try await withLetters { _, letters in try await letters.templates() }
            let rows: [[String]] = items.map { json in
                let o = jsonObject(json)
                let key = [o["kind"] as? String, o["sector_group"] as? String, o["language"] as? String].compactMap { $0 }.joined(separator: ".")
                return [key, "\(o["version"] as? Int ?? 0)", String((o["sha256"] as? String ?? "").prefix(16)), o["source"] as? String ?? ""]
            }
            printTable(["TEMPLATE", "VERSION", "SHA-256", "SOURCE"], rows)
        }
    }

    struct AddTemplate: BarrierCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-template", abstract: "Store a new version of a template from a file (refused with the line and reason if it does not compile).")
        @Argument(help: "The template key, e.g. inform_call_to_action.delivery.en or reminder.fr.") var key: String
        @Argument(help: "The file with the new body.") var file: String

        func execute() async throws {
            guard let key = TemplateKey(fileName: key + ".mustache") else {
                throw CLIFailure(description: "'\(self.key)' is not a template key such as inform_call_to_action.delivery.en or reminder.fr")
            }
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIFailure(description: "cannot read \(file)") }
            let body = String(decoding: data, as: UTF8.self)
            let result = try await withLetters { _, letters in try await letters.addTemplateVersion(key, body: body, actor: try caseworkActor()) }
            let version = jsonObject(result.json)["version"] as? Int ?? 0
            say(result.created ? "stored \(key) version \(version)" : "\(key) already has this body as version \(version)")
        }
    }
}

/// Records a tracking step on the letter's current version.
func track(_ id: UUID, _ step: LetterTrackingStep, attachment: UploadedDocument? = nil) async throws {
    let record = try await withLetters { _, letters in
        let current = try await letters.get(id)
        return try await letters.record(id, step: step, attachment: attachment, expectedVersion: current.version, actor: try caseworkActor())
    }
    say("\(record.reference ?? record.id.uuidString.lowercased()) \(step.status.rawValue)")
}

/// A file from disk as an uploaded document, its type told by its extension.
func uploadedDocument(_ path: String) throws -> UploadedDocument {
    guard let bytes = FileManager.default.contents(atPath: path) else { throw CLIFailure(description: "cannot read \(path)") }
    let url = URL(fileURLWithPath: path)
    let type: String = switch url.pathExtension.lowercased() {
    case "pdf": "application/pdf"
    case "txt": "text/plain"
    case "png": "image/png"
    case "jpg", "jpeg": "image/jpeg"
    case "eml": "message/rfc822"
    case "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    default: "application/octet-stream"
    }
    return UploadedDocument(name: url.lastPathComponent, contentType: type, bytes: bytes)
}
