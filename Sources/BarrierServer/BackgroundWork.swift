import BarrierStore
import Foundation
import Logging
import ServiceLifecycle

/// The server's background work, as a service that stops with the server:
/// e-mail to the relay, campaign jobs, and the hourly sweep of letter deadlines and
/// licensing actions past their end date. Every
/// piece is claimed in PostgreSQL, so several instances can run it side by side.
struct BackgroundWork: Service {
    let mail: LetterMail
    let letters: LetterStore
    let campaigns: CampaignStore
    let licensing: LicensingStore
    let pollSeconds: Int
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
                    lastSweep = Date()
                }
            } catch {
                logger.warning("background work: \(error)")
            }
            try? await Task.sleep(for: .seconds(pollSeconds))
        }
    }
}
