import BarrierCore
import Crypto
import Foundation
import Mustache

/// Why a template body was refused: the line (1-based) and a sentence.
public struct TemplateProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var reason: String

    public var description: String { "line \(line), column \(column): \(reason)" }
}

/// A letter body: Mustache text with the line rules of `templates/letters/README.md`.
public enum LetterTemplate {
    /// The longest body an administrator may store, in Unicode code points (what
    /// the API document's `maxLength` counts); the shipped bodies are about 3,000.
    public static let maxBodyLength = 100_000

    /// The request bytes a body of `maxBodyLength` may take as JSON: every code
    /// point escaped as a UTF-16 surrogate pair (`\uD83D\uDE00`, 12 bytes), and room
    /// for the rest of the object. A body within the length is never refused as too large.
    public static let maxRequestBytes = maxBodyLength * 12 + 4096

    /// SHA-256 of the body's UTF-8 bytes: the template version's identity.
    public static func sha256(_ body: String) -> Data { Data(SHA256.hash(data: Data(body.utf8))) }

    /// Compiles `body` as a letter body; nil when it is usable.
    public static func problem(in body: String) -> TemplateProblem? {
        do {
            _ = try MustacheTemplate(string: body)
        } catch let error as MustacheTemplate.ParserError {
            return TemplateProblem(line: error.context.lineNumber, column: error.context.columnNumber, reason: sentence(for: error.error))
        } catch {
            return TemplateProblem(line: 1, column: 1, reason: "\(error)")
        }
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.firstIndex(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            return TemplateProblem(line: 1, column: 1, reason: "the body is empty")
        }
        if !lines[first].hasPrefix("# ") || lines[first].dropFirst(2).trimmingCharacters(in: .whitespaces).isEmpty {
            return TemplateProblem(line: first + 1, column: 1, reason: "the first line must be the subject, written as '# ' and the subject text")
        }
        if body.contains("{{{") || body.contains("{{&") {
            let line = lines.firstIndex(where: { $0.contains("{{{") || $0.contains("{{&") }).map { $0 + 1 } ?? 1
            return TemplateProblem(line: line, column: 1, reason: "unescaped values ({{{…}}} or {{&…}}) are not allowed in letters")
        }
        return nil
    }

    static func sentence(for error: any Error) -> String {
        switch error as? MustacheTemplate.Error {
        case .sectionCloseNameIncorrect: return "a section is closed with another name than the one it was opened with"
        case .unfinishedName: return "a tag is not finished: '}}' is missing"
        case .expectedSectionEnd: return "a section is opened but never closed"
        case .invalidSetDelimiter: return "the delimiter change is malformed"
        case .invalidConfigVariableSyntax, .unrecognisedConfigVariable: return "the {{% … }} setting is not one this program knows"
        case .transformAppliedToInheritanceSection, .illegalTokenInsideInheritSection, .textInsideInheritSection:
            return "template inheritance is not allowed in letters"
        case nil: return "\(error)"
        }
    }

    /// The letter templates shipped in `directory` (`templates/letters`), by key.
    public static func files(in directory: String) throws -> [TemplateKey: String] {
        var found: [TemplateKey: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            guard let key = TemplateKey(fileName: name) else { continue }
            found[key] = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
        }
        return found
    }
}
