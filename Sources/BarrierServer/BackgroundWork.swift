import BarrierStore
import Foundation
import Logging
import ServiceLifecycle

/// The server's background work, as a service that stops with the server:
/// e-mail to the relay, campaign jobs, and the hourly sweep of letter deadlines and
/// licensing actions past their end date, and signed checkpoints of the audit chain. Every
/// piece is claimed in PostgreSQL, so several instances can run it side by side.
struct BackgroundWork: Service, CustomStringConvertible {
    var description: String { "BackgroundWork" }

    let mail: LetterMail
    let letters: LetterStore
    let campaigns: CampaignStore
    let licensing: LicensingStore
    let idempotencyKeys: IdempotencyKeys
    let pollSeconds: Int
    /// Signs the audit chain's head every `checkpointSeconds` when it moved.
    var checkpoints: (store: AuditCheckpoints, key: AuditSigningKey, seconds: Int)?
    let logger: Logger

    func run() async throws {
        var lastSweep: Date?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await mail.markLostSends()
                try await mail.sendDue()
                while try await campaigns.runNextJob() {
                    if Task.isShuttingDownGracefully { break }
                }
                if lastSweep.map({ Date().timeIntervalSince($0) > 3600 }) ?? true {
                    let swept = try await letters.sweepDeadlines()
                    if !swept.isEmpty { logger.info("deadline sweep: \(swept.count) letter(s) marked no_response") }
                    let expired = try await licensing.sweepExpired()
                    if !expired.isEmpty { logger.info("licensing sweep: \(expired.count) action(s) past their end date marked expired") }
                    let forgotten = try await idempotencyKeys.sweepExpired()
                    if forgotten > 0 { logger.info("idempotency sweep: \(forgotten) key(s) older than 24 hours deleted") }
                    lastSweep = Date()
                }
                if let checkpoints {
                    try await checkpoints.store.sign(with: checkpoints.key, minimumSeconds: checkpoints.seconds)
                }
            } catch {
                logger.warning("background work: \(error)")
            }
            try? await Task.sleep(for: .seconds(pollSeconds))
        }
    }
}
