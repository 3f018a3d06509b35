import Foundation
import HummingbirdBcrypt

/// bcrypt, on threads of its own: a hash takes tens of milliseconds of CPU, and
/// on Swift's cooperative pool a flood of sign-ins would hold every thread the
/// API needs. At most `concurrency` hashes run at once (half the cores, at
/// least one); the others wait their turn without holding a thread.
public enum PasswordHashing {
    static let queue: OperationQueue = {
        let queue = OperationQueue()
        queue.name = "barrier.bcrypt"
        queue.maxConcurrentOperationCount = concurrency
        return queue
    }()

    public static let concurrency = max(1, ProcessInfo.processInfo.activeProcessorCount / 2)

    /// bcrypt's cost for new hashes: 12 (about 0.25 s of one core), or
    /// `BARRIER_BCRYPT_COST` from 4 to 16 (the test suite uses a low one: it
    /// creates hundreds of users). Hashes made with another cost still verify.
    public static let cost: Int = {
        guard let raw = ProcessInfo.processInfo.environment["BARRIER_BCRYPT_COST"], let n = Int(raw), (4...16).contains(n) else { return 12 }
        return n
    }()

    private static let counter = NSLock()
    nonisolated(unsafe) private static var verified: [String: Int] = [:]

    /// How many passwords were checked for `account` since the process started
    /// (the sign-in tests count the guesses that were really tried).
    public static func verifications(for account: String) -> Int { counter.withLock { verified[account] ?? 0 } }

    public static func verify(_ password: String, hash: String, for account: String = "") async -> Bool {
        if !account.isEmpty { counter.withLock { verified[account, default: 0] += 1 } }
        return await run { Bcrypt.verify(password, hash: hash) }
    }

    /// The cost a bcrypt hash was made with (`$2b$12$…` → 12); nil for anything else.
    public static func cost(of hash: String) -> Int? {
        let parts = hash.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].isEmpty, parts[1].hasPrefix("2"), parts[2].count == 2,
              parts[2].allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(parts[2])
    }

    public static func hash(_ password: String, cost: Int = PasswordHashing.cost) async -> String {
        await run { Bcrypt.hash(password, cost: UInt8(cost)) }
    }

    private static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.addOperation { continuation.resume(returning: work()) }
        }
    }
}
