import BarrierTestSupport
import Foundation
import Testing

@testable import BarrierLetters

/// A document WeasyPrint needs seconds for (about 4 s on 2 cores): 3,000 paragraphs, some 70 pages.
let slowDocument = "<html><body>" + (0..<3000).map { "<p>Paragraph \($0) of a very long letter that takes a while to lay out across many pages.</p>" }.joined()
    + "</body></html>"

@Suite("PDF workers: queue and time limits, the drafts' cache")
struct PDFLimitsTests {
    @Test("a render past the time limit fails with TimedOut, its worker is replaced, and the next render works")
    func timeout() async throws {
        let pdfs = PDFRenderer(workers: 1, renderTimeout: .seconds(1))
        _ = try await pdfs.render(html: "<p>warm</p>")  // the worker's start is not part of the time limit's test
        let started = ContinuousClock.now
        await #expect(throws: PDFRenderer.TimedOut.self) { _ = try await pdfs.render(html: slowDocument) }
        #expect(ContinuousClock.now - started < .seconds(3.5), "the render was not stopped at its limit")
        #expect(await pdfs.timeouts == 1)
        let pdf = try await pdfs.render(html: "<p>after the timeout</p>")
        #expect(pdf.starts(with: Data("%PDF".utf8)))
        await pdfs.shutdown()
    }

    @Test("past the queue limit a request is refused at once with a Retry-After; background work waits; nothing is lost")
    func queueLimit() async throws {
        let pdfs = PDFRenderer(workers: 1, queueLimit: 1)
        let outcomes = await withTaskGroup(of: String.self) { group in
            for i in 0..<6 {
                group.addTask {
                    do {
                        _ = try await pdfs.render(html: "<p>letter \(i)</p>")
                        return "ok"
                    } catch let busy as PDFRenderer.Busy {
                        return busy.retryAfterSeconds >= 1 ? "busy" : "busy without a retry time"
                    } catch {
                        return "\(error)"
                    }
                }
            }
            // Background renders are never refused, however long the queue.
            for i in 0..<4 {
                group.addTask {
                    do { _ = try await pdfs.render(html: "<p>campaign \(i)</p>", priority: .background); return "background ok" }
                    catch { return "background: \(error)" }
                }
            }
            var all: [String] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        #expect(outcomes.filter { $0 == "background ok" }.count == 4, "\(outcomes)")
        #expect(outcomes.allSatisfy { ["ok", "busy", "background ok"].contains($0) }, "\(outcomes)")
        #expect(outcomes.contains("busy") && outcomes.contains("ok"), "\(outcomes)")
        #expect(await pdfs.refused == outcomes.filter { $0 == "busy" }.count)
        // The queue drained: the next request is printed.
        #expect(try await pdfs.render(html: "<p>later</p>").starts(with: Data("%PDF".utf8)))
        await pdfs.shutdown()
    }

    @Test("the cache prints a key once for concurrent callers, keeps it within its byte bound, least recently used out first")
    func cache() async throws {
        let cache = DraftPDFCache(maxBytes: 25)
        let printed = await withTaskGroup(of: Data?.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    try? await cache.pdf(for: "a") {
                        try await Task.sleep(for: .milliseconds(100))
                        return Data(repeating: 1, count: 10)
                    }
                }
            }
            var all: [Data?] = []
            for await pdf in group { all.append(pdf) }
            return all
        }
        #expect(printed.allSatisfy { $0 == Data(repeating: 1, count: 10) })
        #expect(cache.prints == 1)
        _ = try await cache.pdf(for: "b") { Data(repeating: 2, count: 10) }
        _ = try await cache.pdf(for: "a") { Data() }  // a hit: "a" is now the most recent
        _ = try await cache.pdf(for: "c") { Data(repeating: 3, count: 10) }  // 30 bytes > 25: "b" goes
        #expect(cache.prints == 3 && cache.bytes == 20)
        _ = try await cache.pdf(for: "a") { Data() }
        #expect(cache.prints == 3)
        _ = try await cache.pdf(for: "b") { Data(repeating: 2, count: 10) }
        #expect(cache.prints == 4)
        // A failed print is not kept: the next caller prints again.
        struct Broken: Error {}
        await #expect(throws: Broken.self) { _ = try await cache.pdf(for: "d") { throw Broken() } }
        _ = try await cache.pdf(for: "d") { Data([4]) }
        #expect(cache.prints == 6)
    }
}
