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

    /// Throws when anything was collected.
    public func check() throws(ValidationFailure) {
        if !errors.isEmpty { throw ValidationFailure(errors) }
    }
}
