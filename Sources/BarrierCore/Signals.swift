/// The kinds of signal the barrier model names.
public enum SignalType: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "signal type"
    case financial, social, logistical, physical, administrative
}

/// An observed indicator tied to one or more suppliers, as an officer records
/// it (and as every correction restates it).
public struct SignalDraft: Sendable, Equatable {
    public var type: SignalType
    public var stage: Stage
    /// An indicator of the catalogue, or `indicatorText` for one outside it.
    public var indicatorCode: String?
    public var indicatorText: String?
    public var observedOn: String
    public var source: String
    public var reporter: String
    public var description: String
    public var facilitatorIDs: [UUIDString]

    public init(type: SignalType, stage: Stage, indicatorCode: String? = nil, indicatorText: String? = nil, observedOn: String,
                source: String, reporter: String, description: String, facilitatorIDs: [UUIDString]) {
        self.type = type; self.stage = stage; self.indicatorCode = indicatorCode; self.indicatorText = indicatorText
        self.observedOn = observedOn; self.source = source; self.reporter = reporter; self.description = description
        self.facilitatorIDs = facilitatorIDs
    }

    /// Every rule the draft breaks, given today and the indicator catalogue.
    public func problems(today: String, knownIndicators: Set<String>) -> [FieldError] {
        var errors = FieldErrors()
        func blank(_ s: String) -> Bool { s.allSatisfy(\.isWhitespace) }
        switch (indicatorCode, indicatorText) {
        case (nil, nil): errors.add("indicator", "is required: a code of the catalogue or indicator_text")
        case (.some, .some): errors.add("indicator", "give a code of the catalogue or indicator_text, not both")
        case (.some(let code), nil):
            if !knownIndicators.contains(code) { errors.add("indicator", "'\(code)' is not an indicator of the catalogue") }
        case (nil, .some(let text)):
            if blank(text) || text.count > 300 { errors.add("indicator_text", "must be 1 to 300 characters") }
        }
        if !ISODay.isValid(observedOn) { errors.add("observed_on", "must be a day written YYYY-MM-DD") }
        else if observedOn > today { errors.add("observed_on", "is in the future") }
        if blank(source) || source.count > 300 { errors.add("source", "must be 1 to 300 characters") }
        if blank(reporter) || reporter.count > 200 { errors.add("reporter", "must be 1 to 200 characters") }
        if description.count > 20000 { errors.add("description", "must be at most 20000 characters") }
        if facilitatorIDs.isEmpty { errors.add("facilitator_ids", "must name at least one supplier") }
        if facilitatorIDs.count > 100 { errors.add("facilitator_ids", "may name at most 100 suppliers") }
        if Set(facilitatorIDs).count != facilitatorIDs.count { errors.add("facilitator_ids", "names a supplier twice") }
        return errors.errors
    }
}
