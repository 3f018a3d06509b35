import BarrierCore
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Sharing a signal with another agency")
struct SignalSharingTests {
    @Test("a shared signal is read-only for the receiver and usable as evidence; revoking hides it again; every step is audited")
    func shareUseAndRevoke() async throws {
        try await TestApp.run { app in
            // setup: the first agency's signal, a receiving agency and a third that is never told
            let today = try #require(try await TestDatabase.scalar(app.db, "SELECT current_date::text"))
            let supplier = try await app.createAddressedSupplier("Vakuumpack Ost GmbH", sector: "stealth_packaging", country: "DE")
            let signal = try #require(try await app.request(.post, "/api/v1/signals", json: """
                {"type": "logistical", "stage": "shipping", "indicator": "bulk_stealth_packaging", "observed_on": "\(today)",
                 "source": "Customs risk analysis", "reporter": "Inspector Smit", "description": "Private buyers order vacuum bags by the thousand.",
                 "facilitator_ids": ["\(supplier)"]}
                """).object["id"] as? String)
            let file = Data("%PDF-1.4 order list".utf8)
            let attached = try await app.request(.post, "/api/v1/signals/\(signal)/attachments", json: """
                {"name": "orders.pdf", "content_type": "application/pdf", "content_base64": "\(file.base64EncodedString())"}
                """)
            let attachment = try #require((attached.object["attachments"] as? [[String: Any]])?.first?["id"] as? String)
            let customs = try await Fixtures.agencyWithUsers(app.db, name: "Customs Office", country: "DE", domain: "customs.example")
            let third = try await Fixtures.agencyWithUsers(app.db, name: "Gaming Authority", country: "DE", domain: "gaming.example")
            #expect(try await app.request(.get, "/api/v1/signals/\(signal)", token: customs[.officer]).status == .notFound)

            // act: bad shares are refused with every field named, and change nothing
            let empty = try await app.request(.post, "/api/v1/signals/\(signal)/shares", json: "{}")
            #expect(empty.status == .unprocessableContent && empty.errorFields == ["agency", "legal_basis"])
            let own = try await app.request(.post, "/api/v1/signals/\(signal)/shares", json: """
                {"agency": "Test Inspectorate", "legal_basis": " "}
                """)
            #expect(own.status == .unprocessableContent && own.errorFields == ["agency", "legal_basis"])
            let unknown = try await app.request(.post, "/api/v1/signals/\(signal)/shares", json: """
                {"agency": "Ministry of Nowhere", "legal_basis": "Art. 8 Customs Cooperation Agreement"}
                """)
            #expect(unknown.status == .unprocessableContent && unknown.errorFields == ["agency"])
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM signal_shares") == "0")
            let shared = try await app.request(.post, "/api/v1/signals/\(signal)/shares", json: """
                {"agency": "Customs Office", "legal_basis": "Art. 8 Customs Cooperation Agreement", "handling_note": "For risk profiling only."}
                """)
            #expect(shared.status == .created)
            let share = try #require(shared.object["id"] as? String)
            #expect((shared.object["shared_with"] as? [String: Any])?["name"] as? String == "Customs Office")
            let twice = try await app.request(.post, "/api/v1/signals/\(signal)/shares", json: """
                {"agency": "Customs Office", "legal_basis": "Art. 8 Customs Cooperation Agreement"}
                """)
            #expect(twice.status == .conflict)

            // check: the receiver reads it, its file and its share, and may not change or pass it on
            let read = try await app.request(.get, "/api/v1/signals/\(signal)", token: customs[.auditor])
            #expect(read.status == .ok && read.object["read_only"] as? Bool == true)
            #expect((read.object["agency"] as? [String: Any])?["name"] as? String == "Test Inspectorate")
            #expect(try await app.request(.get, "/api/v1/signals/\(signal)", as: .auditor).object["read_only"] as? Bool == false)
            let listed = try await app.request(.get, "/api/v1/signals?facilitator_id=\(supplier)", token: customs[.officer])
            #expect((listed.object["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [signal])
            let download = try await app.request(.get, "/api/v1/signals/\(signal)/attachments/\(attachment)", token: customs[.officer])
            #expect(Data(buffer: download.body) == file)
            #expect((try await app.request(.get, "/api/v1/signals/\(signal)/shares", token: customs[.officer]).object["items"] as? [Any])?.count == 1)
            let correction = try await app.request(.post, "/api/v1/signals/\(signal)/corrections", token: customs[.officer], json: """
                {"type": "logistical", "stage": "shipping", "indicator": "bulk_stealth_packaging", "observed_on": "\(today)",
                 "source": "Customs", "reporter": "Customs officer", "description": "Rewritten.", "facilitator_ids": ["\(supplier)"],
                 "correction_reason": "Ours now."}
                """, headers: [.ifMatch: "\"1\""])
            #expect(correction.status == .forbidden)
            let extraFile = try await app.request(.post, "/api/v1/signals/\(signal)/attachments", token: customs[.officer], json: """
                {"name": "more.pdf", "content_type": "application/pdf", "content_base64": "\(file.base64EncodedString())"}
                """)
            #expect(extraFile.status == .forbidden)
            let passedOn = try await app.request(.post, "/api/v1/signals/\(signal)/shares", token: customs[.officer], json: """
                {"agency": "Gaming Authority", "legal_basis": "Passing it on"}
                """)
            #expect(passedOn.status == .forbidden)
            #expect(try await app.request(.post, "/api/v1/signals/\(signal)/shares/\(share)/revoke", token: customs[.officer],
                                          json: "{\"reason\": \"Not wanted.\"}").status == .forbidden)
            #expect(try await app.request(.get, "/api/v1/signals/\(signal)", token: third[.admin]).status == .notFound)
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM signal_versions") == "1")
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM signal_attachments") == "1")

            // The receiver relies on it as evidence for its own licensing action.
            let action = try await app.request(.post, "/api/v1/licensing-actions", token: customs[.officer], json: """
                {"facilitator_id": "\(supplier)", "type": "conditions", "legal_basis": "§ 5 Zollverwaltungsgesetz",
                 "rationale": "Bulk stealth packaging sold to private buyers.", "conditions": "Identify every bulk buyer.",
                 "signal_ids": ["\(signal)"]}
                """)
            #expect(action.status == .created)
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM licensing_action_signals WHERE signal_id = '\(signal)'") == "1")

            // Revoking hides it again; a second revocation is refused.
            #expect(try await app.request(.post, "/api/v1/signals/\(signal)/shares/\(share)/revoke", json: "{}").errorFields == ["reason"])
            let revoked = try await app.request(.post, "/api/v1/signals/\(signal)/shares/\(share)/revoke", json: """
                {"reason": "The risk analysis ended."}
                """)
            #expect(revoked.status == .ok && revoked.object["revocation_reason"] as? String == "The risk analysis ended.")
            #expect(try await app.request(.post, "/api/v1/signals/\(signal)/shares/\(share)/revoke", json: """
                {"reason": "Again."}
                """).status == .conflict)
            #expect(try await app.request(.get, "/api/v1/signals/\(signal)", token: customs[.officer]).status == .notFound)
            let after = try await app.request(.get, "/api/v1/signals", token: customs[.officer])
            #expect((after.object["items"] as? [Any])?.isEmpty == true)
            #expect(try await app.request(.get, "/api/v1/signals/\(signal)/attachments/\(attachment)", token: customs[.officer]).status == .notFound)

            let audit = try await app.request(.get, "/api/v1/audit?entity_type=signal&entity_id=\(signal)", as: .admin)
            let actions = ((audit.object["items"] as? [[String: Any]]) ?? []).compactMap { $0["action"] as? String }
            #expect(actions == ["signal.create", "signal.attach", "signal.share", "signal.revoke_share"])
        }
    }
}
