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

    /// Every rule the filter breaks; `knownSectors`: the sectors catalogue as it stands.
    public func problems(knownSectors: Set<String>) -> [FieldError] {
        var errors = FieldErrors()
        if let from, !ISODay.isValid(from) { errors.add("from", "must be a day written YYYY-MM-DD") }
        if let to, !ISODay.isValid(to) { errors.add("to", "must be a day written YYYY-MM-DD") }
        if let from, let to, ISODay.isValid(from), ISODay.isValid(to), to < from { errors.add("to", "must not be before from (\(from))") }
        if let sector, !knownSectors.contains(sector) { errors.add("sector", "'\(sector)' is not a sector; use \(knownSectors.sorted().joined(separator: ", "))") }
        if let country, !Countries.isKnown(country) { errors.add("country", "'\(country)' is not an ISO 3166-1 alpha-2 country code") }
        return errors.errors
    }

    /// The longest period a report covers: ten years (3,653 days, the leap days
    /// included). A longer one would only make the database count for nothing.
    public static let maxPeriodDays = 3653

    /// A period from `from` to `to` (or to `today` when open) longer than
    /// `maxPeriodDays`; nil when it fits or the days are not valid (`problems` says so).
    public func periodProblem(today: String) -> FieldError? {
        guard let from, let start = ISODay.ordinal(from), let end = ISODay.ordinal(to ?? today) else { return nil }
        let days = end - start + 1
        guard days > Self.maxPeriodDays else { return nil }
        return FieldError(field: "from", message: "the period covers \(days) days; a report covers at most ten years (\(Self.maxPeriodDays) days)")
    }
}

/// What a barrier-matrix cell must show to count as a gap: many signals, little
/// cooperation (the report's SQL applies it, or a cell without suppliers).
public struct MatrixGapRule: Sendable, Equatable {
    public var minimumSignals: Int
    /// Share cooperating (cooperating or partially cooperating) below which a cell with enough signals is a gap.
    public var maximumShareCooperating: Double

    public init(minimumSignals: Int = 5, maximumShareCooperating: Double = 0.25) {
        self.minimumSignals = minimumSignals
        self.maximumShareCooperating = maximumShareCooperating
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

/// Where a measure of an action plan stands.
public enum PlanMeasureStatus: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "measure status"
    case planned
    case inProgress = "in_progress"
    case done, dropped
}

/// An action plan as written: objectives, the measures that serve them, the
/// indicators that tell whether they are met, and when the plan is evaluated.
public struct ActionPlanDraft: Sendable, Equatable {
    public struct Measure: Sendable, Equatable {
        public var objective: Int?
        public var description: String
        public var responsible: String?
        public var dueOn: String?

        public init(objective: Int? = nil, description: String, responsible: String? = nil, dueOn: String? = nil) {
            self.objective = objective; self.description = description; self.responsible = responsible; self.dueOn = dueOn
        }
    }

    public struct Indicator: Sendable, Equatable {
        public var objective: Int?
        public var name: String
        public var metric: IndicatorMetric
        public var sector: String?
        public var country: String?
        public var target: Double
        public var baseline: Double?

        public init(objective: Int? = nil, name: String, metric: IndicatorMetric, sector: String? = nil, country: String? = nil,
                    target: Double, baseline: Double? = nil) {
            self.objective = objective; self.name = name; self.metric = metric; self.sector = sector; self.country = country
            self.target = target; self.baseline = baseline
        }
    }

    public var title: String
    public var description: String
    /// The coordinating partner: an agency's id or name.
    public var coordinatingAgency: String
    public var startsOn: String
    public var endsOn: String
    public var evaluationDates: [String]
    public var objectives: [String]
    public var measures: [Measure]
    public var indicators: [Indicator]

    public init(title: String, description: String = "", coordinatingAgency: String, startsOn: String, endsOn: String,
                evaluationDates: [String] = [], objectives: [String], measures: [Measure] = [], indicators: [Indicator] = []) {
        self.title = title; self.description = description; self.coordinatingAgency = coordinatingAgency
        self.startsOn = startsOn; self.endsOn = endsOn; self.evaluationDates = evaluationDates
        self.objectives = objectives; self.measures = measures; self.indicators = indicators
    }

    /// Every rule the plan breaks; `knownSectors`: the sectors catalogue as it stands.
    public func problems(knownSectors: Set<String>) -> [FieldError] {
        var errors = FieldErrors()
        errors.text("title", title, max: 200)
        if description.count > 20_000 { errors.add("description", "must be at most 20000 characters") }
        errors.text("coordinating_agency", coordinatingAgency, max: 200, missing: "is required: the agency that coordinates the plan")
        for (field, day) in [("starts_on", startsOn), ("ends_on", endsOn)] where !ISODay.isValid(day) {
            errors.add(field, "must be a day written YYYY-MM-DD")
        }
        if ISODay.isValid(startsOn), ISODay.isValid(endsOn), endsOn <= startsOn { errors.add("ends_on", "must be after starts_on (\(startsOn))") }
        for (i, day) in evaluationDates.enumerated() where !ISODay.isValid(day) {
            errors.add("evaluation_dates[\(i)]", "must be a day written YYYY-MM-DD")
        }
        if evaluationDates.count > 50 { errors.add("evaluation_dates", "at most 50 evaluation dates") }
        if objectives.isEmpty { errors.add("objectives", "name at least one objective") }
        for (i, objective) in objectives.enumerated() { errors.text("objectives[\(i)]", objective, max: 2000) }
        func objectiveRef(_ field: String, _ ref: Int?) {
            if let ref, !objectives.indices.contains(ref) { errors.add(field, "refers to objective \(ref), which does not exist (0 to \(objectives.count - 1))") }
        }
        for (i, m) in measures.enumerated() {
            objectiveRef("measures[\(i)].objective", m.objective)
            errors.text("measures[\(i)].description", m.description, max: 2000)
            errors.text("measures[\(i)].responsible", m.responsible, max: 200, required: false)
            if let due = m.dueOn, !ISODay.isValid(due) { errors.add("measures[\(i)].due_on", "must be a day written YYYY-MM-DD") }
        }
        for (i, x) in indicators.enumerated() {
            objectiveRef("indicators[\(i)].objective", x.objective)
            errors.text("indicators[\(i)].name", x.name, max: 200)
            if let sector = x.sector, !knownSectors.contains(sector) { errors.add("indicators[\(i)].sector", "'\(sector)' is not a sector") }
            if let country = x.country, !Countries.isKnown(country) { errors.add("indicators[\(i)].country", "'\(country)' is not a country code") }
            if x.target < 0 || !x.target.isFinite { errors.add("indicators[\(i)].target", "must be a number of at least 0") }
            if x.metric.unit == "%" && x.target > 100 { errors.add("indicators[\(i)].target", "is a percentage: at most 100") }
            if let b = x.baseline, b < 0 || !b.isFinite { errors.add("indicators[\(i)].baseline", "must be a number of at least 0") }
        }
        if measures.count > 200 { errors.add("measures", "at most 200 measures") }
        if indicators.count > 100 { errors.add("indicators", "at most 100 indicators") }
        return errors.errors
    }
}

/// What a step on an action plan reads: the plan's version, today, and the
/// indicator or measure the step names (nil: the plan has none at that position).
public struct ActionPlanStepCase: Sendable, Equatable {
    public var version: Int
    public var today: String
    /// The named indicator's metric, for a measurement.
    public var metric: IndicatorMetric?
    /// Whether the named measure exists, for a status change.
    public var measureExists: Bool
    /// The sectors catalogue as it stands, for a revision's indicators.
    public var knownSectors: Set<String>

    public init(version: Int, today: String, metric: IndicatorMetric? = nil, measureExists: Bool = false, knownSectors: Set<String> = []) {
        self.version = version; self.today = today; self.metric = metric; self.measureExists = measureExists; self.knownSectors = knownSectors
    }
}

/// A step on an action plan, as one pure decision: the version, then a value
/// measured by hand on a day that has happened (only a manual indicator takes
/// one; the others are measured from the registry), or a measure's new status.
public enum ActionPlanStep: Sendable, Equatable {
    case measurement(indicator: Int, value: Double, on: String)
    case measureStatus(measure: Int, status: PlanMeasureStatus)
    /// The plan rewritten: what it says, its objectives, measures and indicators.
    /// A measure keeps its status and a manual indicator its measured value at
    /// the same position; positions past the new lists go.
    case revision(ActionPlanDraft)

    public enum Refusal: Error, Sendable, Equatable {
        case versionConflict(current: Int)
        case indicatorNotFound(Int)
        case measureNotFound(Int)
        case invalid([FieldError])
    }

    public func refusal(_ c: ActionPlanStepCase, expectedVersion: Int) -> Refusal? {
        // A measurement's own values are checked before the version (422 before
        // 412), every broken field named.
        if case .measurement(let indicator, let value, let day) = self {
            var errors = FieldErrors()
            errors.pastDay("on", day, today: c.today)
            if value < 0 || !value.isFinite { errors.add("value", "must be a number of at least 0") }
            if !errors.isEmpty {
                if let metric = c.metric, metric != .manual {
                    errors.add("value", "indicator \(indicator) is measured from the registry (\(metric.rawValue)); only a manual indicator takes a value")
                }
                return .invalid(errors.errors)
            }
        }
        guard c.version == expectedVersion else { return .versionConflict(current: c.version) }
        switch self {
        case .measurement(let indicator, let value, let day):
            guard let metric = c.metric else { return .indicatorNotFound(indicator) }
            var errors = FieldErrors()
            errors.pastDay("on", day, today: c.today)
            if value < 0 || !value.isFinite { errors.add("value", "must be a number of at least 0") }
            if metric != .manual {
                errors.add("value", "indicator \(indicator) is measured from the registry (\(metric.rawValue)); only a manual indicator takes a value")
            }
            return errors.isEmpty ? nil : .invalid(errors.errors)
        case .measureStatus(let measure, _):
            return c.measureExists ? nil : .measureNotFound(measure)
        case .revision(let draft):
            let problems = draft.problems(knownSectors: c.knownSectors)
            return problems.isEmpty ? nil : .invalid(problems)
        }
    }
}
