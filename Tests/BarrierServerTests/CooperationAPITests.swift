import BarrierCore
import BarrierServer
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Cooperation over HTTP")
struct CooperationAPITests {
    @Test("levels, contacts and measures through the API; the supplier list and campaigns filter by cooperation level")
    func cooperation() async throws {
        try await TestApp.run { app in
            let supplier = try await app.createAddressedSupplier("Koerier Oost BV", sector: "courier", country: "NL")
            let other = try await app.createAddressedSupplier("Koerier West BV", sector: "courier", country: "NL")
            let start = try await app.request(.get, "/api/v1/facilitators/\(supplier)/cooperation")
            #expect(start.object["level"] as? String == "not_contacted" && start.headers[.eTag] == "\"0\"")
            let contact = try await app.request(.post, "/api/v1/facilitators/\(supplier)/contacts", json: """
                {"kind": "meeting", "occurred_on": "2026-01-15", "participants": ["J. Bakker", "Inspector Smit"], "notes": "Walked through the signals."}
                """)
            #expect(contact.status == .created)
            let contactID = try #require(contact.object["id"] as? String)
            let future = try await app.request(.post, "/api/v1/facilitators/\(supplier)/contacts", json: "{\"kind\": \"séance\", \"occurred_on\": \"2999-01-01\"}")
            #expect(future.status == .unprocessableContent && future.errorFields == ["kind"])
            let noReason = try await app.request(.post, "/api/v1/facilitators/\(supplier)/cooperation", json: "{\"level\": \"engaged\"}",
                                                 headers: [.ifMatch: "\"0\""])
            #expect(noReason.status == .unprocessableContent && noReason.errorFields == ["reason"])
            let engaged = try await app.request(.post, "/api/v1/facilitators/\(supplier)/cooperation", json: """
                {"level": "engaged", "reason": "Agreed to a follow-up meeting", "contact_id": "\(contactID)"}
                """, headers: [.ifMatch: "\"0\""])
            #expect(engaged.status == .ok && engaged.object["level"] as? String == "engaged")
            #expect(try await app.request(.post, "/api/v1/facilitators/\(supplier)/cooperation", as: .auditor,
                                          json: "{\"level\": \"refusing\", \"reason\": \"x\"}", headers: [.ifMatch: "\"1\""]).status == .forbidden)
            let stale = try await app.request(.post, "/api/v1/facilitators/\(supplier)/cooperation", json: """
                {"level": "cooperating", "reason": "Named a contact point"}
                """, headers: [.ifMatch: "\"0\""])
            #expect(stale.status == .preconditionFailed)

            let engagedList = try await app.request(.get, "/api/v1/facilitators?cooperation=engaged")
            let ids = ((engagedList.object["items"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
            #expect(ids == [supplier])
            let notContacted = try await app.request(.get, "/api/v1/facilitators?cooperation=not_contacted&sector=courier")
            #expect(((notContacted.object["items"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String } == [other])
            #expect(try await app.request(.get, "/api/v1/facilitators?cooperation=friendly").status == .badRequest)
            let campaign = try await app.request(.post, "/api/v1/campaigns", json: """
                {"name": "Engaged couriers", "filter": {"sector": "courier", "cooperation": "engaged"}}
                """)
            let preview = try await app.request(.get, "/api/v1/campaigns/\(try #require(campaign.object["id"] as? String))/preview?sample=0")
            #expect(preview.object["letters"] as? Int == 1)

            let catalogue = try await app.request(.get, "/api/v1/measures?sector=courier")
            let codes = ((catalogue.object["items"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String }
            #expect(codes.contains("enforce_track_and_trace") && !codes.contains("crypto_cash_out_monitoring"))
            let committed = try await app.request(.post, "/api/v1/facilitators/\(supplier)/measures", json: """
                {"measure": "named_contact_point", "committed_on": "2026-01-15", "due_on": "2099-12-31"}
                """)
            #expect(committed.status == .created && committed.object["status"] as? String == "committed")
            let commitment = try #require(committed.object["id"] as? String)
            let implemented = try await app.request(.post, "/api/v1/measure-commitments/\(commitment)/implemented", json: "{\"on\": \"2026-02-01\"}",
                                                    headers: [.ifMatch: committed.headers[.eTag]!])
            #expect(implemented.status == .ok && implemented.object["status"] as? String == "implemented")
            let verified = try await app.request(.post, "/api/v1/measure-commitments/\(commitment)/verified", json: """
                {"on": "2026-02-10", "method": "Test call to the named contact"}
                """, headers: [.ifMatch: implemented.headers[.eTag]!])
            #expect(verified.object["status"] as? String == "verified" && verified.object["verifier"] as? String == "officer@inspectorate.example")
            let again = try await app.request(.post, "/api/v1/measure-commitments/\(commitment)/implemented", json: "{\"on\": \"2026-02-11\"}",
                                              headers: [.ifMatch: verified.headers[.eTag]!])
            #expect(again.status == .conflict && again.object["allowed"] as? [String] == [])
            let list = try await app.request(.get, "/api/v1/facilitators/\(supplier)/measures")
            #expect((list.object["items"] as? [[String: Any]])?.count == 1)
        }
    }
}
