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
