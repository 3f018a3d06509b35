/// The reports the registry answers, each a set of tables.
public enum ReportKind: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "report"
    /// Cooperation levels now (by sector, country or stage) and month by month.
    case cooperation
    /// The outreach funnel: sent → delivered → responded → committed → verified.
    case funnel
    /// Licensing actions by type, status, sector and country; fines; appeals.
    case licensing
    /// The stage × sector barrier matrix, with its gaps.
    case matrix
    /// Signals by type and stage, month by month.
    case signals

    public var title: String {
        switch self {
        case .cooperation: return "Cooperation levels"
        case .funnel: return "Outreach funnel"
        case .licensing: return "Licensing summary"
        case .matrix: return "Barrier matrix: stages × sectors"
        case .signals: return "Signals by type and stage"
        }
    }
}

/// How the cooperation report groups suppliers today.
public enum ReportDimension: String, CaseIterable, Sendable, NamedVocabulary {
    public static let noun = "grouping"
    case sector, country, stage
}

/// The filters every report takes; a report ignores the ones that do not apply
/// to what it counts (say so in its description).
public struct ReportFilter: Sendable, Equatable {
    /// First and last day of the period (ISO days), both included.
    public var from: String?
    public var to: String?
    public var sector: String?
    public var country: String?
    public var stage: Stage?
    public var agencyID: UUIDString?

    public init(from: String? = nil, to: String? = nil, sector: String? = nil, country: String? = nil, stage: Stage? = nil,
                agencyID: UUIDString? = nil) {
        self.from = from; self.to = to; self.sector = sector; self.country = country; self.stage = stage; self.agencyID = agencyID
    }

    public func problems() -> [FieldError] {
        var errors = FieldErrors()
        if let from, !ISODay.isValid(from) { errors.add("from", "must be a day written YYYY-MM-DD") }
        if let to, !ISODay.isValid(to) { errors.add("to", "must be a day written YYYY-MM-DD") }
        if let from, let to, ISODay.isValid(from), ISODay.isValid(to), to < from { errors.add("to", "must not be before from (\(from))") }
        if let sector, !KnownSectors.codes.contains(sector) { errors.add("sector", "'\(sector)' is not a sector; use \(KnownSectors.codes.joined(separator: ", "))") }
        if let country, !Countries.isKnown(country) { errors.add("country", "'\(country)' is not an ISO 3166-1 alpha-2 country code") }
        return errors.errors
    }
}

/// What a barrier-matrix cell must show to count as a gap: many signals, little cooperation.
public struct MatrixGapRule: Sendable, Equatable {
    public var minimumSignals: Int
    /// Share cooperating (cooperating or partially cooperating) below which a cell with enough signals is a gap.
    public var maximumShareCooperating: Double

    public init(minimumSignals: Int = 5, maximumShareCooperating: Double = 0.25) {
        self.minimumSignals = minimumSignals
        self.maximumShareCooperating = maximumShareCooperating
    }

    public func isGap(signals: Int, suppliers: Int, cooperating: Int) -> Bool {
        guard signals >= minimumSignals else { return false }
        guard suppliers > 0 else { return true }
        return Double(cooperating) / Double(suppliers) < maximumShareCooperating
    }
}

/// The registry figures an action-plan indicator can follow.
public enum IndicatorMetric: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "indicator metric"
    /// Recorded by hand.
    case manual
    /// Percent of registered suppliers contacted (any level but not_contacted).
    case shareContacted = "share_contacted"
    /// Percent of registered suppliers cooperating or partially cooperating.
    case shareCooperating = "share_cooperating"
    /// Percent of first letters sent in the plan's period that were answered.
    case responseRate = "response_rate"
    /// Commitments verified in the plan's period.
    case verifiedMeasures = "verified_measures"
    /// Signals observed in the plan's period.
    case signalsObserved = "signals_observed"
    /// Restrictive licensing actions decided in the plan's period and final.
    case finalRestrictiveActions = "final_restrictive_actions"

    public var unit: String {
        switch self {
        case .shareContacted, .shareCooperating, .responseRate: return "%"
        case .manual: return ""
        case .verifiedMeasures, .signalsObserved, .finalRestrictiveActions: return "count"
        }
    }
}
