import BarrierCore
import Foundation
import PostgresNIO

/// A list request over the registry: filters, fuzzy search, sort and a keyset
/// cursor. Built from query parameters (API) or options (CLI), checked whole so
/// every bad parameter is named at once.
public struct FacilitatorQuery: Sendable, Equatable {
    public enum Sort: String, CaseIterable, Sendable {
        case name, nameDescending = "-name"
        case createdAt = "created_at", createdAtDescending = "-created_at"
        case updatedAt = "updated_at", updatedAtDescending = "-updated_at"
        case relevance
    }

    public var sector: String?
    public var country: String?
    public var stage: Stage?
    public var market: Market?
    public var status: FacilitatorStatus?
    /// The supplier's cooperation level (no recorded level: not_contacted).
    public var cooperation: CooperationLevel?
    public var q: String?
    public var sort: Sort
    public var limit: Int
    public var after: Cursor?

    /// Where the previous page ended: its sort, the last row's sort key and id.
    public struct Cursor: Codable, Sendable, Equatable {
        var s: String
        var k: String
        var id: UUID
    }

    public static let maximumLimit = 200
    public static let parameterNames: Set<String> = ["sector", "country", "stage", "market", "status", "cooperation", "q", "sort", "limit", "cursor"]

    public init(sector: String? = nil, country: String? = nil, stage: Stage? = nil, market: Market? = nil,
                status: FacilitatorStatus? = nil, q: String? = nil, sort: Sort? = nil, limit: Int = 50) {
        self.sector = sector
        self.country = country
        self.stage = stage
        self.market = market
        self.status = status
        self.q = q
        self.sort = sort ?? (q == nil ? .name : .relevance)
        self.limit = limit
    }

    /// Reads query parameters; throws `StoreError.invalid` naming each bad one.
    public init(parameters: [String: String], knownSectors: Set<String>) throws {
        var e = FieldErrors()
        for name in parameters.keys where !Self.parameterNames.contains(name) {
            e.add(name, "is not a filter; use \(Self.parameterNames.sorted().joined(separator: ", "))")
        }
        func nonEmpty(_ key: String) -> String? {
            guard let v = parameters[key]?.trimmingWhitespace else { return nil }
            return v.isEmpty ? nil : v
        }
        let sector = nonEmpty("sector")
        if let sector, !knownSectors.contains(sector) { e.add("sector", "'\(sector)' is not a sector") }
        let country = nonEmpty("country")?.uppercased()
        if let country, !Countries.isKnown(country) { e.add("country", "'\(country)' is not an ISO 3166-1 alpha-2 country code") }
        func word<T: NamedVocabulary>(_ key: String, as type: T.Type) -> T? {
            guard let raw = nonEmpty(key) else { return nil }
            if let value = T(rawValue: raw) { return value }
            e.add(key, T.notOne(raw))
            return nil
        }
        let stage = word("stage", as: Stage.self)
        let market = word("market", as: Market.self)
        let status = word("status", as: FacilitatorStatus.self)
        let q = nonEmpty("q")
        if let q, q.count < 2 || q.count > 200 { e.add("q", "must be 2 to 200 characters") }
        var sort: Sort?
        if let raw = nonEmpty("sort") {
            sort = Sort(rawValue: raw)
            if sort == nil { e.add("sort", "'\(raw)' is not a sort order; use \(Sort.allCases.map(\.rawValue).joined(separator: ", "))") }
            if sort == .relevance && q == nil { e.add("sort", "relevance needs a search text q") }
        }
        var limit = 50
        if let raw = nonEmpty("limit") {
            if let n = Int(raw), (1...Self.maximumLimit).contains(n) { limit = n } else { e.add("limit", "must be a whole number from 1 to \(Self.maximumLimit)") }
        }
        self.init(sector: sector, country: country, stage: stage, market: market, status: status, q: q, sort: sort, limit: limit)
        self.cooperation = word("cooperation", as: CooperationLevel.self)
        if let raw = nonEmpty("cursor") {
            if let cursor = Self.decodeCursor(raw), cursor.s == self.sort.rawValue {
                self.after = cursor
            } else {
                e.add("cursor", "is not a cursor from this listing; start again without it")
            }
        }
        if !e.isEmpty { throw StoreError.invalid(e.errors) }
    }

    static func decodeCursor(_ text: String) -> Cursor? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64) else { return nil }
        return try? JSONDecoder().decode(Cursor.self, from: data)
    }

    static func encodeCursor(_ cursor: Cursor) -> String {
        let data = (try? JSONEncoder().encode(cursor)) ?? Data()
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

/// Numbered parameters for a query assembled from parts.
struct SQLBinds {
    var binds = PostgresBindings()
    /// Each bound value as text, for showing a statement (the bench runs it through pgbench).
    var shown: [String] = []

    /// Binds `value` and returns its placeholder (`$3`).
    mutating func add<T: PostgresEncodable>(_ value: T) -> String {
        try! binds.append(value)
        shown.append(String(describing: value))
        return "$\(binds.count)"
    }
}

extension FacilitatorQuery {
    /// The filters (not the cursor or sort) as SQL conditions on `facilitators f`;
    /// the supplier list and campaigns select suppliers the same way.
    func conditions(_ binds: inout SQLBinds) -> String {
        var parts: [String] = []
        if let q { parts.append("\(binds.add(q.lowercased())) <% f.search_names") }
        if let sector { parts.append("f.sector = \(binds.add(sector))") }
        // char(2) against char(2): a text bind would cast the column, and the planner then
        // misjudges how many suppliers a country has (a seq scan where the index serves).
        if let country { parts.append("f.country = \(binds.add(country))::bpchar") }
        if let stage { parts.append("f.stages @> ARRAY[\(binds.add(stage.rawValue))]") }
        if let market { parts.append("f.markets @> ARRAY[\(binds.add(market.rawValue))]") }
        if let cooperation {
            // The agency's level; no row is not_contacted. As a semi-join on the levels
            // (indexed by agency and level), so the planner can start from the few
            // suppliers at a level instead of testing every supplier in name order
            // (a rare country with a level took 1.3 s that way on 1M suppliers).
            if cooperation == .notContacted {
                parts.append("""
                    NOT EXISTS (SELECT 1 FROM cooperation_levels c WHERE c.agency_id = current_agency() AND c.facilitator_id = f.id
                                AND c.level <> 'not_contacted')
                    """)
            } else {
                parts.append("""
                    f.id IN (SELECT c.facilitator_id FROM cooperation_levels c WHERE c.agency_id = current_agency() AND c.level = \(binds.add(cooperation.rawValue)))
                    """)
            }
        }
        parts.append(status.map { "f.status = \(binds.add($0.rawValue))" } ?? "f.status <> 'archived'")
        return parts.joined(separator: " AND ")
    }
}
