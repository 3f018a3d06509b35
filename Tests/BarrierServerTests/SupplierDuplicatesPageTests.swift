import BarrierCore
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BarrierServer

@Suite("Pages: a supplier's possible duplicates, looked for on request")
struct SupplierDuplicatesPageTests {
    @Test("the supplier page offers the search; asked, it lists the look-alike with a link, or says there is none")
    func onRequest() async throws {
        try await TestApp.run { app in
            let id = try await app.createSupplier("Nordlicht Kurierdienst GmbH")
            let twin = try await app.createSupplier("Nordlicht Kurierdienst GmbH & Co. KG")
            let alone = try await app.createSupplier("Zypressen Hosting Oy", country: "FI")
            let officer = try await app.signIn("officer@inspectorate.example")
            let page = try await app.page("/suppliers/\(id)", session: officer)
            #expect(page.status == .ok && page.text.contains("href=\"/suppliers/\(id)?duplicates=1\""))
            #expect(!page.text.contains("Possible duplicates"))
            let asked = try await app.page("/suppliers/\(id)?duplicates=1", session: officer)
            #expect(asked.text.contains("Possible duplicates") && asked.text.contains("<a href=\"/suppliers/\(twin)\">"))
            let none = try await app.page("/suppliers/\(alone)?duplicates=1", session: officer)
            #expect(none.text.contains("No registered supplier looks like this one.") && !none.text.contains("Possible duplicates"))
        }
    }
}
