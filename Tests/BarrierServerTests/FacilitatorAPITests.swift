import BarrierCore
import BarrierServer
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Facilitator API")
struct FacilitatorAPITests {
    @Test func createReadUpdateArchiveWithETags() async throws {
        try await TestApp.run { app in
            // act: create
            let created = try await app.request(.post, "/api/v1/facilitators", json: """
                {"legal_name": "Kanal Kurier B.V.", "aliases": ["KK"], "sector": "courier", "stages": ["shipping"],
                 "markets": ["drugs"], "country": "NL", "registration_number": "KvK 81234567", "vat_number": "NL812345678B01",
                 "contacts": [{"name": "Pieter de Vries", "role": "Security officer", "email": "p.devries@kanalkurier.example"}]}
                """)
            // check
            #expect(created.status == .created)
            #expect(created.headers[.eTag] == "\"1\"")
            let id = try #require(created.object["id"] as? String)
            #expect(created.headers[.location] == "/api/v1/facilitators/\(id)")
            #expect((created.object["contacts"] as? [[String: Any]])?.count == 1)

            let read = try await app.request(.get, "/api/v1/facilitators/\(id)", as: .auditor)
            #expect(read.status == .ok && read.headers[.eTag] == "\"1\"")
            let notModified = try await app.request(.get, "/api/v1/facilitators/\(id)", headers: [.ifNoneMatch: "\"1\""])
            #expect(notModified.status == .notModified)

            let noPrecondition = try await app.request(.patch, "/api/v1/facilitators/\(id)", json: #"{"city": "Utrecht"}"#)
            #expect(noPrecondition.status == .preconditionRequired && noPrecondition.isProblem)
            let updated = try await app.request(.patch, "/api/v1/facilitators/\(id)", json: #"{"city": "Utrecht", "website": null}"#,
                                                headers: [.ifMatch: "\"1\""])
            #expect(updated.status == .ok && updated.headers[.eTag] == "\"2\"")
            #expect(updated.object["city"] as? String == "Utrecht")
            let stale = try await app.request(.patch, "/api/v1/facilitators/\(id)", json: #"{"city": "Delft"}"#, headers: [.ifMatch: "\"1\""])
            #expect(stale.status == .preconditionFailed && stale.isProblem)

            let archived = try await app.request(.post, "/api/v1/facilitators/\(id)/archive", headers: [.ifMatch: "\"2\""])
            #expect(archived.status == .ok && archived.object["status"] as? String == "archived")
            let list = try await app.request(.get, "/api/v1/facilitators")
            #expect((list.object["items"] as? [Any])?.isEmpty == true)
            let archivedList = try await app.request(.get, "/api/v1/facilitators?status=archived")
            #expect((archivedList.object["items"] as? [Any])?.count == 1)
            let audit = try await app.request(.get, "/api/v1/audit?entity_type=facilitator&entity_id=\(id)", as: .auditor)
            #expect(((audit.object["items"] as? [[String: Any]]) ?? []).map { $0["action"] as? String } ==
                    ["facilitator.create", "facilitator.update", "facilitator.archive"])
        }
    }

    @Test func twoConcurrentPatchesWithTheSameIfMatchOneWinsOneGets412() async throws {
        try await TestApp.run { app in
            let id = try await app.createSupplier("Spree Fahrradkurier GmbH")
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for city in ["Berlin", "Potsdam"] {
                    group.addTask {
                        try await app.request(.patch, "/api/v1/facilitators/\(id)", json: "{\"city\": \"\(city)\"}", headers: [.ifMatch: "\"1\""]).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.sorted { $0.code < $1.code } == [.ok, .preconditionFailed])
            let after = try await app.request(.get, "/api/v1/facilitators/\(id)")
            #expect(after.object["version"] as? Int == 2)
        }
    }

    @Test func everyInvalidFieldIsListedAtOnceAndNothingIsWritten() async throws {
        try await TestApp.run { app in
            let response = try await app.request(.post, "/api/v1/facilitators", json: """
                {"legal_name": 42, "sector": "bicycles", "stages": ["shipping", "flying"], "country": "XX",
                 "vat_number": "DE1", "email": "nope", "website": "example", "colour": "red", "id": "x",
                 "contacts": [{"name": "", "email": "x"}]}
                """)
            #expect(response.status == .unprocessableContent)
            #expect(response.isProblem)
            #expect(response.errorFields.isSuperset(of: [
                "legal_name", "sector", "stages[1]", "country", "email", "website", "colour", "id", "contacts[0].name", "contacts[0].email",
            ]))
            let count = try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM facilitators")
            #expect(count == "0")
        }
    }

    @Test func malformedAndOversizeBodiesAndBadParametersAreClear4xx() async throws {
        try await TestApp.run { app in
            let malformed = try await app.request(.post, "/api/v1/facilitators", json: "{\"legal_name\": ")
            #expect(malformed.status == .badRequest && malformed.isProblem)
            let array = try await app.request(.post, "/api/v1/facilitators", json: "[]")
            #expect(array.status == .badRequest)
            let huge = try await app.request(.post, "/api/v1/facilitators", json: "{\"notes\": \"\(String(repeating: "x", count: 40_000))\"}")
            #expect(huge.status == .contentTooLarge && huge.isProblem)
            let badCursor = try await app.request(.get, "/api/v1/facilitators?cursor=notacursor")
            #expect(badCursor.status == .badRequest && badCursor.errorFields == ["cursor"])
            let badFilters = try await app.request(.get, "/api/v1/facilitators?stage=flying&market=guns&limit=1000&colour=red")
            #expect(badFilters.status == .badRequest && badFilters.errorFields == ["stage", "market", "limit", "colour"])
            let notAnID = try await app.request(.get, "/api/v1/facilitators/12")
            #expect(notAnID.status == .notFound && notAnID.isProblem)
            let missing = try await app.request(.get, "/api/v1/facilitators/\(UUID().uuidString)")
            #expect(missing.status == .notFound && missing.isProblem)
            let badIfMatch = try await app.request(.patch, "/api/v1/facilitators/\(UUID().uuidString)", json: "{}", headers: [.ifMatch: "yesterday"])
            #expect(badIfMatch.status == .badRequest)
            let noRoute = try await app.request(.get, "/api/v1/nothing-here")
            #expect(noRoute.status == .notFound)
            let count = try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM facilitators")
            #expect(count == "0")
        }
    }

    @Test func duplicatesAnswer409WithCandidatesUnlessCreateAnyway() async throws {
        try await TestApp.run { app in
            let first = try await app.createSupplier("Brabant Pakketdienst B.V.", country: "NL", registration: "KVK 55501234")
            let body = #"{"legal_name": "Brabant Pakket Dienst BV", "sector": "parcel_delivery", "stages": ["shipping"], "country": "NL"}"#
            let similar = try await app.request(.post, "/api/v1/facilitators", json: body)
            #expect(similar.status == .conflict && similar.isProblem)
            let candidates = try #require(similar.object["candidates"] as? [[String: Any]])
            #expect(candidates.first?["id"] as? String == first)
            #expect(candidates.first?["matched_field"] as? String == "legal_name")
            #expect(similar.object["overridable"] as? Bool == true)
            let anyway = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: body)
            #expect(anyway.status == .created)
            let sameRegistration = try await app.request(.post, "/api/v1/facilitators?create_anyway=true", json: """
                {"legal_name": "Iets Anders B.V.", "sector": "courier", "stages": ["shipping"], "country": "NL", "registration_number": "KVK 55501234"}
                """)
            #expect(sameRegistration.status == .conflict && sameRegistration.object["overridable"] as? Bool == false)
            let secondID = try #require(anyway.object["id"] as? String)
            let dups = try await app.request(.get, "/api/v1/facilitators/\(secondID)/duplicates")
            #expect(((dups.object["candidates"] as? [[String: Any]]) ?? []).contains { $0["id"] as? String == first })
            let merged = try await app.request(.post, "/api/v1/facilitators/\(first)/merge", json: "{\"duplicate_id\": \"\(secondID)\"}",
                                               headers: [.ifMatch: "\"1\""])
            #expect(merged.status == .ok)
            #expect((merged.object["aliases"] as? [String])?.contains("Brabant Pakket Dienst BV") == true)
        }
    }

    @Test func searchListsAndPagesThroughTheAPI() async throws {
        try await TestApp.run { app in
            for name in ["Zeeland Koeriers B.V.", "Zeelandia Hosting B.V.", "Friesland Post B.V."] {
                _ = try await app.createSupplier(name, country: "NL")
            }
            let search = try await app.request(.get, "/api/v1/facilitators?q=zeeland%20koerier")
            let items = try #require(search.object["items"] as? [[String: Any]])
            #expect(items.first?["legal_name"] as? String == "Zeeland Koeriers B.V.")
            let page1 = try await app.request(.get, "/api/v1/facilitators?limit=2&sort=-name")
            let cursor = try #require(page1.object["next_cursor"] as? String)
            let page2 = try await app.request(.get, "/api/v1/facilitators?limit=2&sort=-name&cursor=\(cursor)")
            let names = ((page1.object["items"] as? [[String: Any]]) ?? []) + ((page2.object["items"] as? [[String: Any]]) ?? [])
            #expect(names.compactMap { $0["legal_name"] as? String } == ["Zeelandia Hosting B.V.", "Zeeland Koeriers B.V.", "Friesland Post B.V."])
            #expect(page2.object["next_cursor"] is NSNull)
        }
    }

    @Test func csvImportIsAllOrNothingAndExportRoundTrips() async throws {
        try await TestApp.run { app in
            let header = FacilitatorCSV.columns.filter { $0 != "natural_person" }.joined(separator: ",")
            let bad = "\(header)\n,Good Courier Ltd,,courier,shipping,,IE,,,,,,,,,,,\n,Bad Row Ltd,,courier,nowhere,,IE,,,,,,,,,,,\n"
            let refused = try await app.request(.post, "/api/v1/imports/facilitators", body: bad, headers: [.contentType: "text/csv"])
            #expect(refused.status == .unprocessableContent && refused.isProblem)
            let lines = ((refused.object["errors"] as? [[String: Any]]) ?? []).compactMap { $0["line"] as? Int }
            #expect(lines == [3])
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM facilitators") == "0")
            let wrongType = try await app.request(.post, "/api/v1/imports/facilitators", body: bad, headers: [.contentType: "application/json"])
            #expect(wrongType.status == .unsupportedMediaType)
            let auditorImport = try await app.request(.post, "/api/v1/imports/facilitators", as: .auditor, body: bad, headers: [.contentType: "text/csv"])
            #expect(auditorImport.status == .forbidden)

            let good = "\(header)\n,Good Courier Ltd,,courier,shipping,drugs,IE,,IE1234567T,,,,,,,,,\n,Other Courier Ltd,,courier,shipping,,IE,,,,,,,,,,,\n"
            let imported = try await app.request(.post, "/api/v1/imports/facilitators", body: good, headers: [.contentType: "text/csv"])
            #expect(imported.status == .created && imported.object["created"] as? Int == 2)
            #expect(imported.object["flagged_total"] as? Int == 0 && (imported.object["flagged"] as? [Any])?.isEmpty == true)
            let exported = try await app.request(.get, "/api/v1/facilitators.csv", as: .auditor)
            #expect(exported.status == .ok)
            #expect(exported.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(exported.text.hasPrefix(FacilitatorCSV.columns.joined(separator: ",") + "\n"))
            #expect(exported.text.contains("Good Courier Ltd") && exported.text.contains("IE1234567T"))
        }
    }
}
