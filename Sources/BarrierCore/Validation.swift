import Foundation

/// One invalid input field with a sentence a user can act on.
public struct FieldError: Error, Equatable, Sendable, Codable {
    /// The field's name as the client sent it (`legal_name`, `contacts[1].email`).
    public var field: String
    public var message: String
    /// The CSV line the field came from, for imports.
    public var line: Int?

    public init(field: String, message: String, line: Int? = nil) {
        self.field = field
        self.message = message
        self.line = line
    }
}

/// Every invalid field of one input at once, so a user fixes them in one go.
public struct ValidationFailure: Error, Equatable, Sendable {
    public var errors: [FieldError]

    public init(_ errors: [FieldError]) {
        self.errors = errors
    }
}

/// Collects field errors while an input is read.
public struct FieldErrors: Sendable {
    public private(set) var errors: [FieldError] = []

    public init() {}

    public mutating func add(_ field: String, _ message: String) {
        errors.append(FieldError(field: field, message: message))
    }

    public mutating func append(contentsOf other: [FieldError]) {
        errors.append(contentsOf: other)
    }

    public var isEmpty: Bool { errors.isEmpty }

    /// A free text that must say something, within `max` characters; `missing` says what to write.
    public mutating func text(_ field: String, _ value: String?, max: Int, required: Bool = true, missing: String = "is required") {
        guard let value else { if required { add(field, missing) }; return }
        if value.allSatisfy(\.isWhitespace) { add(field, required ? missing : "must not be blank") }
        else if value.count > max { add(field, "must be at most \(max) characters") }
    }

    /// A day that has happened (not after `today`) and not before `earliest`, named as `earliestIs` ("the decision").
    public mutating func pastDay(_ field: String, _ day: String, today: String, earliest: String? = nil, earliestIs: String = "") {
        if !ISODay.isValid(day) { add(field, "must be a day written YYYY-MM-DD") }
        else if day > today { add(field, "is after today (\(today)); record what has happened") }
        else if let earliest, day < earliest { add(field, "is before \(earliestIs) (\(earliest))") }
    }

    /// Throws when anything was collected.
    public func check() throws(ValidationFailure) {
        if !errors.isEmpty { throw ValidationFailure(errors) }
    }
}

extension StringProtocol {
    /// The text without leading and trailing whitespace (newlines included).
    public var trimmingWhitespace: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}

/// Every text a user sends (JSON strings, form fields, CSV cells) passes here:
/// control characters are refused — PostgreSQL cannot store NUL at all, and the
/// others (C0 but tab and line breaks, DEL, C1) are never meant — and the text
/// is stored in Unicode NFC, so "é" typed as one character or as "e" plus an
/// accent is the same name to search and to compare.
public enum TextInput {
    public static let controlMessage = "must not contain control characters (only tab and line breaks are allowed)"

    public static func hasControlCharacters(_ text: some StringProtocol) -> Bool {
        // Over the UTF-8 bytes (an import checks every cell): C0 and DEL are single
        // bytes, C1 (U+0080 to U+009F) is 0xC2 followed by 0x80 to 0x9F.
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if (byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D) || byte == 0x7F || (previous == 0xC2 && byte <= 0x9F && byte >= 0x80) {
                return true
            }
            previous = byte
        }
        return false
    }

    /// The text in NFC; ASCII text (most of it) is returned as it is.
    public static func normalised(_ text: String) -> String {
        text.utf8.allSatisfy({ $0 < 0x80 }) ? text : text.precomposedStringWithCanonicalMapping
    }
}
