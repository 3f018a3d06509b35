import ArgumentParser
import BarrierStore
import Foundation

/// `barrier backup FILE`: signs the audit chain's head, then pg_dump (custom
/// format) of the whole database; the signed head also goes beside the file.
struct BackupCommand: BarrierCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back the database up to FILE (pg_dump custom format) with the audit chain's signed head.",
        discussion: """
            The head is signed first (with BARRIER_AUDIT_KEY_FILE) so the backup contains it, and is written to \
            FILE.head.json as well: keep that line apart from the backup. `barrier restore FILE` checks the restored \
            chain against it.
            """)

    @Argument(help: "The backup file to write.") var file: String

    func execute() async throws {
        let key = try AuditSigningKey.load(path: AuditSigningKey.defaultPath(), create: true)
        let output = file
        let (head, counts) = try await withDatabase { db in
            let head = try await AuditCheckpoints(db).sign(with: key)
            try DatabaseBackup.dump(db.url, to: output)
            return (head, try await DatabaseBackup.rowCounts(db))
        }
        let rows = counts.reduce(0) { $0 + $1.rows }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        var line = "backup \(file): \(bytes) bytes, \(counts.count) tables, \(rows) rows"
        if let head {
            let headFile = file + ".head.json"
            guard FileManager.default.createFile(atPath: headFile, contents: Data((head.published(with: key.publicKey) + "\n").utf8)) else {
                throw CLIFailure(description: "the backup is written but \(headFile) cannot be")
            }
            line += "; audit chain signed at event \(head.seq) (\(headFile))"
        }
        say(line)
    }
}

/// `barrier restore FILE`: pg_restore into an empty database, all or nothing,
/// then migrations and the audit chain's check against its signed checkpoints.
struct RestoreCommand: BarrierCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup into the empty database of DATABASE_URL (or the embedded cluster's) and verify the audit chain.",
        discussion: "FILE.head.json, when present, is checked too: the restored chain must hold the event it signed.")

    @Argument(help: "A file written by `barrier backup`.") var file: String

    func execute() async throws {
        var keys: [AuditPublicKey] = []
        let keyPath = AuditSigningKey.defaultPath()
        if FileManager.default.fileExists(atPath: keyPath) { keys.append(try AuditSigningKey.load(path: keyPath, create: false).publicKey) }
        var published: [AuditCheckpoint] = []
        if let data = FileManager.default.contents(atPath: file + ".head.json") {
            let head = try AuditCheckpoint.parsePublished(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
            if keys.isEmpty, let text = head.publicKey, let key = AuditPublicKey(base64: text) { keys.append(key) }
            published.append(head)
        }
        let (input, trusted, heads) = (file, keys, published)
        let (counts, result) = try await withDatabase { db in
            try await DatabaseBackup.restore(db, from: input)
            try await Migrator().migrate(db)
            return (try await DatabaseBackup.rowCounts(db), try await AuditLog(db).verify(trusting: trusted, published: heads))
        }
        let rows = counts.reduce(0) { $0 + $1.rows }
        if let broken = result.firstBroken {
            throw CLIFailure(description: "restored \(rows) rows, but the audit chain is broken at event \(broken.seq): \(broken.reason)")
        }
        if let problem = result.checkpointProblem {
            throw CLIFailure(description: "restored \(rows) rows, but the audit chain is not as signed: \(problem)")
        }
        say("restored \(file): \(counts.count) tables, \(rows) rows; audit chain intact (\(result.checked) events, "
            + "\(result.checkpointsHeld) signed checkpoint(s) hold\(result.signaturesChecked ? "" : ", signatures not checked: no key"))")
    }
}
