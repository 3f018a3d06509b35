/// VAT identification numbers: normalised to upper case without separators and
/// checked against the format of the issuing country where one is known.
public enum VATNumber {
    /// The VAT prefix a country uses; Greece writes `EL`.
    public static func prefix(forCountry country: String) -> String {
        country == "GR" ? "EL" : country
    }

    /// Formats after the two-letter prefix, as published for VIES and national registers.
    static let patterns: [String: String] = [
        "AT": "U[0-9]{8}", "BE": "[01][0-9]{9}", "BG": "[0-9]{9,10}", "CY": "[0-9]{8}[A-Z]",
        "CZ": "[0-9]{8,10}", "DE": "[0-9]{9}", "DK": "[0-9]{8}", "EE": "[0-9]{9}", "GR": "[0-9]{9}",
        "ES": "[A-Z0-9][0-9]{7}[A-Z0-9]", "FI": "[0-9]{8}", "FR": "[A-HJ-NP-Z0-9]{2}[0-9]{9}",
        "HR": "[0-9]{11}", "HU": "[0-9]{8}", "IE": "[0-9]{7}[A-W][A-I]?|[0-9][A-Z+*][0-9]{5}[A-W]",
        "IT": "[0-9]{11}", "LT": "[0-9]{9}|[0-9]{12}", "LU": "[0-9]{8}", "LV": "[0-9]{11}", "MT": "[0-9]{8}",
        "NL": "[0-9]{9}B[0-9]{2}", "PL": "[0-9]{10}", "PT": "[0-9]{9}", "RO": "[0-9]{2,10}", "SE": "[0-9]{12}",
        "SI": "[0-9]{8}", "SK": "[0-9]{10}", "NO": "[0-9]{9}MVA", "CH": "E[0-9]{9}(MWST|TVA|IVA)?",
        "GB": "[0-9]{9}|[0-9]{12}|GD[0-9]{3}|HA[0-9]{3}",
    ]

    nonisolated(unsafe) private static let compiled: [String: Regex<AnyRegexOutput>] =
        patterns.mapValues { try! Regex("^(?:\($0))$") }
    nonisolated(unsafe) private static let generic = try! Regex("^[A-Z0-9+*]{2,16}$")

    /// Upper case, without spaces, dots and dashes.
    public static func normalise(_ raw: String) -> String {
        String(raw.uppercased().filter { !" .-".contains($0) })
    }

    /// Nil when `vat` (already normalised) is acceptable for `country`, else why not.
    public static func problem(with vat: String, country: String) -> String? {
        let expected = prefix(forCountry: country)
        guard vat.count >= 4, vat.hasPrefix(expected) else {
            return "must start with the country prefix \(expected)"
        }
        let body = vat.dropFirst(2)
        guard let rule = compiled[country] else {
            return body.wholeMatch(of: generic) != nil ? nil : "is not a VAT number"
        }
        return body.wholeMatch(of: rule) != nil ? nil : "is not a valid \(country) VAT number"
    }
}
