import BarrierCore
import BarrierServer
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BarrierServer

fileprivate extension TestApp {
    /// Runs the campaign jobs that are due (as the server's background work would); `only` limits it to one kind.
    func runCampaignJobs(only kind: String? = nil) async throws {
        let campaigns = CampaignStore(db, letters: try await Fixtures.letterStore(db))
        while try await campaigns.runNextJob(only: kind) {}
    }

    func rowCount(_ table: String) async throws -> String {
        try await TestDatabase.scalar(db, "SELECT count(*)::text FROM \(table)") ?? ""
    }

    /// A draft campaign of the first agency over Belgian couriers, made through the API; its id.
    func draftCampaign(_ name: String = "Couriers Belgium") async throws -> String {
        let created = try await request(.post, "/api/v1/campaigns", json: """
            {"name": "\(name)", "filter": {"sector": "courier", "country": "BE"}}
            """)
        guard created.status == .created, let id = created.object["id"] as? String else {
            throw TestFailure("creating the campaign failed: \(created.status) \(created.text)")
        }
        return id
    }
}

/// The names of a ZIP's entries (read by Python's zipfile, not by our own code).
fileprivate func zipEntries(_ body: ByteBuffer) throws -> Set<String> {
    let listing = try runTool("/usr/bin/python3", ["-c", "import zipfile,sys; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))", "{file}"],
                              input: Data(buffer: body))
    return Set(listing.split(separator: "\n").map(String.init))
}

@Suite("Campaigns in the browser's terms")
struct CampaignPageTests {
    static let refresh = "<meta http-equiv=\"refresh\" content=\"\(PageController.campaignRefreshSeconds)\">"

    @Test("an officer sets a campaign up with the registry's filters and a language rule, previews it, approves it, watches it to the end and downloads it")
    func setUpApproveAndDownload() async throws {
        try await TestApp.run { app in
            var couriers: [String] = []
            for name in ["Fietskoerier Gent BV", "Stadsbode Antwerpen NV", "Kurierdienst Eupen GmbH"] {
                couriers.append(try await app.createAddressedSupplier(name, sector: "courier", country: "BE"))
            }
            _ = try await app.createSupplier("Koerier Zonder Adres BV", country: "BE")  // a courier without a postal address
            _ = try await app.createAddressedSupplier("Hosting Partners SA", sector: "hosting_provider", country: "BE")
            let session = try await app.signIn("officer@inspectorate.example")

            // The form: the registry list's controls, the kind, the language rule.
            let form = try await app.page("/campaigns/new", session: session)
            #expect(form.status == .ok)
            for control in ["id=\"q\"", "id=\"sector\"", "id=\"country\"", "id=\"stage\"", "id=\"market\"", "id=\"status\"", "id=\"cooperation\"",
                            "name=\"kind\"", "name=\"language_country0\"", "name=\"language0\"", "name=\"override_supplier0\"", "name=\"response_days\""] {
                #expect(form.text.contains(control), "the form has no \(control)")
            }
            #expect(form.text.contains("<option value=\"inform_call_to_action\" selected>"))
            #expect(!form.text.contains("style=") && !form.text.contains("<script"))

            // The store's rules, each beside its field, with what was typed kept; nothing saved.
            let bad = try await app.post("/campaigns", session: session, fields: [
                ("name", " "), ("sector", "courier"), ("country", "ZZ"), ("response_days", "999"),
                ("language_country0", "BE"), ("language0", "fr"), ("language_country1", "QQ"), ("language1", "de"),
            ])
            #expect(bad.status == .unprocessableContent)
            #expect(bad.text.contains("id=\"name-error\"") && bad.text.contains("id=\"response_days-error\"") && bad.text.contains("id=\"rule1-error\""),
                    "\(bad.text)")
            #expect(bad.text.contains("is not an ISO 3166-1 alpha-2 country code"))
            #expect(bad.text.contains("value=\"ZZ\"") && bad.text.contains("value=\"999\"") && bad.text.contains("value=\"QQ\""))
            #expect(bad.text.contains("<option value=\"courier\" selected>") && bad.text.contains("<option value=\"fr\" selected>"))
            // The form's own reading: a rule without its language.
            let half = try await app.post("/campaigns", session: session, fields: [("name", "Half a rule"), ("language_country0", "BE")])
            #expect(half.status == .unprocessableContent && half.text.contains("id=\"rule0-error\"") && half.text.contains("choose a language"))
            #expect(half.text.contains("value=\"Half a rule\""))
            #expect(try await app.rowCount("campaigns") == "0")

            // Saved as a draft, the campaign's page is its preview.
            let created = try await app.post("/campaigns", session: session, fields: [
                ("name", "Couriers Belgium 2026"), ("sector", "courier"), ("country", "BE"), ("status", ""),
                ("language_country0", "BE"), ("language0", "fr"), ("override_supplier0", couriers[2]), ("override_language0", "de"),
            ])
            #expect(created.status == .seeOther)
            let location = try #require(created.headers[.location])
            let id = try #require(location.split(separator: "/").last?.split(separator: "?").first.map(String.init))
            #expect(location == "/campaigns/\(id)?done=created")
            let draft = try await app.page(location, session: session)
            #expect(draft.status == .ok && draft.text.contains("<h1>Couriers Belgium 2026</h1>"))
            #expect(draft.text.contains("The campaign was saved as a draft"))
            #expect(draft.text.contains("<dt>Letters approving would write</dt><dd>3</dd>"), "\(draft.text)")
            #expect(draft.text.contains("<dt>Suppliers left out (no postal address)</dt><dd>1</dd>"))
            #expect(draft.text.contains("BE → fr") && draft.text.contains("\(couriers[2])</a> → de"))
            #expect(draft.text.contains("country = BE; sector = courier;") && draft.text.contains("href=\"/suppliers?country=BE&amp;sector=courier\""))
            #expect(draft.text.contains("(fr, template") && draft.text.contains("(de, template"))
            #expect(draft.text.contains("<pre>") && draft.text.contains("Rue des Colis 7"))
            #expect(draft.text.contains("action=\"/campaigns/\(id)/approve\""))
            #expect(!draft.text.contains("http-equiv=\"refresh\""))
            let list = try await app.page("/campaigns", session: session)
            #expect(list.text.contains("<a href=\"/campaigns/\(id)\">Couriers Belgium 2026</a>") && list.text.contains("href=\"/campaigns/new\""))
            #expect(try await app.page("/campaigns/\(id).zip", session: session).status == .conflict)

            // Approving with the version the page was read at; a stale one is refused and changes nothing.
            let version = try #require(TestApp.hidden("version", in: draft.text))
            let stale = try await app.post("/campaigns/\(id)/approve", session: session, fields: [("version", String((Int(version) ?? 0) + 5))])
            #expect(stale.status == .conflict && stale.text.contains("The campaign changed since the page was opened"))
            #expect(try await app.request(.get, "/api/v1/campaigns/\(id)").object["status"] as? String == "draft")
            let approved = try await app.post("/campaigns/\(id)/approve", session: session, fields: [("version", version)])
            #expect(approved.status == .seeOther && approved.headers[.location] == "/campaigns/\(id)?done=approved")

            // The page reloads itself while the letters are written and while they are printed, and not once done.
            let generating = try await app.page("/campaigns/\(id)?done=approved", session: session)
            #expect(generating.text.contains(Self.refresh) && generating.text.contains("<dd>generating</dd>"))
            #expect(generating.text.contains("The campaign was approved") && generating.text.contains("0 of 3"))
            #expect(!generating.text.contains("action=\"/campaigns/\(id)/approve\"") && !generating.text.contains("/manifest.csv\""))
            #expect(generating.text.contains("<a href=\"/campaigns/\(id)?reload=off\">Stop reloading</a>"))
            // The user may stop the reloading (a time limit they can turn off) and start it again.
            let stopped = try await app.page("/campaigns/\(id)?reload=off", session: session)
            #expect(stopped.status == .ok && !stopped.text.contains("http-equiv=\"refresh\"") && stopped.text.contains("This page no longer reloads itself."))
            #expect(stopped.text.contains("<a href=\"/campaigns/\(id)\">Reload by itself every \(PageController.campaignRefreshSeconds) seconds</a>"))
            // A refusal is shown at the post's address, which must not be reloaded.
            let current = try #require(try await app.request(.get, "/api/v1/campaigns/\(id)").object["version"] as? Int)
            let twice = try await app.post("/campaigns/\(id)/approve", session: session, fields: [("version", String(current))])
            #expect(twice.status == .conflict && twice.text.contains("approved already") && !twice.text.contains("http-equiv=\"refresh\""))
            try await app.runCampaignJobs(only: "campaign_letters")
            let printing = try await app.page("/campaigns/\(id)", session: session)
            #expect(printing.text.contains(Self.refresh) && printing.text.contains("<dd>generated</dd>"))
            #expect(printing.text.contains("<progress id=\"letters-progress\" max=\"3\" value=\"3\">") && printing.text.contains("0 of 3"))
            try await app.runCampaignJobs()
            let done = try await app.page("/campaigns/\(id)", session: session)
            #expect(!done.text.contains("http-equiv=\"refresh\"") && !done.text.contains("Stop reloading"))
            let doneAfterApproval = try await app.page("/campaigns/\(id)?done=approved", session: session)
            #expect(!doneAfterApproval.text.contains("The campaign was approved") && !doneAfterApproval.text.contains("http-equiv=\"refresh\""))
            #expect(done.text.contains("<progress id=\"pdfs-progress\" max=\"3\" value=\"3\">") && done.text.contains("Done: every letter is written and printed."))
            #expect(done.text.contains("href=\"/campaigns/\(id).zip\"") && done.text.contains("href=\"/campaigns/\(id)/manifest.csv\""))

            // The downloads: the same manifest as the API's, and a ZIP of every letter's PDF and the manifest.
            let references = try await TestDatabase.scalar(app.db, "SELECT string_agg(reference, ',' ORDER BY reference) FROM letters WHERE campaign_id = '\(id)'") ?? ""
            #expect(references.split(separator: ",").count == 3)
            let manifest = try await app.page("/campaigns/\(id)/manifest.csv", session: session)
            #expect(manifest.status == .ok && manifest.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(manifest.headers[.contentDisposition]?.contains("manifest.csv") == true)
            let lines = manifest.text.split(separator: "\n")
            #expect(lines.count == 4 && lines[0].hasPrefix("reference,facilitator_id,supplier"))
            for reference in references.split(separator: ",") { #expect(manifest.text.contains(reference)) }
            #expect(manifest.text.contains("Kurierdienst Eupen GmbH") && !manifest.text.contains("Koerier Zonder Adres"))
            #expect(manifest.body == (try await app.request(.get, "/api/v1/campaigns/\(id)/manifest.csv")).body)
            let zip = try await app.page("/campaigns/\(id).zip", session: session)
            #expect(zip.status == .ok && zip.headers[.contentType] == "application/zip")
            #expect(try zipEntries(zip.body) == Set(references.split(separator: ",").map { "\($0).pdf" } + ["manifest.csv"]))

            // Approved once: approving again is refused on the page, and nothing is queued.
            let jobs = try await app.rowCount("jobs")
            let again = try await app.post("/campaigns/\(id)/approve", session: session, fields: [("version", version)])
            #expect(again.status == .conflict && again.text.contains("The campaign cannot be approved"))
            #expect(try await app.rowCount("jobs") == jobs)
            // The dashboard's count leads to the campaigns.
            #expect(try await app.page("/home", session: session).text.contains("<a href=\"/campaigns\"><strong>0</strong> Campaigns in progress</a>"))
        }
    }

    @Test("an auditor reads campaigns but is offered no button, and a forged post is refused and changes nothing; so is a post without the form token")
    func auditorReadsOnly() async throws {
        try await TestApp.run { app in
            _ = try await app.createAddressedSupplier("Fietskoerier Gent BV", sector: "courier", country: "BE")
            let id = try await app.draftCampaign()
            let auditor = try await app.signIn("auditor@inspectorate.example")
            let list = try await app.page("/campaigns", session: auditor)
            #expect(list.status == .ok && list.text.contains("href=\"/campaigns/\(id)\"") && !list.text.contains("href=\"/campaigns/new\""))
            let page = try await app.page("/campaigns/\(id)", session: auditor)
            #expect(page.status == .ok && page.text.contains("<dt>Letters approving would write</dt><dd>1</dd>"))
            #expect(!page.text.contains("/approve\"") && !page.text.contains("<button>Approve"))
            #expect(!page.text.contains("href=\"/campaigns/new"))
            #expect(try await app.page("/campaigns/new", session: auditor).status == .forbidden)
            let forged = try await app.post("/campaigns/\(id)/approve", session: auditor, fields: [("version", "1")])
            #expect(forged.status == .forbidden)
            let create = try await app.post("/campaigns", session: auditor, fields: [("name", "Auditor's own"), ("sector", "courier")])
            #expect(create.status == .forbidden)
            #expect(try await app.request(.get, "/api/v1/campaigns/\(id)").object["status"] as? String == "draft")
            #expect(try await app.rowCount("campaigns") == "1")
            #expect(try await app.rowCount("jobs") == "0")

            let officer = try await app.signIn("officer@inspectorate.example")
            let noToken = try await app.post("/campaigns/\(id)/approve", session: officer, fields: [("version", "1")], csrf: "forged")
            #expect(noToken.status == .forbidden)
            #expect(try await app.request(.get, "/api/v1/campaigns/\(id)").object["status"] as? String == "draft")
        }
    }

    @Test("another agency's officer gets the 404 page for the campaign, its ZIP and its manifest, and does not see it in the list")
    func anotherAgency() async throws {
        try await TestApp.run { app in
            _ = try await app.createAddressedSupplier("Fietskoerier Gent BV", sector: "courier", country: "BE")
            let id = try await app.draftCampaign("Geheime Kampagne")
            let tag = try await app.etag("/api/v1/campaigns/\(id)")
            #expect(try await app.request(.post, "/api/v1/campaigns/\(id)/approve", headers: [.ifMatch: tag]).status == .accepted)
            try await app.runCampaignJobs()
            _ = try await Fixtures.agencyWithUsers(app.db, name: "Second Authority", country: "BE", domain: "second.example")
            let own = try await app.signIn("officer@inspectorate.example")
            let other = try await app.signIn("officer@second.example")
            for uri in ["/campaigns/\(id)", "/campaigns/\(id).zip", "/campaigns/\(id)/manifest.csv"] {
                #expect(try await app.page(uri, session: own).status == .ok, "the first agency's own \(uri)")
                let response = try await app.page(uri, session: other)
                #expect(response.status == .notFound, "\(uri) as the second agency gave \(response.status)")
                #expect(response.text.contains("<h1>Not found</h1>") && !response.text.contains("Geheime Kampagne") && !response.text.contains("Fietskoerier"))
            }
            let approve = try await app.post("/campaigns/\(id)/approve", session: other, fields: [("version", "3")])
            #expect(approve.status == .notFound)
            let list = try await app.page("/campaigns", session: other)
            #expect(list.status == .ok && !list.text.contains(id) && !list.text.contains("Geheime Kampagne") && list.text.contains("No campaign yet."))
        }
    }
}
