import BarrierCore
import BarrierServer
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Signals over HTTP")
struct SignalAPITests {
    @Test("the catalogue follows the paper: a bitcoin ATM is a financial signal of shipping, a lifestyle out of line with income one of stages 1 to 3; each says its source")
    func catalogue() async throws {
        try await TestApp.run { app in
            let supplier = try await app.createAddressedSupplier("Pakjesdienst Noord BV", sector: "parcel_delivery", country: "NL")
            for (stage, indicator) in [("shipping", "bitcoin_atm_use"), ("setting_up_marketplace", "lifestyle_mismatching_income"),
                                       ("selling", "lifestyle_mismatching_income")] {
                let type = indicator == "bitcoin_atm_use" ? "financial" : "social"
                let filed = try await app.request(.post, "/api/v1/signals", json: """
                    {"type": "\(type)", "stage": "\(stage)", "indicator": "\(indicator)", "observed_on": "2026-03-02",
                     "source": "Depot", "reporter": "Inspector Smit", "facilitator_ids": ["\(supplier)"]}
                    """)
                #expect(filed.status == .created, "\(stage) \(indicator): \(filed.text)")
            }
            let catalogue = try await app.request(.get, "/api/v1/signal-indicators", as: .auditor)
            let items = (catalogue.object["items"] as? [[String: Any]]) ?? []
            let sources = Dictionary(uniqueKeysWithValues: items.map { ($0["code"] as? String ?? "", $0["source"] as? String ?? "") })
            #expect(sources.values.filter { $0 == "practice" }.count == 5 && sources["bitcoin_atm_use"] == "paper", "\(sources)")
        }
    }

    @Test("record, correct and attach evidence to a signal; bad input names every field and stores nothing")
    func signals() async throws {
        try await TestApp.run { app in
            let supplier = try await app.createAddressedSupplier("Pakjesdienst Zuid BV", sector: "parcel_delivery", country: "NL")
            let indicators = try await app.request(.get, "/api/v1/signal-indicators")
            let codes = ((indicators.object["items"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String }
            #expect(codes.contains("track_and_trace_off") && codes.contains("bitcoin_atm_use"))
            let bad = try await app.request(.post, "/api/v1/signals", json: """
                {"type": "psychic", "stage": "shipping", "indicator": "track_and_trace_off", "indicator_text": "also this",
                 "observed_on": "2999-12-31", "source": "Depot", "reporter": "Inspector Smit", "facilitator_ids": ["\(supplier)"]}
                """)
            #expect(bad.status == .unprocessableContent && bad.errorFields.contains("type"))
            let worse = try await app.request(.post, "/api/v1/signals", json: """
                {"type": "logistical", "stage": "shipping", "indicator": "track_and_trace_off", "indicator_text": "also this",
                 "observed_on": "2999-12-31", "source": "Depot", "reporter": "Inspector Smit", "facilitator_ids": ["\(supplier)"]}
                """)
            #expect(worse.status == .unprocessableContent && worse.errorFields == ["indicator", "observed_on"])
            // An indicator filed under another type or stage than the catalogue's is refused: a bitcoin ATM is a
            // financial signal of shipping (the paper), and a lifestyle out of line with income one of stages 1 to 3.
            for (type, stage, indicator) in [("financial", "selling", "bitcoin_atm_use"), ("logistical", "shipping", "bitcoin_atm_use"),
                                             ("social", "shipping", "lifestyle_mismatching_income")] {
                let misfiled = try await app.request(.post, "/api/v1/signals", json: """
                    {"type": "\(type)", "stage": "\(stage)", "indicator": "\(indicator)", "observed_on": "2026-03-02",
                     "source": "Depot", "reporter": "Inspector Smit", "facilitator_ids": ["\(supplier)"]}
                    """)
                #expect(misfiled.status == .unprocessableContent && misfiled.errorFields == ["indicator"], "\(type) \(stage) \(indicator)")
            }
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM signals") == "0")
            let created = try await app.request(.post, "/api/v1/signals", json: """
                {"type": "logistical", "stage": "shipping", "indicator": "track_and_trace_off", "observed_on": "2026-03-02",
                 "source": "Sorting centre Eindhoven", "reporter": "Inspector Smit", "description": "Twelve parcels without tracking.",
                 "facilitator_ids": ["\(supplier)"]}
                """)
            #expect(created.status == .created && created.headers[.eTag] == "\"1\"")
            let id = try #require(created.object["id"] as? String)
            let corrected = try await app.request(.post, "/api/v1/signals/\(id)/corrections", json: """
                {"type": "logistical", "stage": "shipping", "indicator": "track_and_trace_off", "observed_on": "2026-03-01",
                 "source": "Sorting centre Eindhoven", "reporter": "Inspector Smit", "description": "Twelve parcels without tracking.",
                 "facilitator_ids": ["\(supplier)"], "correction_reason": "The log was dated a day late."}
                """, headers: [.ifMatch: "\"1\""])
            #expect(corrected.status == .created && corrected.object["version"] as? Int == 2 && corrected.object["observed_on"] as? String == "2026-03-01")
            let file = Data("%PDF-1.4 sorting log".utf8)
            let attached = try await app.request(.post, "/api/v1/signals/\(id)/attachments", json: """
                {"name": "sorting-log.pdf", "content_type": "application/pdf", "content_base64": "\(file.base64EncodedString())"}
                """)
            #expect(attached.status == .created)
            let attachment = try #require(((attached.object["attachments"] as? [[String: Any]])?.first?["id"]) as? String)
            let download = try await app.request(.get, "/api/v1/signals/\(id)/attachments/\(attachment)", as: .auditor)
            #expect(Data(buffer: download.body) == file && download.headers[.contentType] == "application/pdf")
            let wrongType = try await app.request(.post, "/api/v1/signals/\(id)/attachments", json: """
                {"name": "run.exe", "content_type": "application/x-msdownload", "content_base64": "TVqQ"}
                """)
            #expect(wrongType.status == .unprocessableContent)
            let listed = try await app.request(.get, "/api/v1/signals?facilitator_id=\(supplier)&type=logistical")
            #expect((listed.object["items"] as? [[String: Any]])?.count == 1)
            #expect(try await app.request(.get, "/api/v1/signals?type=telepathic").status == .badRequest)
        }
    }
}
