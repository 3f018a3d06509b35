import BarrierCore
import Crypto
import Foundation
import Mustache

/// Which template a letter is written from: its kind, its language and, for a
/// first contact, the sector group.
public struct TemplateKey: Hashable, Sendable, Codable, CustomStringConvertible {
    public var kind: LetterKind
    public var group: SectorGroup?
    public var language: LetterLanguage

    public init(kind: LetterKind, group: SectorGroup?, language: LetterLanguage) {
        self.kind = kind
        self.group = kind.isPerSectorGroup ? (group ?? .general) : nil
        self.language = language
    }

    /// The template for a letter of `kind` to a supplier of `sector`.
    public static func forLetter(kind: LetterKind, sector: String, language: LetterLanguage) -> TemplateKey {
        TemplateKey(kind: kind, group: SectorGroup.forSector(sector), language: language)
    }

    /// `inform_call_to_action.delivery.en.mustache`, `reminder.fr.mustache`.
    public var fileName: String {
        ([kind.rawValue] + (group.map { [$0.rawValue] } ?? []) + [language.rawValue, "mustache"]).joined(separator: ".")
    }

    /// The key a template file's name stands for, or nil when it names no letter template.
    public init?(fileName: String) {
        let parts = fileName.split(separator: ".").map(String.init)
        guard parts.last == "mustache", parts.count == 3 || parts.count == 4,
              let kind = LetterKind(rawValue: parts[0]), let language = LetterLanguage(rawValue: parts[parts.count - 2])
        else { return nil }
        if kind.isPerSectorGroup {
            guard parts.count == 4, let group = SectorGroup(rawValue: parts[1]) else { return nil }
            self.init(kind: kind, group: group, language: language)
        } else {
            guard parts.count == 3 else { return nil }
            self.init(kind: kind, group: nil, language: language)
        }
    }

    public var description: String { String(fileName.dropLast(".mustache".count)) }
}

/// Why a template body was refused: the line (1-based) and a sentence.
public struct TemplateProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var reason: String

    public var description: String { "line \(line), column \(column): \(reason)" }
}

/// A letter body: Mustache text with the line rules of `templates/letters/README.md`.
public enum LetterTemplate {
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
