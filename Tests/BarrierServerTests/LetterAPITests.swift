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
    /// A supplier with a postal and an e-mail address; returns its id.
    func createAddressedSupplier(_ name: String, sector: String = "parcel_delivery", country: String = "BE") async throws -> String {
        let response = try await request(.post, "/api/v1/facilitators?create_anyway=true", json: """
            {"legal_name": "\(name)", "sector": "\(sector)", "stages": ["shipping"], "country": "\(country)",
             "street": "Rue des Colis 7", "postal_code": "1000", "city": "Bruxelles", "email": "security@\(name.lowercased().filter(\.isLetter)).example"}
            """)
        guard response.status == .created, let id = response.object["id"] as? String else {
            throw TestFailure("create failed: \(response.status) \(response.text)")
        }
        return id
    }

    func etag(_ uri: String) async throws -> String {
        try await request(.get, uri).headers[.eTag] ?? ""
    }
}

@Suite("Letters and campaigns over HTTP")
struct LetterAPITests {
    @Test("a letter through the API: draft, approve, PDF and e-mail, delivered, responded; bad steps answer 409 or 422 and change nothing")
    func letterLifecycle() async throws {
        try await TestApp.run { app in
            let agencyTag = try await app.etag("/api/v1/agency")
            let letterhead = try await app.request(.patch, "/api/v1/agency", as: .admin, json: """
                {"street": "Rue de la Loi 16", "postal_code": "1000", "city": "Brussels", "email": "barrier@inspectorate.example",
                 "signatory_name": "Dr. Anne Verstraete", "signatory_title": "Head of Licensing", "response_days": 21}
                """, headers: [.ifMatch: agencyTag])
            #expect(letterhead.status == .ok)
            let officerPatch = try await app.request(.patch, "/api/v1/agency", as: .officer, json: "{\"city\": \"Gent\"}", headers: [.ifMatch: "\"2\""])
            #expect(officerPatch.status == .forbidden)

            let supplier = try await app.createAddressedSupplier("Colis Rapides SPRL")
            let bad = try await app.request(.post, "/api/v1/letters", json: """
                {"facilitator_id": "\(supplier)", "kind": "love_letter", "deadline": "2001-01-01", "colour": "red"}
                """)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.errorFields.isSuperset(of: ["kind", "colour"]))
            let pastDeadline = try await app.request(.post, "/api/v1/letters", json: """
                {"facilitator_id": "\(supplier)", "kind": "inform_call_to_action", "deadline": "2001-01-01"}
                """)
            #expect(pastDeadline.status == .unprocessableContent && pastDeadline.errorFields == ["deadline"])

            let created = try await app.request(.post, "/api/v1/letters", json: """
                {"facilitator_id": "\(supplier)", "kind": "inform_call_to_action"}
                """)
            #expect(created.status == .created)
            let id = try #require(created.object["id"] as? String)
            #expect(created.object["language"] as? String == "nl")
            #expect(created.object["response_days"] as? Int == 21)
            let draftText = try await app.request(.get, "/api/v1/letters/\(id).txt")
            #expect(draftText.status == .ok && draftText.text.contains("DRAFT") && draftText.text.contains("Colis Rapides SPRL"))
            #expect(try await app.request(.get, "/api/v1/letters/\(id).eml").status == .conflict)

            #expect(try await app.request(.post, "/api/v1/letters/\(id)/approve").status == .preconditionRequired)
            #expect(try await app.request(.post, "/api/v1/letters/\(id)/approve", as: .auditor, headers: [.ifMatch: "\"1\""]).status == .forbidden)
            let approved = try await app.request(.post, "/api/v1/letters/\(id)/approve", headers: [.ifMatch: created.headers[.eTag]!])
            #expect(approved.status == .ok)
            let reference = try #require(approved.object["reference"] as? String)
            #expect(reference.hasPrefix("OUT-") && reference.count == 15)

            let pdf = try await app.request(.get, "/api/v1/letters/\(id).pdf")
            #expect(pdf.headers[.contentType] == "application/pdf")
            let pdfText = try runTool("/usr/bin/pdftotext", ["{file}", "-"], input: Data(buffer: pdf.body))
            #expect(pdfText.contains(reference) && pdfText.contains("Colis Rapides SPRL"))
            let eml = try await app.request(.get, "/api/v1/letters/\(id).eml")
            #expect(eml.headers[.contentType] == "message/rfc822")
            #expect(eml.text.contains("Message-ID: <\(reference).") && eml.text.contains("Content-Type: application/pdf"))
            #expect(try await app.request(.get, "/api/v1/letters/\(id).html").text.contains(reference))

            // Approving twice is not a step of the lifecycle: 409 naming what is allowed.
            let again = try await app.request(.post, "/api/v1/letters/\(id)/approve", headers: [.ifMatch: approved.headers[.eTag]!])
            #expect(again.status == .conflict && again.isProblem)
            #expect(again.object["allowed"] as? [String] == ["sent"])
            #expect(again.object["current_status"] as? String == "approved")

            let today = try #require(approved.object["letter_date"] as? String)
            let sent = try await app.request(.post, "/api/v1/letters/\(id)/send", json: """
                {"method": "registered_post", "on": "\(today)", "tracking_number": "RR123456785BE"}
                """, headers: [.ifMatch: approved.headers[.eTag]!])
            #expect(sent.status == .ok && sent.object["status"] as? String == "sent")
            let stale = try await app.request(.post, "/api/v1/letters/\(id)/delivered", json: "{\"on\": \"\(today)\"}", headers: [.ifMatch: approved.headers[.eTag]!])
            #expect(stale.status == .preconditionFailed)
            let delivered = try await app.request(.post, "/api/v1/letters/\(id)/delivered", json: """
                {"on": "\(today)", "proof": "bpost signature, M. Dubois"}
                """, headers: [.ifMatch: sent.headers[.eTag]!])
            #expect(delivered.status == .ok)
            let answer = Data("%PDF-1.4 reply of Colis Rapides".utf8)
            let responded = try await app.request(.post, "/api/v1/letters/\(id)/responded", json: """
                {"on": "\(today)", "channel": "letter", "summary": "Named a security officer.",
                 "document": {"name": "reply.pdf", "content_type": "application/pdf", "content_base64": "\(answer.base64EncodedString())"}}
                """, headers: [.ifMatch: delivered.headers[.eTag]!])
            #expect(responded.status == .ok && responded.object["status"] as? String == "responded")
            let stored = try await app.request(.get, "/api/v1/letters/\(id)/response-document")
            #expect(Data(buffer: stored.body) == answer)

            let timeline = try await app.request(.get, "/api/v1/facilitators/\(supplier)/letters")
            let events = ((timeline.object["items"] as? [[String: Any]])?.first?["events"] as? [[String: Any]])?.compactMap { $0["status"] as? String }
            #expect(events == ["draft", "approved", "sent", "delivered", "responded"])
        }
    }

    @Test("sending by e-mail goes through the relay once and marks the letter sent")
    func emailSending() async throws {
        let smtp = try TestSMTPServer()
        defer { smtp.stop() }
        TestApp.smtpRelay = smtp.relay
        defer { TestApp.smtpRelay = nil }
        try await TestApp.run { app in
            let supplier = try await app.createAddressedSupplier("Velo Koeriers BV", sector: "courier", country: "NL")
            let created = try await app.request(.post, "/api/v1/letters", json: "{\"facilitator_id\": \"\(supplier)\", \"kind\": \"inform_call_to_action\"}")
            let id = try #require(created.object["id"] as? String)
            let approved = try await app.request(.post, "/api/v1/letters/\(id)/approve", headers: [.ifMatch: created.headers[.eTag]!])
            let queued = try await app.request(.post, "/api/v1/letters/\(id)/send", json: "{\"method\": \"email\"}", headers: [.ifMatch: approved.headers[.eTag]!])
            #expect(queued.status == .accepted)
            let twice = try await app.request(.post, "/api/v1/letters/\(id)/send", json: "{\"method\": \"post\", \"on\": \"2026-01-01\"}",
                                              headers: [.ifMatch: queued.headers[.eTag]!])
            #expect(twice.status == .conflict || twice.status == .unprocessableContent)
            let letters = try await Fixtures.letterStore(app.db)
            #expect(try await LetterMail(app.db, letters: letters, relay: smtp.relay).sendDue() == 1)
            #expect(smtp.messages().count == 1)
            #expect(smtp.messages()[0].contains("security@velokoeriersbv.example"))
            #expect(try await app.request(.get, "/api/v1/letters/\(id)").object["status"] as? String == "sent")
        }
    }

    @Test("a campaign over one sector: preview, approve, the job writes every letter, the ZIP holds each PDF and the manifest")
    func campaign() async throws {
        try await TestApp.run { app in
            var couriers: [String] = []
            for name in ["Fietskoerier Gent BV", "Stadsbode Antwerpen NV", "Kurierdienst Eupen GmbH"] {
                couriers.append(try await app.createAddressedSupplier(name, sector: "courier", country: "BE"))
            }
            _ = try await app.createAddressedSupplier("Hosting Partners SA", sector: "hosting_provider", country: "BE")
            let bad = try await app.request(.post, "/api/v1/campaigns", json: """
                {"name": "", "filter": {"sector": "zeppelins", "colour": "red"}, "language_by_country": {"BE": "xx"}}
                """)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.errorFields.isSuperset(of: ["language_by_country.BE"]))
            let created = try await app.request(.post, "/api/v1/campaigns", json: """
                {"name": "Couriers Belgium 2026", "filter": {"sector": "courier", "country": "BE"},
                 "language_by_country": {"BE": "fr"}, "language_overrides": {"\(couriers[2])": "de"}}
                """)
            #expect(created.status == .created)
            let id = try #require(created.object["id"] as? String)
            let preview = try await app.request(.get, "/api/v1/campaigns/\(id)/preview?sample=3")
            #expect(preview.object["letters"] as? Int == 3)
            let languages = Set(((preview.object["sample"] as? [[String: Any]]) ?? []).compactMap { $0["language"] as? String })
            #expect(languages == ["fr", "de"])
            #expect(try await app.request(.get, "/api/v1/campaigns/\(id).zip").status == .conflict)

            let approved = try await app.request(.post, "/api/v1/campaigns/\(id)/approve", headers: [.ifMatch: created.headers[.eTag]!])
            #expect(approved.status == .accepted)
            let campaigns = CampaignStore(app.db, letters: try await Fixtures.letterStore(app.db))
            while try await campaigns.runNextJob() {}
            let done = try await app.request(.get, "/api/v1/campaigns/\(id)")
            #expect(done.object["status"] as? String == "generated")
            let progress = done.object["progress"] as? [String: Any]
            #expect(progress?["letters_done"] as? Int == 3 && progress?["pdfs_done"] as? Int == 3)
            let letters = try await app.request(.get, "/api/v1/letters?campaign_id=\(id)")
            let references = ((letters.object["items"] as? [[String: Any]]) ?? []).compactMap { $0["reference"] as? String }
            #expect(references.count == 3)

            let zip = try await app.request(.get, "/api/v1/campaigns/\(id).zip")
            #expect(zip.status == .ok && zip.headers[.contentType] == "application/zip")
            let listing = try runTool("/usr/bin/python3", ["-c", "import zipfile,sys; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))", "{file}"],
                                  input: Data(buffer: zip.body))
            #expect(Set(listing.split(separator: "\n").map(String.init)) == Set(references.map { "\($0).pdf" } + ["manifest.csv"]))
            let manifest = try await app.request(.get, "/api/v1/campaigns/\(id)/manifest.csv")
            let lines = manifest.text.split(separator: "\n")
            #expect(lines.count == 4 && lines[0].hasPrefix("reference,facilitator_id,supplier"))
            #expect(lines.dropFirst().allSatisfy { $0.split(separator: ",").count >= 6 })
            // Approved once: a second approval changes nothing.
            #expect(try await app.request(.post, "/api/v1/campaigns/\(id)/approve", headers: [.ifMatch: done.headers[.eTag]!]).status == .conflict)
        }
    }
}
