import BarrierCore
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BarrierServer

@Suite("Reports refuse a period longer than ten years")
struct ReportPeriodAPITests {
    @Test("JSON and CSV answer 422 naming from; ten years answer 200")
    func tenYears() async throws {
        try await TestApp.run { app in
            let long = try await app.request(.get, "/api/v1/reports/signals?from=2000-01-01&to=2026-01-01")
            #expect(long.status == .unprocessableContent && long.errorFields == ["from"])
            let csv = try await app.request(.get, "/api/v1/reports/signals/monthly.csv?from=1990-01-01")
            #expect(csv.status == .unprocessableContent)
            let ten = try await app.request(.get, "/api/v1/reports/signals?from=2016-01-01&to=2025-12-31")
            #expect(ten.status == .ok)
        }
    }
}
