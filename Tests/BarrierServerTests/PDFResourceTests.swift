import BarrierCore
import BarrierLetters
import BarrierServer
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

extension TestApp {
    /// `TestApp.run` with a letter store of the test's own (its own drafts' cache, and `pdfs`
    /// when given), which `body` receives too, so it can count what was printed.
    static func run(pdfs: PDFRenderer = Fixtures.pdfs, configure: @Sendable (inout AppConfiguration) -> Void = { _ in },
                    _ body: @Sendable (TestApp, LetterStore) async throws -> Void) async throws {
        try await TestDatabase.withFresh { db in
            let tokens = try await Fixtures.agencyWithUsers(db)
            var config = AppConfiguration()
            config.tokenCacheSeconds = 0
            configure(&config)
            _ = try await Fixtures.letterStore(db)
            let configuration = config
            try await TestDatabase.withAppRole(db) { serverDB in
                let letters = LetterStore(serverDB, renderer: try Fixtures.renderer(), pdfs: pdfs)
                let app = buildApplication(configuration: configuration, database: serverDB, letters: letters,
                                           runDatabase: false, runBackgroundWork: false)
                try await app.test(.router) { client in
                    try await body(TestApp(client: client, tokens: tokens, db: db, serverDB: serverDB), letters)
                }
            }
        }
    }

    /// A draft letter to a new supplier with a postal address; its id.
    func draftLetter(to name: String) async throws -> String {
        let supplier = try await createAddressedSupplier(name)
        let created = try await request(.post, "/api/v1/letters", json: "{\"facilitator_id\": \"\(supplier)\", \"kind\": \"inform_call_to_action\"}")
        guard created.status == .created, let id = created.object["id"] as? String else {
            throw TestFailure("drafting failed: \(created.status) \(created.text)")
        }
        return id
    }
}

/// A document WeasyPrint needs seconds for (about 4 s on 2 cores): 3,000 paragraphs, some 70 pages.
private let slowDocument = "<html><body>" + (0..<3000).map { "<p>Paragraph \($0) of a very long letter that takes a while to lay out.</p>" }.joined()
    + "</body></html>"

/// A fresh folder for a test's campaign ZIPs.
private func zipFolder() -> String {
    URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("barrier-zip-test-\(UUID().uuidString)").path
}

@Suite("PDFs and ZIPs: printed once, bounded, kept")
struct PDFResourceTests {
    @Test("a draft's PDF is printed once per version, also for ten requests at once; an edit prints anew; another agency gets 404")
    func draftPrintedOnce() async throws {
        try await TestApp.run { app, letters in
            let id = try await app.draftLetter(to: "Colis Rapides SPRL")
            let first = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<10 { group.addTask { try await app.request(.get, "/api/v1/letters/\(id).pdf") } }
                var all: [TestResponse] = []
                for try await response in group { all.append(response) }
                return all
            }
            #expect(first.allSatisfy { $0.status == .ok && $0.headers[.contentType] == "application/pdf" })
            #expect(Set(first.map { Data(buffer: $0.body) }).count == 1)
            #expect(letters.draftPDFs.prints == 1)
            let pdf = Data(buffer: first[0].body)
            #expect(try runTool("/usr/bin/pdftotext", ["{file}", "-"], input: pdf).contains("Colis Rapides SPRL"))

            // Again, and through the letter page's link: the same bytes, nothing printed.
            #expect(Data(buffer: try await app.request(.get, "/api/v1/letters/\(id).pdf").body) == pdf)
            let session = try await app.signIn("officer@inspectorate.example")
            let page = try await app.page("/letters/\(id).pdf", session: session)
            #expect(page.status == .ok && Data(buffer: page.body) == pdf)
            #expect(letters.draftPDFs.prints == 1)

            // Another agency: 404, and not the kept bytes.
            let second = try await Fixtures.agencyWithUsers(app.db, name: "Second Authority", country: "BE", domain: "second.example")
            let foreign = try await app.request(.get, "/api/v1/letters/\(id).pdf", token: second[.admin])
            #expect(foreign.status == .notFound && foreign.isProblem)
            #expect(!Data(buffer: foreign.body).starts(with: Data("%PDF".utf8)))
            #expect(letters.draftPDFs.prints == 1)

            // An edit that the draft shows (the letterhead's city) prints it anew, once.
            let tag = try await app.etag("/api/v1/agency")
            let moved = try await app.request(.patch, "/api/v1/agency", as: .admin, json: "{\"street\": \"Grote Markt 1\", \"postal_code\": \"8011 LW\", \"city\": \"Zwolle\", \"signatory_name\": \"H. Zwolle\"}", headers: [.ifMatch: tag])
            #expect(moved.status == .ok)
            let edited = try await app.request(.get, "/api/v1/letters/\(id).pdf")
            #expect(edited.status == .ok && Data(buffer: edited.body) != pdf)
            #expect(try runTool("/usr/bin/pdftotext", ["{file}", "-"], input: Data(buffer: edited.body)).contains("Zwolle"))
            _ = try await app.request(.get, "/api/v1/letters/\(id).pdf")
            #expect(letters.draftPDFs.prints == 2)

            // Approved: the frozen PDF, which the cache does not hold.
            let current = try await app.request(.get, "/api/v1/letters/\(id)")
            let approved = try await app.request(.post, "/api/v1/letters/\(id)/approve", headers: [.ifMatch: current.headers[.eTag]!])
            #expect(approved.status == .ok)
            let frozen = try await app.request(.get, "/api/v1/letters/\(id).pdf")
            let stored = try #require(try await TestDatabase.scalar(app.db, "SELECT encode(pdf, 'base64') FROM letters WHERE id = '\(id)'"))
            #expect(Data(buffer: frozen.body) == Data(base64Encoded: stored.replacingOccurrences(of: "\n", with: "")))
        }
    }

    @Test("past PDF_QUEUE_LIMIT a request gets 503 with Retry-After at once (a page: a message), nothing crashes, and the next one prints")
    func queueLimit() async throws {
        let pdfs = PDFRenderer(workers: 1)
        try await TestApp.run(pdfs: pdfs, configure: { $0.pdfQueueLimit = 1 }) { app, letters in
            #expect(pdfs.limits.queueLimit == 1)
            var made: [String] = []
            for name in ["Alpha Koeriers BV", "Beta Pakketten NV", "Gamma Post SA", "Delta Colis SPRL", "Epsilon Boten BV"] {
                made.append(try await app.draftLetter(to: name))
            }
            let drafts = made
            let session = try await app.signIn("officer@inspectorate.example")
            // A long print holds the only worker, so what follows finds it busy.
            let holding = Task { try await pdfs.render(html: slowDocument, priority: .background) }
            let deadline = ContinuousClock.now + .seconds(30)
            while await pdfs.renders == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            let answers = try await withThrowingTaskGroup(of: (String, TestResponse).self) { group in
                for id in drafts.prefix(4) { group.addTask { ("api", try await app.request(.get, "/api/v1/letters/\(id).pdf")) } }
                group.addTask { ("page", try await app.page("/letters/\(drafts[4]).pdf", session: session)) }
                var all: [(String, TestResponse)] = []
                for try await answer in group { all.append(answer) }
                return all
            }
            _ = try await holding.value
            let statuses = answers.map(\.1.status)
            #expect(statuses.allSatisfy { $0 == .ok || $0 == .serviceUnavailable }, "\(statuses)")
            #expect(statuses.filter { $0 == .ok }.count == 1, "one request may wait, the others are refused: \(statuses)")
            for (kind, refused) in answers where refused.status == .serviceUnavailable {
                #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 >= 1)
                if kind == "api" {
                    #expect(refused.isProblem && refused.object["title"] as? String == "PDF printing busy")
                } else {
                    #expect(refused.headers[.contentType]?.hasPrefix("text/html") == true && refused.text.contains("Every PDF worker is busy"))
                }
            }
            // Nothing is held back: each draft prints now.
            for id in drafts { #expect(try await app.request(.get, "/api/v1/letters/\(id).pdf").status == .ok) }
            await pdfs.shutdown()
        }
    }

    @Test("a print past PDF_RENDER_TIMEOUT_SECONDS gets 503, its worker is replaced, and the next print works")
    func renderTimeout() async throws {
        let pdfs = PDFRenderer(workers: 1)
        try await TestApp.run(pdfs: pdfs, configure: { $0.pdfRenderTimeoutSeconds = 1 }) { app, letters in
            #expect(pdfs.limits.renderTimeout == .seconds(1))
            // An ordinary letter may take more than a second on a machine busy with other tests: the
            // second is the limit of the long letter's print alone.
            pdfs.configure(renderTimeout: .seconds(60))
            let ordinary = try await app.draftLetter(to: "Ordinaire Colis SPRL")
            #expect(try await app.request(.get, "/api/v1/letters/\(ordinary).pdf").status == .ok)
            // The agency's own template of 7,000 short paragraphs (within the 100,000 characters a
            // template may have), some 150 pages: its letters take many seconds to print.
            let body = "# A very long letter\n\n" + (0..<7000).map { "Line \($0)." }.joined(separator: "\n\n")
            let owner = try await Fixtures.letterStore(app.db)
            for language in LetterLanguage.allCases {
                _ = try await owner.addTemplateVersion(TemplateKey.forLetter(kind: .informCallToAction, sector: "parcel_delivery", language: language, rules: Fixtures.shippedLetterRules),
                                                         body: body, actor: Fixtures.system)
            }
            let long = try await app.draftLetter(to: "Lange Brieven BV")
            pdfs.configure(renderTimeout: .seconds(1))
            let late = try await app.request(.get, "/api/v1/letters/\(long).pdf")
            #expect(late.status == .serviceUnavailable && late.isProblem && late.object["title"] as? String == "PDF printing timed out", "\(late.text)")
            #expect(await pdfs.timeouts == 1)
            pdfs.configure(renderTimeout: .seconds(60))
            // A fresh worker prints the next one (the cache emptied, so the ordinary draft really prints again).
            letters.draftPDFs.setMaxBytes(0)
            #expect(try await app.request(.get, "/api/v1/letters/\(ordinary).pdf").status == .ok)
            #expect(await pdfs.renders == 3)
            await pdfs.shutdown()
        }
    }

    @Test("a campaign's ZIP is built once and streamed: two downloads, one build, the same bytes; a change builds anew; another agency gets 404")
    func campaignZipBuiltOnce() async throws {
        let folder = zipFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await TestApp.run(configure: { $0.campaignZipDirectory = folder }) { app, letters in
            for name in ["Fietskoerier Gent BV", "Stadsbode Antwerpen NV", "Kurierdienst Eupen GmbH"] {
                _ = try await app.createAddressedSupplier(name, sector: "courier", country: "BE")
            }
            let created = try await app.request(.post, "/api/v1/campaigns", json: "{\"name\": \"Couriers\", \"filter\": {\"sector\": \"courier\"}}")
            let id = try #require(created.object["id"] as? String)
            #expect(try await app.request(.post, "/api/v1/campaigns/\(id)/approve", headers: [.ifMatch: created.headers[.eTag]!]).status == .accepted)
            let campaigns = CampaignStore(app.db, letters: try await Fixtures.letterStore(app.db))
            while try await campaigns.runNextJob() {}
            let items = try await app.request(.get, "/api/v1/letters?campaign_id=\(id)").object["items"] as? [[String: Any]] ?? []
            let references = items.compactMap { $0["reference"] as? String }
            #expect(references.count == 3)

            let archives = CampaignArchives.at(folder)
            let first = try await app.request(.get, "/api/v1/campaigns/\(id).zip")
            #expect(first.status == .ok && first.headers[.contentType] == "application/zip")
            #expect(first.headers[.contentLength] == String(first.body.readableBytes))
            let second = try await app.request(.get, "/api/v1/campaigns/\(id).zip")
            let session = try await app.signIn("auditor@inspectorate.example")
            let third = try await app.page("/campaigns/\(id).zip", session: session)
            #expect(Data(buffer: first.body) == Data(buffer: second.body) && Data(buffer: second.body) == Data(buffer: third.body))
            #expect(first.headers[.eTag] != nil && first.headers[.eTag] == third.headers[.eTag])
            #expect(archives.builds == 1)
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".zip") }.count == 1)

            // Python's zipfile opens it: every letter's PDF and the manifest, each PDF as stored.
            let listing = try runTool("/usr/bin/python3", ["-c", """
                import zipfile, sys, hashlib
                z = zipfile.ZipFile(sys.argv[1])
                assert z.testzip() is None
                for n in z.namelist(): print(n, hashlib.sha256(z.read(n)).hexdigest())
                """, "{file}"], input: Data(buffer: first.body))
            let entries = Dictionary(uniqueKeysWithValues: listing.split(separator: "\n").map { line in
                let parts = line.split(separator: " "); return (String(parts[0]), String(parts[1]))
            })
            #expect(Set(entries.keys) == Set(references.map { "\($0).pdf" } + ["manifest.csv"]))
            let manifest = try await app.request(.get, "/api/v1/campaigns/\(id)/manifest.csv").text
            for reference in references {
                #expect(manifest.contains(reference) && manifest.contains(entries["\(reference).pdf"] ?? "-"), "\(reference)'s PDF is not the manifest's")
            }

            // Another agency: 404, nothing built.
            let other = try await Fixtures.agencyWithUsers(app.db, name: "Second Authority", country: "BE", domain: "second.example")
            let foreign = try await app.request(.get, "/api/v1/campaigns/\(id).zip", token: other[.admin])
            #expect(foreign.status == .notFound && foreign.isProblem)
            #expect(archives.builds == 1)

            // A letter sent changes the manifest (its status): the next download is a new ZIP, which replaces the old file.
            let letter = try #require(items.first?["id"] as? String)
            let today = try #require(try await TestDatabase.scalar(app.db, "SELECT current_date::text"))
            let current = try await app.request(.get, "/api/v1/letters/\(letter)")
            let sent = try await app.request(.post, "/api/v1/letters/\(letter)/send", json: "{\"method\": \"post\", \"on\": \"\(today)\"}",
                                             headers: [.ifMatch: current.headers[.eTag]!])
            #expect(sent.status == .ok)
            let after = try await app.request(.get, "/api/v1/campaigns/\(id).zip")
            #expect(after.status == .ok && Data(buffer: after.body) != Data(buffer: first.body) && after.headers[.eTag] != first.headers[.eTag])
            #expect(archives.builds == 2)
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".zip") }.count == 1)
            _ = letters
        }
    }
}
