/// What approving a campaign reads: the campaign, how many selected suppliers
/// have a postal address, the templates their letters need (sector group and
/// language of each) and the templates the agency writes from.
public struct CampaignApprovalCase: Sendable, Equatable {
    public var status: String
    public var version: Int
    public var addressed: Int
    public var needed: Set<TemplateKey>
    public var templates: Set<TemplateKey>

    public init(status: String, version: Int, addressed: Int, needed: Set<TemplateKey>, templates: Set<TemplateKey>) {
        self.status = status; self.version = version; self.addressed = addressed; self.needed = needed; self.templates = templates
    }
}

/// Approving a campaign as one pure decision: the version, a draft (a campaign
/// is approved once), someone to write to, and a template for every letter
/// before anything is queued.
public enum CampaignApproval {
    public enum Refusal: Error, Sendable, Equatable {
        case versionConflict(current: Int)
        case approvedAlready(status: String)
        case nothingToSend
        case missingTemplates([TemplateKey])
    }

    public static func refusal(_ c: CampaignApprovalCase, expectedVersion: Int) -> Refusal? {
        guard c.version == expectedVersion else { return .versionConflict(current: c.version) }
        guard c.status == "draft" else { return .approvedAlready(status: c.status) }
        guard c.addressed > 0 else { return .nothingToSend }
        let missing = c.needed.subtracting(c.templates)
        return missing.isEmpty ? nil : .missingTemplates(missing.sorted { $0.description < $1.description })
    }
}

/// A campaign as an officer sets it up: its name, the letter kind, the period,
/// which filters of the supplier list it saves and the language rule.
public enum CampaignDrafting {
    /// The filter keys a campaign may save (the supplier list's filters).
    public static let filterKeys: Set<String> = ["sector", "country", "stage", "market", "status", "cooperation", "q"]

    /// Every rule the set-up breaks (the filter values themselves are checked by the supplier list's parser).
    public static func problems(name: String, kind: LetterKind, responseDays: Int?, filterKeys: some Sequence<String>,
                                languageCountries: some Sequence<String>) -> [FieldError] {
        var errors = FieldErrors()
        let trimmed = name.trimmingWhitespace
        if trimmed.isEmpty || trimmed.count > 200 { errors.add("name", "must be 1 to 200 characters") }
        if kind != .informCallToAction { errors.add("kind", "campaigns send inform_call_to_action letters") }
        if let days = responseDays, !ResponsePeriod.allowedDays.contains(days) { errors.add("response_days", "must be between 1 and 365") }
        for key in filterKeys.sorted() where !Self.filterKeys.contains(key) {
            errors.add("filter.\(key)", "is not a filter; use \(Self.filterKeys.sorted().joined(separator: ", "))")
        }
        for country in languageCountries.sorted() where !Countries.isKnown(country) {
            errors.add("language_by_country.\(country)", "is not an ISO 3166-1 alpha-2 country code")
        }
        return errors.errors
    }

    /// The language of a campaign's letter to a supplier: the override for that
    /// supplier, else the campaign's rule for its country, else its country's language.
    public static func language(supplier: UUIDString, country: String, overrides: [UUIDString: LetterLanguage],
                                byCountry: [String: LetterLanguage]) -> LetterLanguage {
        overrides[supplier] ?? byCountry[country] ?? LetterLanguage.forCountry(country)
    }
}
