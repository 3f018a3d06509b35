/// The kinds of signal the barrier model names.
public enum SignalType: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "signal type"
    case financial, social, logistical, physical, administrative
}

/// What the catalogue says of an indicator: the type of signal it is and the
/// stages of the criminal business process it is observed in.
public struct IndicatorRule: Sendable, Equatable {
    public var type: SignalType
    public var stages: [Stage]

    public init(type: SignalType, stages: [Stage]) {
        self.type = type
        self.stages = stages
    }
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
    /// The market actor (vendor, administrator…) the signal concerns when it concerns no
    /// registered supplier; it counts in the reports, never as evidence against a supplier.
    public var marketActor: String?

    public init(type: SignalType, stage: Stage, indicatorCode: String? = nil, indicatorText: String? = nil, observedOn: String,
                source: String, reporter: String, description: String, facilitatorIDs: [UUIDString], marketActor: String? = nil) {
        self.type = type; self.stage = stage; self.indicatorCode = indicatorCode; self.indicatorText = indicatorText
        self.observedOn = observedOn; self.source = source; self.reporter = reporter; self.description = description
        self.facilitatorIDs = facilitatorIDs
        self.marketActor = marketActor
    }

    /// Every rule the draft breaks, given today and the indicator catalogue.
    public func problems(today: String, knownIndicators: [String: IndicatorRule]) -> [FieldError] {
        var errors = FieldErrors()
        func blank(_ s: String) -> Bool { s.allSatisfy(\.isWhitespace) }
        switch (indicatorCode, indicatorText) {
        case (nil, nil): errors.add("indicator", "is required: a code of the catalogue or indicator_text")
        case (.some, .some): errors.add("indicator", "give a code of the catalogue or indicator_text, not both")
        case (.some(let code), nil):
            if let rule = knownIndicators[code] {
                // An indicator is of one type and belongs to its stages: a signal that says otherwise is filed wrongly.
                if rule.type != type || !rule.stages.contains(stage) {
                    errors.add("indicator", "'\(code)' is a \(rule.type.rawValue) indicator of the stage(s) "
                               + "\(rule.stages.map(\.rawValue).joined(separator: ", ")); the signal says \(type.rawValue), \(stage.rawValue)")
                }
            } else {
                errors.add("indicator", "'\(code)' is not an indicator of the catalogue")
            }
        case (nil, .some(let text)):
            if blank(text) || text.count > 300 { errors.add("indicator_text", "must be 1 to 300 characters") }
        }
        if !ISODay.isValid(observedOn) { errors.add("observed_on", "must be a day written YYYY-MM-DD") }
        else if observedOn > today { errors.add("observed_on", "is in the future") }
        if blank(source) || source.count > 300 { errors.add("source", "must be 1 to 300 characters") }
        if blank(reporter) || reporter.count > 200 { errors.add("reporter", "must be 1 to 200 characters") }
        if description.count > 20000 { errors.add("description", "must be at most 20000 characters") }
        if facilitatorIDs.isEmpty && marketActor == nil {
            errors.add("facilitator_ids", "must name at least one supplier, or give market_actor: the market vendor or administrator the signal concerns")
        }
        if let marketActor, marketActor.allSatisfy(\.isWhitespace) || marketActor.count > 300 {
            errors.add("market_actor", "must be 1 to 300 characters")
        }
        if facilitatorIDs.count > 100 { errors.add("facilitator_ids", "may name at most 100 suppliers") }
        if Set(facilitatorIDs).count != facilitatorIDs.count { errors.add("facilitator_ids", "names a supplier twice") }
        return errors.errors
    }
}

/// How the task's agency sees a signal: its own, or shared with it to read.
/// (A signal it cannot see at all is not loaded: nil.)
public enum SignalAccess: Sendable, Equatable {
    case own, sharedToRead
}

/// What recording or correcting a signal reads: the agency's access and the
/// current version (for a correction), the indicator catalogue, which of the
/// named suppliers are registered, and today.
public struct SignalRecordingCase: Sendable, Equatable {
    public var access: SignalAccess?
    public var version: Int
    public var knownIndicators: [String: IndicatorRule]
    /// How many of the named supplier ids are well formed and registered.
    public var registeredSuppliers: Int
    /// Whether every named supplier id is a UUID.
    public var supplierIDsWellFormed: Bool
    public var today: String

    public init(access: SignalAccess?, version: Int, knownIndicators: [String: IndicatorRule], registeredSuppliers: Int, supplierIDsWellFormed: Bool,
                today: String) {
        self.access = access; self.version = version; self.knownIndicators = knownIndicators
        self.registeredSuppliers = registeredSuppliers; self.supplierIDsWellFormed = supplierIDsWellFormed; self.today = today
    }
}

/// Recording a signal, correcting it, sharing it with another agency and
/// revoking a share, each as one pure decision. Only the agency that recorded
/// a signal changes or shares it; a receiver reads it.
public enum SignalDecision {
    public enum Refusal: Error, Sendable, Equatable {
        case notFound
        /// Shared with the agency to read only.
        case readOnly
        case versionConflict(current: Int)
        case alreadyShared
        case shareNotFound
        case alreadyRevoked
        case invalid([FieldError])
    }

    /// A new signal (`correction` nil) or a correction with its reason against the expected version.
    public static func recording(_ c: SignalRecordingCase, _ draft: SignalDraft, correction: (reason: String, expectedVersion: Int)?) -> Refusal? {
        var problems: [FieldError] = []
        if let correction {
            guard let access = c.access else { return .notFound }
            guard access == .own else { return .readOnly }
            if correction.reason.allSatisfy(\.isWhitespace) || correction.reason.count > 5000 {
                return .invalid([FieldError(field: "correction_reason", message: "is required (1 to 5000 characters): say what was wrong")])
            }
        }
        problems = draft.problems(today: c.today, knownIndicators: c.knownIndicators)
        if !c.supplierIDsWellFormed { problems.append(FieldError(field: "facilitator_ids", message: "must be supplier ids (UUIDs)")) }
        else if c.registeredSuppliers != Set(draft.facilitatorIDs).count {
            problems.append(FieldError(field: "facilitator_ids", message: "names a supplier that is not registered"))
        }
        if !problems.isEmpty { return .invalid(problems) }
        // The version is compared once the restated signal is valid.
        if let correction, c.version != correction.expectedVersion { return .versionConflict(current: c.version) }
        return nil
    }

    /// The agency a share names: none found, the sharing agency itself, or another.
    public enum Receiver: Sendable, Equatable { case none, own, other }

    public static func sharing(access: SignalAccess?, with agency: String, receiver: Receiver, openShareExists: Bool, legalBasis: String,
                               handlingNote: String) -> Refusal? {
        guard let access else { return .notFound }
        guard access == .own else { return .readOnly }
        var errors = FieldErrors()
        errors.text("legal_basis", legalBasis, max: 500, missing: "is required: name the provision that allows sharing this signal")
        if handlingNote.count > 5000 { errors.add("handling_note", "must be at most 5000 characters") }
        if receiver == .own { errors.add("agency", "is your own agency; a signal is shared with another") }
        if !errors.isEmpty { return .invalid(errors.errors) }
        if receiver == .none { return .invalid([FieldError(field: "agency", message: "no agency '\(agency)' (give its id or name)")]) }
        return openShareExists ? .alreadyShared : nil
    }

    /// `shareRevoked` nil: the signal has no such share.
    public static func revoking(access: SignalAccess?, shareRevoked: Bool?, reason: String) -> Refusal? {
        guard let access else { return .notFound }
        guard access == .own else { return .readOnly }
        guard let revoked = shareRevoked else { return .shareNotFound }
        if revoked { return .alreadyRevoked }
        var errors = FieldErrors()
        errors.text("reason", reason, max: 5000, missing: "is required: say why the share ends")
        return errors.isEmpty ? nil : .invalid(errors.errors)
    }

    /// An evidence file: the agency's own signal, and a file that passes its checks (`fileProblems`).
    public static func attaching(access: SignalAccess?, fileProblems: [FieldError]) -> Refusal? {
        guard let access else { return .notFound }
        if !fileProblems.isEmpty { return .invalid(fileProblems.map { FieldError(field: "attachment", message: $0.message) }) }
        return access == .own ? nil : .readOnly
    }
}
