/// The catalogues of the barrier model that an administrator keeps up to date
/// (the paper: barrier models need regular updating as markets move): the
/// sectors of suppliers, the indicators signals are recorded against, the
/// measures suppliers commit to, and the opportunities of each stage. Entries
/// are shared by every agency; each change is a new version of the entry, with
/// a reason, and an audit event. An entry is never deleted: records refer to it.
public enum TaxonomyCatalogue: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "catalogue"
    case sectors, indicators, measures, opportunities
}

/// Where an entry comes from: the source paper, the practice of the agencies, or
/// an agency's administrator.
public enum TaxonomySource: String, CaseIterable, Codable, Sendable, NamedVocabulary {
    public static let noun = "source"
    case paper, practice
}

/// An entry as an administrator adds or changes it. Which fields apply depends on
/// the catalogue; a field of another catalogue is refused, so nothing is silently ignored.
public struct TaxonomyDraft: Sendable, Equatable {
    /// The entry's code (sectors, indicators, measures); an opportunity is numbered within its stage.
    public var code: String?
    public var label: String?
    /// A sector's name in each letter language (`en`, `fr`, `nl`, `de`): letters name the sector.
    public var names: [String: String]?
    /// A sector's first-contact letter (default `general`), and whether its letters carry the postal-secrecy caveat (default no).
    public var letterGroup: SectorGroup?
    public var postal: Bool?
    /// An indicator's type and stages.
    public var type: SignalType?
    public var stages: [Stage]?
    /// An opportunity's stage.
    public var stage: Stage?
    /// Indicators and opportunities: the paper or practice; an indicator's note says where exactly.
    public var source: TaxonomySource?
    public var sourceNote: String?
    /// A measure's description and the sectors it applies to (none: all).
    public var description: String?
    public var sectors: [String]?
    /// Why the entry is added or changed (required; kept with the version).
    public var reason: String?

    public init(code: String? = nil, label: String? = nil, names: [String: String]? = nil, type: SignalType? = nil, stages: [Stage]? = nil,
                stage: Stage? = nil, source: TaxonomySource? = nil, sourceNote: String? = nil, description: String? = nil,
                sectors: [String]? = nil, letterGroup: SectorGroup? = nil, postal: Bool? = nil, reason: String? = nil) {
        self.letterGroup = letterGroup; self.postal = postal
        self.code = code; self.label = label; self.names = names; self.type = type; self.stages = stages; self.stage = stage
        self.source = source; self.sourceNote = sourceNote; self.description = description; self.sectors = sectors; self.reason = reason
    }

    /// The fields each catalogue takes, and those a new entry must give.
    public static func fields(of catalogue: TaxonomyCatalogue) -> (allowed: Set<String>, required: Set<String>) {
        switch catalogue {
        case .sectors: (["code", "label", "names", "letter_group", "postal", "reason"], ["code", "label", "names", "reason"])
        case .indicators: (["code", "label", "type", "stages", "source", "source_note", "reason"], ["code", "label", "type", "stages", "source", "reason"])
        case .measures: (["code", "label", "description", "sectors", "reason"], ["code", "label", "reason"])
        case .opportunities: (["stage", "label", "source", "reason"], ["stage", "label", "source", "reason"])
        }
    }

    /// The names of the fields this draft sets.
    public var given: Set<String> {
        var set: Set<String> = []
        if code != nil { set.insert("code") }
        if label != nil { set.insert("label") }
        if names != nil { set.insert("names") }
        if letterGroup != nil { set.insert("letter_group") }
        if postal != nil { set.insert("postal") }
        if type != nil { set.insert("type") }
        if stages != nil { set.insert("stages") }
        if stage != nil { set.insert("stage") }
        if source != nil { set.insert("source") }
        if sourceNote != nil { set.insert("source_note") }
        if description != nil { set.insert("description") }
        if sectors != nil { set.insert("sectors") }
        if reason != nil { set.insert("reason") }
        return set
    }

    /// Every rule the draft breaks. `creating`: a new entry (its required fields given,
    /// its code free); otherwise a change (the code and stage stay: they are what
    /// records refer to). `existing`: the catalogue's codes; `knownSectors`: for a measure's sectors.
    public func problems(_ catalogue: TaxonomyCatalogue, creating: Bool, existing: Set<String>, knownSectors: Set<String>) -> [FieldError] {
        var errors = FieldErrors()
        let (allowed, required) = Self.fields(of: catalogue)
        for field in given.subtracting(allowed).sorted() {
            errors.add(field, "is not a field of the \(catalogue.rawValue) catalogue; it takes \(allowed.sorted().joined(separator: ", "))")
        }
        if creating {
            for field in required.subtracting(given).sorted() { errors.add(field, "is required") }
        } else {
            if code != nil { errors.add("code", "stays as it is: records refer to it; add a new entry instead") }
            if stage != nil { errors.add("stage", "stays as it is: add a new opportunity to the other stage instead") }
            if given.subtracting(["reason"]).isEmpty { errors.add("label", "nothing to change: give at least one field besides the reason") }
        }
        errors.text("reason", reason, max: 2000, required: true, missing: "is required: say why the catalogue changes")
        if let code {
            let limit = catalogue == .sectors ? 48 : 60
            let ok = code.count >= 2 && code.count <= limit + 1 && code.first.map { ("a"..."z").contains($0) } == true
                && code.allSatisfy { ("a"..."z").contains($0) || $0 == "_" }
            if !ok { errors.add("code", "must be 2 to \(limit + 1) lower-case letters or underscores, starting with a letter") }
            else if creating && existing.contains(code) { errors.add("code", "'\(code)' is already in the \(catalogue.rawValue) catalogue") }
        }
        errors.text("label", label, max: 200, required: false)
        if let names {
            for language in ["en", "fr", "nl", "de"] where (names[language] ?? "").allSatisfy(\.isWhitespace) {
                errors.add("names.\(language)", "is required: letters in that language name the sector")
            }
            for (language, name) in names where name.count > 200 { errors.add("names.\(language)", "must be at most 200 characters") }
            for language in names.keys.sorted() where !["en", "fr", "nl", "de"].contains(language) {
                errors.add("names.\(language)", "is not a letter language (en, fr, nl, de)")
            }
        }
        if let stages, stages.isEmpty { errors.add("stages", "must name at least one stage") }
        errors.text("source_note", sourceNote, max: 500, required: false)
        if let description, description.count > 2000 { errors.add("description", "must be at most 2000 characters") }
        if let sectors {
            for sector in sectors where !knownSectors.contains(sector) { errors.add("sectors", "'\(sector)' is not a sector") }
        }
        return errors.errors
    }
}
