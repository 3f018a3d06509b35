import BarrierCore
import BarrierServer
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

extension TestApp {
    /// Rows of `table` and audit events, as the superuser sees them (every agency's).
    func counts(_ table: String = "facilitators") async throws -> (rows: String, events: String) {
        (try await TestDatabase.scalar(db, "SELECT count(*)::text FROM \(table)") ?? "?",
         try await TestDatabase.scalar(db, "SELECT count(*)::text FROM audit_events") ?? "?")
    }
}

private let idempotencyKey = HTTPFields.Element.Name("Idempotency-Key")!
private let replayed = HTTPFields.Element.Name("Idempotent-Replayed")!
private let supplierJSON = """
    {"legal_name": "Nachtexpress Kurier GmbH", "sector": "courier", "stages": ["shipping"], "country": "DE"}
    """

@Suite("Idempotency-Key on POST")
struct IdempotencyTests {
    @Test("a retry with the same key answers the first answer, headers included, and creates nothing; a JSON and a CSV POST")
    func retryReplaysTheFirstAnswer() async throws {
        try await TestApp.run { app in
            let first = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: supplierJSON,
                                              headers: [idempotencyKey: "create-1"])
            #expect(first.status == .created)
            #expect(first.headers[replayed] == nil)
            let before = try await app.counts()
            #expect(before.rows == "1")

            let retry = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: supplierJSON,
                                              headers: [idempotencyKey: "create-1", .init("X-Request-Id")!: "retry-of-create-1"])
            #expect(retry.status == .created)
            #expect(retry.headers[replayed] == "true")
            #expect(retry.text == first.text)
            #expect(retry.headers[.location] == first.headers[.location] && retry.headers[.location] != nil)
            #expect(retry.headers[.eTag] == first.headers[.eTag] && retry.headers[.eTag] != nil)
            #expect(retry.headers[.contentType] == first.headers[.contentType])
            #expect(retry.headers[.init("X-Request-Id")!] == "retry-of-create-1")
            let after = try await app.counts()
            #expect(after.rows == before.rows && after.events == before.events)

            // The CSV import: the raw body is what the key stands for.
            let header = FacilitatorCSV.columns.filter { $0 != "natural_person" }.joined(separator: ",")
            let csv = "\(header)\n,Good Courier Ltd,,courier,shipping,,IE,,,,,,,,,,,\n,Other Courier Ltd,,courier,shipping,,IE,,,,,,,,,,,\n"
            let imported = try await app.request(.post, "/api/v1/imports/facilitators", body: csv,
                                                 headers: [.contentType: "text/csv", idempotencyKey: "import-1"])
            #expect(imported.status == .created && imported.object["created"] as? Int == 2)
            let beforeRetry = try await app.counts()
            let again = try await app.request(.post, "/api/v1/imports/facilitators", body: csv,
                                              headers: [.contentType: "text/csv", idempotencyKey: "import-1"])
            #expect(again.status == .created && again.headers[replayed] == "true" && again.text == imported.text)
            let afterRetry = try await app.counts()
            #expect(afterRetry.rows == beforeRetry.rows && afterRetry.events == beforeRetry.events)
            #expect(afterRetry.rows == "3")

            // Without a key nothing is kept, and GETs ignore the header.
            _ = try await app.createSupplier("Keyless Couriers BV", country: "NL")
            _ = try await app.request(.get, "/api/v1/facilitators", headers: [idempotencyKey: "read-1"])
            #expect(try await TestDatabase.scalar(app.db, "SELECT string_agg(key, ',' ORDER BY key) FROM idempotency_keys") == "create-1,import-1")
        }
    }

    @Test("the same key with another body or path is refused with 422 and changes nothing")
    func theSameKeyForAnotherRequestIsRefused() async throws {
        try await TestApp.run { app in
            let first = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: supplierJSON,
                                              headers: [idempotencyKey: "k-1"])
            #expect(first.status == .created)
            let before = try await app.counts()
            let otherBody = try await app.request(
                .post, "/api/v1/facilitators?create_anyway=true",
                json: supplierJSON.replacingOccurrences(of: "Nachtexpress", with: "Tagexpress"), headers: [idempotencyKey: "k-1"])
            #expect(otherBody.status == .unprocessableContent && otherBody.isProblem)
            #expect(otherBody.object["title"] as? String == "Idempotency key reused")
            #expect(otherBody.errorFields == ["Idempotency-Key"])
            let otherPath = try await app.request(.post, "/api/v1/facilitators", json: supplierJSON, headers: [idempotencyKey: "k-1"])
            #expect(otherPath.status == .unprocessableContent && otherPath.isProblem)
            let supplier = try #require(first.object["id"] as? String)
            let otherRoute = try await app.request(.post, "/api/v1/facilitators/\(supplier)/archive",
                                                   headers: [idempotencyKey: "k-1", .ifMatch: "\"1\""])
            #expect(otherRoute.status == .unprocessableContent)
            let after = try await app.counts()
            #expect(after.rows == before.rows && after.events == before.events)
            #expect(try await TestDatabase.scalar(app.db, "SELECT status FROM facilitators WHERE id = '\(supplier)'") == "active")
        }
    }

    @Test("a key is the user's: another user of the agency, or of another agency, with the same key and body gets its own answer")
    func keysBelongToTheirUser() async throws {
        try await TestApp.run { app in
            let officer = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: supplierJSON,
                                                headers: [idempotencyKey: "shared-key"])
            #expect(officer.status == .created)
            let admin = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", as: .admin, json: supplierJSON,
                                              headers: [idempotencyKey: "shared-key"])
            #expect(admin.status == .created && admin.headers[replayed] == nil)
            #expect(admin.object["id"] as? String != officer.object["id"] as? String)

            let second = try await Fixtures.agencyWithUsers(app.db, name: "Second Authority", country: "BE", domain: "second.example")
            let before = try await app.counts()
            let other = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", token: second[.officer]!,
                                              json: supplierJSON, headers: [idempotencyKey: "shared-key"])
            #expect(other.status == .created && other.headers[replayed] == nil)
            #expect(other.object["id"] as? String != officer.object["id"] as? String)
            let after = try await app.counts()
            #expect(Int(after.rows)! == Int(before.rows)! + 1)

            // Below the application: as the server's role, each agency sees only its own keys.
            let firstAgency = try #require(try await TestDatabase.scalar(app.db, "SELECT id::text FROM agencies WHERE name = 'Test Inspectorate'"))
            let secondAgency = try #require(try await TestDatabase.scalar(app.db, "SELECT id::text FROM agencies WHERE name = 'Second Authority'"))
            let seen = try await AgencyScope.with(UUID(uuidString: secondAgency)) {
                try await app.serverDB.query("SELECT count(*)::int FROM idempotency_keys").decode(Int.self).reduce(0, +)
            }
            #expect(seen == 1)
            let noAgency = try await app.serverDB.query("SELECT count(*)::int FROM idempotency_keys").decode(Int.self).reduce(0, +)
            #expect(noAgency == 0)
            let seenByFirst = try await AgencyScope.with(UUID(uuidString: firstAgency)) {
                try await app.serverDB.query("SELECT count(*)::int FROM idempotency_keys").decode(Int.self).reduce(0, +)
            }
            #expect(seenByFirst == 2)
            // Nor can it move its key (and stored answer) into another agency.
            do {
                try await AgencyScope.with(UUID(uuidString: secondAgency)) {
                    try await app.serverDB.query("UPDATE idempotency_keys SET agency_id = \(UUID(uuidString: firstAgency)!) WHERE key = 'shared-key'")
                }
                Issue.record("the server's role moved a key into another agency")
            } catch {
                #expect(String(reflecting: error).contains("row-level security"))
            }
        }
    }

    @Test("a key lasts 24 hours: after that the same request runs again, and the sweep deletes the key")
    func keysExpireAfter24Hours() async throws {
        try await TestApp.run { app in
            let first = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: supplierJSON,
                                              headers: [idempotencyKey: "day-1"])
            #expect(first.status == .created)
            try await TestDatabase.sql(app.db, "UPDATE idempotency_keys SET created_at = now() - interval '23 hours 59 minutes'")
            let stillKept = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: supplierJSON,
                                                  headers: [idempotencyKey: "day-1"])
            #expect(stillKept.headers[replayed] == "true")
            #expect(try await IdempotencyKeys(app.serverDB).sweepExpired() == 0)

            try await TestDatabase.sql(app.db, "UPDATE idempotency_keys SET created_at = now() - interval '24 hours 1 minute'")
            let before = try await app.counts()
            let anew = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: supplierJSON,
                                             headers: [idempotencyKey: "day-1"])
            #expect(anew.status == .created && anew.headers[replayed] == nil)
            #expect(anew.object["id"] as? String != first.object["id"] as? String)
            #expect(Int(try await app.counts().rows)! == Int(before.rows)! + 1)
            // An expired key is not a mismatch either.
            try await TestDatabase.sql(app.db, "UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
            let otherBody = try await app.request(.post, "/api/v1/facilitators?create_anyway=true",
                                                  json: supplierJSON.replacingOccurrences(of: "Nacht", with: "Morgen"),
                                                  headers: [idempotencyKey: "day-1"])
            #expect(otherBody.status == .created)

            // The sweep (as the server's role, agency by agency) deletes what is older than 24 hours.
            let fresh = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: supplierJSON,
                                              headers: [idempotencyKey: "day-2"])
            #expect(fresh.status == .created)
            try await TestDatabase.sql(app.db, "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'day-1'")
            #expect(try await IdempotencyKeys(app.serverDB).sweepExpired() == 1)
            #expect(try await TestDatabase.scalar(app.db, "SELECT string_agg(key, ',') FROM idempotency_keys") == "day-2")
        }
    }

    @Test("a retry while the first request still runs gets 409; a claim abandoned by a crash is taken over after five minutes")
    func inFlightRetriesAreRefused() async throws {
        try await TestApp.run { app in
            // Hold the first request inside its transaction: the registry table is locked against writes.
            let first = try await app.db.transaction { conn in
                try await conn.query("LOCK TABLE facilitators IN SHARE ROW EXCLUSIVE MODE", logger: app.db.logger)
                let first = Task {
                    try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: supplierJSON,
                                          headers: [idempotencyKey: "slow-1"])
                }
                var claimed = false
                for _ in 0..<500 where !claimed {
                    claimed = try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM idempotency_keys") == "1"
                    if !claimed { try await Task.sleep(for: .milliseconds(10)) }
                }
                #expect(claimed)
                let retry = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: supplierJSON,
                                                  headers: [idempotencyKey: "slow-1"])
                #expect(retry.status == .conflict && retry.isProblem)
                #expect(retry.object["title"] as? String == "Request in progress")
                // Another body is still another request.
                let other = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: "{}",
                                                  headers: [idempotencyKey: "slow-1"])
                #expect(other.status == .unprocessableContent)
                return first
            }
            let answer = try await first.value
            #expect(answer.status == .created)
            #expect(try await app.counts().rows == "1")
            let replay = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: supplierJSON,
                                               headers: [idempotencyKey: "slow-1"])
            #expect(replay.headers[replayed] == "true" && replay.text == answer.text)

            // A server that died mid-request leaves a claim without an answer: 409 for a while, then the retry runs.
            try await TestDatabase.sql(app.db, """
                UPDATE idempotency_keys SET completed_at = NULL, response_status = NULL, response_headers = NULL, response_body = NULL
                WHERE key = 'slow-1'
                """)
            let blocked = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: supplierJSON,
                                                headers: [idempotencyKey: "slow-1"])
            #expect(blocked.status == .conflict)
            try await TestDatabase.sql(app.db, "UPDATE idempotency_keys SET started_at = now() - interval '6 minutes'")
            let takenOver = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: supplierJSON,
                                                  headers: [idempotencyKey: "slow-1"])
            #expect(takenOver.status == .created && takenOver.headers[replayed] == nil)
            #expect(try await app.counts().rows == "2")
        }
    }

    @Test("a final refusal (422, 403) is kept and replayed; a precondition refusal (412, 428) frees the key for the corrected retry")
    func whichFailuresAreKept() async throws {
        try await TestApp.run { app in
            let invalid = try await app.request(.post, "/api/v1/facilitators", json: "{\"legal_name\": \"\"}", headers: [idempotencyKey: "bad-1"])
            #expect(invalid.status == .unprocessableContent)
            let invalidAgain = try await app.request(.post, "/api/v1/facilitators", json: "{\"legal_name\": \"\"}", headers: [idempotencyKey: "bad-1"])
            #expect(invalidAgain.status == .unprocessableContent && invalidAgain.headers[replayed] == "true")
            #expect(invalidAgain.text == invalid.text && invalidAgain.headers[.contentType] == "application/problem+json")

            let forbidden = try await app.request(.post, "/api/v1/facilitators", as: .auditor, json: supplierJSON, headers: [idempotencyKey: "bad-2"])
            #expect(forbidden.status == .forbidden)
            #expect(try await app.request(.post, "/api/v1/facilitators", as: .auditor, json: supplierJSON,
                                          headers: [idempotencyKey: "bad-2"]).headers[replayed] == "true")

            let supplier = try await app.createSupplier("Archivable Couriers SA", country: "FR")
            let before = try await app.counts()
            let stale = try await app.request(.post, "/api/v1/facilitators/\(supplier)/archive", headers: [idempotencyKey: "arch-1", .ifMatch: "\"7\""])
            #expect(stale.status == .preconditionFailed)
            let missing = try await app.request(.post, "/api/v1/facilitators/\(supplier)/archive", headers: [idempotencyKey: "arch-1"])
            #expect(missing.status == .preconditionRequired)
            let archived = try await app.request(.post, "/api/v1/facilitators/\(supplier)/archive", headers: [idempotencyKey: "arch-1", .ifMatch: "\"1\""])
            #expect(archived.status == .ok && archived.headers[replayed] == nil)
            let retried = try await app.request(.post, "/api/v1/facilitators/\(supplier)/archive", headers: [idempotencyKey: "arch-1", .ifMatch: "\"1\""])
            #expect(retried.status == .ok && retried.headers[replayed] == "true" && retried.headers[.eTag] == archived.headers[.eTag])
            let after = try await app.counts()
            #expect(Int(after.events)! == Int(before.events)! + 1)
        }
    }

    @Test("a 5xx answer is not kept: the retry with the same key runs the request again")
    func serverErrorsFreeTheKey() async throws {
        try await TestApp.run { app in
            try await TestDatabase.sql(app.db, """
                CREATE FUNCTION test_refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the disk is full'; END $$
                """)
            try await TestDatabase.sql(app.db, "CREATE TRIGGER test_refuse BEFORE INSERT ON facilitators FOR EACH ROW EXECUTE FUNCTION test_refuse_insert()")
            let failed = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: supplierJSON, headers: [idempotencyKey: "flaky-1"])
            #expect(failed.status.code >= 500 && failed.isProblem)
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM idempotency_keys") == "0")
            try await TestDatabase.sql(app.db, "DROP TRIGGER test_refuse ON facilitators")
            let retried = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: supplierJSON, headers: [idempotencyKey: "flaky-1"])
            #expect(retried.status == .created && retried.headers[replayed] == nil)
            #expect(try await app.counts().rows == "1")
        }
    }

    @Test("a malformed key is refused with 400 and the request does not run")
    func malformedKeysAreRefused() async throws {
        try await TestApp.run { app in
            // U+FFFD is what the HTTP parser makes of bytes that are not UTF-8.
            for key in ["", String(repeating: "k", count: 256), "tab\there", "ab\u{85}cd", "ab\u{FFFD}cd"] {
                let response = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: supplierJSON,
                                                     headers: [idempotencyKey: key])
                #expect(response.status == .badRequest && response.isProblem, "key \(key.debugDescription)")
                #expect(response.errorFields == ["Idempotency-Key"])
            }
            var twice: HTTPFields = [idempotencyKey: "one"]
            twice.append(HTTPFields.Element(name: idempotencyKey, value: "two"))
            let twiceResponse = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: supplierJSON, headers: twice)
            #expect(twiceResponse.status == .badRequest)
            #expect(try await app.counts().rows == "0")
            let longest = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: supplierJSON,
                                                headers: [idempotencyKey: String(repeating: "é", count: 255)])
            #expect(longest.status == .created)
        }
    }

    @Test("over the wire, a key whose bytes are not UTF-8 (ISO-8859-1: a C1 control, a one-byte é) is refused; the same key in UTF-8 is taken")
    func keyBytesMustBeUTF8() async throws {
        try await TestApp.run(setup: .live) { app in
            let port = try #require(app.client.port)
            let body = Array(supplierJSON.utf8)
            func post(key: [UInt8]) throws -> String {
                let head = "POST /api/v1/facilitators?create_anyway=true HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Authorization: Bearer \(app.tokens[.officer]!)\r\nContent-Type: application/json\r\n"
                    + "Content-Length: \(body.count)\r\nConnection: close\r\nIdempotency-Key: "
                return try rawHTTPExchange(port: port, request: Array(head.utf8) + key + Array("\r\n\r\n".utf8) + body)
            }
            for key: [UInt8] in [[0x61, 0x62, 0x85, 0x63], [0x61, 0x62, 0x9F], [0xE9, 0x74, 0xE9]] {
                let answer = try post(key: key)
                #expect(answer.hasPrefix("HTTP/1.1 400 "), "key \(key): \(answer)")
                #expect(answer.contains(#""field":"Idempotency-Key","message":"is not valid UTF-8""#), "\(answer)")
            }
            #expect(try await app.counts().rows == "0")
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM idempotency_keys") == "0")
            let utf8 = try post(key: Array("été".utf8))
            #expect(utf8.hasPrefix("HTTP/1.1 201 "), "\(utf8)")
            #expect(try await TestDatabase.scalar(app.db, "SELECT string_agg(key, ',') FROM idempotency_keys") == "été")
        }
    }
}
