import Foundation
import Synchronization

/// Printed PDFs of drafts, kept in memory so a draft is printed at most once
/// as it stands: the key names the exact HTML (see `LetterStore`), so any edit,
/// template or layout change, letterhead or address change gives a new key and a
/// new print. Bounded by bytes, least recently used first out. Requests for a
/// key that is being printed wait for that print instead of starting another
/// (single flight); a failed print is not kept.
public final class DraftPDFCache: Sendable {
    private struct Entry {
        var pdf: Data
        var lastUse: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
        var maxBytes: Int
        var printing: [String: Task<Data, any Error>] = [:]
        var prints = 0
        var hits = 0
    }

    private let state: Mutex<State>

    /// At most `maxBytes` of PDFs (64 MB unless configured); 0 keeps none (prints are still shared while in flight).
    public init(maxBytes: Int = 64 << 20) {
        state = Mutex(State(maxBytes: max(0, maxBytes)))
    }

    public var maxBytes: Int {
        get { state.withLock { $0.maxBytes } }
    }

    /// Changes the bound; entries past it go at once.
    public func setMaxBytes(_ bytes: Int) {
        state.withLock { s in
            s.maxBytes = max(0, bytes)
            Self.evict(&s)
        }
    }

    /// How many times `print` was called (a test can see that a draft printed once).
    public var prints: Int { state.withLock { $0.prints } }
    /// Answers from memory.
    public var hits: Int { state.withLock { $0.hits } }
    /// Bytes held now.
    public var bytes: Int { state.withLock { $0.bytes } }

    /// The PDF kept for `key`, else the one `print` makes (once for all callers
    /// asking meanwhile), kept unless `keep` is false.
    public func pdf(for key: String, keep: Bool = true, print: @escaping @Sendable () async throws -> Data) async throws -> Data {
        enum Found { case kept(Data), printing(Task<Data, any Error>) }
        let found: Found = state.withLock { s in
            if var entry = s.entries[key] {
                s.clock += 1
                entry.lastUse = s.clock
                s.entries[key] = entry
                s.hits += 1
                return .kept(entry.pdf)
            }
            if let task = s.printing[key] { return .printing(task) }
            s.prints += 1
            let task = Task<Data, any Error> {
                do {
                    let pdf = try await print()
                    self.finish(key, pdf: pdf, keep: keep)
                    return pdf
                } catch {
                    self.finish(key, pdf: nil, keep: false)
                    throw error
                }
            }
            s.printing[key] = task
            return .printing(task)
        }
        switch found {
        case .kept(let pdf): return pdf
        case .printing(let task): return try await task.value
        }
    }

    private func finish(_ key: String, pdf: Data?, keep: Bool) {
        state.withLock { s in
            s.printing[key] = nil
            guard keep, let pdf, pdf.count <= s.maxBytes else { return }
            s.clock += 1
            if let old = s.entries[key] { s.bytes -= old.pdf.count }
            s.entries[key] = Entry(pdf: pdf, lastUse: s.clock)
            s.bytes += pdf.count
            Self.evict(&s)
        }
    }

    private static func evict(_ s: inout State) {
        while s.bytes > s.maxBytes, let oldest = s.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            s.bytes -= oldest.value.pdf.count
            s.entries[oldest.key] = nil
        }
    }
}
