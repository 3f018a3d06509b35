import BarrierCore
import BarrierServer
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Writers racing over real HTTP: a live server and a pooled client, so the
/// requests run in parallel on the server and in PostgreSQL.
@Suite("Concurrent writers")
struct ConcurrencyTests {
    @Test("20 PATCHes racing with one If-Match: exactly one succeeds, 19 get 412, one audit event")
    func racingPatchesWithOneETag() async throws {
        try await TestApp.run(setup: .ahc(.http)) { app in
            let id = try await app.createSupplier("Wettlauf Logistik GmbH")
            let read = try await app.request(.get, "/api/v1/facilitators/\(id)")
            let etag = try #require(read.headers[.eTag])
            let clock = ContinuousClock()
            let answers = try await withThrowingTaskGroup(of: (HTTPResponse.Status, ContinuousClock.Instant, ContinuousClock.Instant).self) { group in
                for n in 0..<20 {
                    group.addTask {
                        let sent = clock.now
                        let status = try await app.request(.patch, "/api/v1/facilitators/\(id)",
                                                           json: "{\"legal_name\": \"Wettlauf Logistik \(n) GmbH\"}", headers: [.ifMatch: etag]).status
                        return (status, sent, clock.now)
                    }
                }
                var all: [(HTTPResponse.Status, ContinuousClock.Instant, ContinuousClock.Instant)] = []
                for try await answer in group { all.append(answer) }
                return all
            }
            // The requests really overlapped (the client keeps several connections open).
            let overlap = answers.map { a in answers.filter { $0.1 <= a.1 && a.1 < $0.2 }.count }.max() ?? 0
            #expect(overlap > 1)
            let statuses = answers.map(\.0)
            #expect(statuses.count == 20)
            #expect(statuses.filter { $0.kind == .successful }.count == 1)
            #expect(statuses.filter { $0 == .preconditionFailed }.count == 19)
            #expect(try await TestDatabase.scalar(
                app.db, "SELECT count(*)::text FROM audit_events WHERE action = 'facilitator.update' AND entity_id = '\(id)'") == "1")
            let after = try await app.request(.get, "/api/v1/facilitators/\(id)")
            #expect(after.headers[.eTag] == "\"\(Int(etag.trimmingCharacters(in: ["\""]))! + 1)\"")
        }
    }

    @Test("8 writers, 25 writes each, at once: the audit chain stays one line with an event per acknowledged write")
    func theChainStaysLinearUnderConcurrentWriters() async throws {
        try await TestApp.run(setup: .ahc(.http)) { app in
            var suppliers: [(id: String, etag: String)] = []
            for n in 0..<8 {
                let id = try await app.createSupplier("Parallel Freight \(n) Ltd", country: "IE")
                suppliers.append((id, try #require(try await app.request(.get, "/api/v1/facilitators/\(id)").headers[.eTag])))
            }
            let lastSeq = try #require(try await TestDatabase.scalar(app.db, "SELECT max(seq)::text FROM audit_events"))
            let start = suppliers
            let acknowledged = try await withThrowingTaskGroup(of: Int.self) { group in
                for (writer, supplier) in start.enumerated() {
                    group.addTask {
                        var etag = supplier.etag
                        var done = 0
                        for n in 0..<25 {
                            let response = try await app.request(
                                .patch, "/api/v1/facilitators/\(supplier.id)",
                                json: "{\"city\": \"Cork \(writer)-\(n)\", \"postal_code\": \"T12 \(n)\"}", headers: [.ifMatch: etag])
                            guard response.status == .ok, let next = response.headers[.eTag] else {
                                throw TestFailure("writer \(writer), write \(n): \(response.status) \(response.text)")
                            }
                            etag = next
                            done += 1
                        }
                        return done
                    }
                }
                var total = 0
                for try await done in group { total += done }
                return total
            }
            #expect(acknowledged == 200)
            let events = try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM audit_events WHERE seq > \(lastSeq)")
            #expect(events == String(acknowledged))
            // Contiguous sequence numbers, and each event links to the one before it.
            #expect(try await TestDatabase.scalar(
                app.db, "SELECT (max(seq) - min(seq) + 1 = count(*))::text FROM audit_events WHERE seq > \(lastSeq)") == "true")
            #expect(try await TestDatabase.scalar(app.db, """
                SELECT count(*)::text FROM (SELECT seq, prev_hash, lag(hash) OVER (ORDER BY seq) AS before, lag(seq) OVER (ORDER BY seq) AS before_seq
                                            FROM audit_events WHERE seq >= \(lastSeq)) e
                WHERE e.before IS NOT NULL AND (e.prev_hash <> e.before OR e.seq <> e.before_seq + 1)
                """) == "0")
            #expect(try await TestDatabase.scalar(
                app.db, "SELECT count(*)::text FROM (SELECT prev_hash FROM audit_events GROUP BY 1 HAVING count(*) > 1) forks") == "0")
            let verification = try await AuditLog(app.db).verify()
            #expect(verification.firstBroken == nil)
            #expect(String(verification.checked) == (try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM audit_events")))
            // Each writer's supplier went through its 25 versions.
            for supplier in start {
                let now = try await app.request(.get, "/api/v1/facilitators/\(supplier.id)").headers[.eTag]
                #expect(now == "\"\(Int(supplier.etag.trimmingCharacters(in: ["\""]))! + 25)\"")
            }
        }
    }
}
