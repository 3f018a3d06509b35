import BarrierCore
import Crypto
import Foundation
import Mustache
import Synchronization

/// A letter rendered from a body and a snapshot: its subject, HTML (what the
/// PDF is printed from) and plain text.
public struct RenderedLetter: Sendable, Equatable {
    public var subject: String
    public var html: String
    public var text: String

    public init(subject: String, html: String, text: String) {
        self.subject = subject
        self.html = html
        self.text = text
    }

    /// The letter with `placeholder` replaced by the real reference (see `LetterReference.placeholder`).
    public func replacingReference(_ placeholder: String, with reference: String) -> RenderedLetter {
        let from = Array(placeholder.utf8), to = Array(reference.utf8)
        func replace(_ text: String) -> String {
            guard let first = from.first else { return text }
            let bytes = Array(text.utf8)
            var out: [UInt8] = []
            var start = 0, i = 0
            // Copied a stretch at a time between matches (byte by byte it was a tenth of a campaign's writing).
            while i + from.count <= bytes.count {
                if bytes[i] == first, bytes[i..<(i + from.count)].elementsEqual(from) {
                    if out.isEmpty { out.reserveCapacity(bytes.count + 16) }
                    out += bytes[start..<i]
                    out += to
                    i += from.count
                    start = i
                } else {
                    i += 1
                }
            }
            if start == 0 { return text }
            out += bytes[start...]
            return String(decoding: out, as: UTF8.self)
        }
        return RenderedLetter(subject: replace(subject), html: replace(html), text: replace(text))
    }

    public var htmlSHA256: Data { Data(SHA256.hash(data: Data(html.utf8))) }
    public var textSHA256: Data { Data(SHA256.hash(data: Data(text.utf8))) }
}

/// The words the layout needs in one language (`labels.<language>.json`).
struct LetterLabels: Decodable, Sendable {
    var language: String
    var dateFormat: String
    var months: [String]
    var ourReference: String
    var yourReference: String
    var date: String
    var replyBy: String
    var subject: String
    var page: String
    var of: String
    var draft: String
    var replyTo: String
    var footer: String
    var sectors: [String: String]
    var actionTypes: [String: String]
    /// Singular and plural of `days`, `weeks`, `months`.
    var periodUnits: [String: [String]]
    /// The line naming the contact point a first-contact letter is copied to.
    var copyTo: String
    /// The addressee line: the undertaking's management.
    var management: String
    /// The signal types in the letter's language.
    var signalTypes: [String: String]
    /// The letter kinds, as a referral's file lists them.
    var letterKinds: [String: String]

    /// `6 weeks`, `1 Monat` from a profile's period.
    func period(_ period: ProcedureProfile.Period) -> String {
        let words = periodUnits[period.unit.rawValue] ?? [period.unit.rawValue, period.unit.rawValue]
        return "\(period.count) \(period.count == 1 ? words[0] : words[words.count - 1])"
    }

    /// `29 November 2026` from `2026-11-29`; anything that is not an ISO day is shown as it is.
    func longDate(_ iso: String) -> String {
        let parts = iso.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, (1...12).contains(parts[1]), months.count == 12 else { return iso }
        // `{day}`, `{month}` and `{year}` filled in one pass (Foundation's replacingOccurrences,
        // three times a date, showed in a campaign's profile).
        var out = ""
        var rest = dateFormat[...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            switch rest[rest.index(after: open)..<close] {
            case "day": out += String(parts[2])
            case "month": out += months[parts[1] - 1]
            case "year": out += String(parts[0])
            default: out += rest[open...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }
}

/// Lays letter bodies out as HTML and plain text with the agency's letterhead,
/// the addressee block, the reference line, the signature and the footer.
///
/// The result depends only on the body, the snapshot and the layout files,
/// whose SHA-256 (`layoutSHA256`) is stored with each approved letter: the
/// same three give the same bytes.
public struct LetterRenderer: Sendable {
    let htmlLayout: MustacheTemplate
    let textLayout: MustacheTemplate
    let library: MustacheLibrary
    let labels: [LetterLanguage: LetterLabels]
    /// Per language: the hash of every layout file and that language's labels.
    public let layoutSHA256: [LetterLanguage: Data]
    /// The letter bodies shipped with the program.
    public let shippedTemplates: [TemplateKey: String]

    /// Width of the plain-text letter.
    static let textWidth = 72
    let countryNames = CountryNames()

    /// Loads `templates/letters` (found the way the other project files are).
    public init(directory: String) throws {
        func read(_ name: String) throws -> String {
            do { return try String(contentsOfFile: directory + "/" + name, encoding: .utf8) } catch {
                throw LetterRenderingError.missingFile(directory + "/" + name)
            }
        }
        Self.registerContentTypes()
        var layoutFiles: [(String, String)] = [("layout.html.mustache", try read("layout.html.mustache")),
                                               ("layout.txt.mustache", try read("layout.txt.mustache"))]
        var library = MustacheLibrary()
        let partials = try FileManager.default.contentsOfDirectory(atPath: directory + "/partials")
            .filter { $0.hasSuffix(".mustache") }.sorted()
        for name in partials {
            let text = try read("partials/" + name)
            layoutFiles.append(("partials/" + name, text))
            do {
                try library.register(text, named: String(name.dropLast(".mustache".count)).replacingOccurrences(of: ".", with: "_"))
            } catch {
                throw LetterRenderingError.badLayout("partials/\(name): \(error)")
            }
        }
        do {
            htmlLayout = try MustacheTemplate(string: layoutFiles[0].1)
            textLayout = try MustacheTemplate(string: layoutFiles[1].1)
        } catch {
            throw LetterRenderingError.badLayout("layout: \(error)")
        }
        self.library = library
        var labels: [LetterLanguage: LetterLabels] = [:]
        var hashes: [LetterLanguage: Data] = [:]
        for language in LetterLanguage.allCases {
            let name = "labels.\(language.rawValue).json"
            let json = try read(name)
            do {
                labels[language] = try JSONDecoder().decode(LetterLabels.self, from: Data(json.utf8))
            } catch {
                throw LetterRenderingError.badLayout("\(name): \(error)")
            }
            var hasher = SHA256()
            for (file, text) in layoutFiles + [(name, json)] {
                hasher.update(data: Data("\(file)\n\(text.utf8.count)\n".utf8))
                hasher.update(data: Data(text.utf8))
            }
            hashes[language] = Data(hasher.finalize())
        }
        self.labels = labels
        self.layoutSHA256 = hashes
        self.shippedTemplates = try LetterTemplate.files(in: directory)
    }

    /// The HTML layout's content type: the same escaping as swift-mustache's
    /// HTML type (`< > & " '`), done on bytes with a pass-through when there is
    /// nothing to escape; per character it was a fifth of a campaign's time.
    struct HTMLBytes: MustacheContentType {
        func escapeText(_ text: String) -> String {
            let u = text.utf8
            guard u.contains(where: { $0 == 60 || $0 == 62 || $0 == 38 || $0 == 34 || $0 == 39 }) else { return text }
            var out: [UInt8] = []
            out.reserveCapacity(u.count + 16)
            for b in u {
                switch b {
                case 60: out += Array("&lt;".utf8)
                case 62: out += Array("&gt;".utf8)
                case 38: out += Array("&amp;".utf8)
                case 34: out += Array("&quot;".utf8)
                case 39: out += Array("&#39;".utf8)
                default: out.append(b)
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    static func registerContentTypes() {
        MustacheContentTypes.register(HTMLBytes(), named: "HTMLBYTES")
    }

    /// A checked, parsed body, for rendering many letters from one template version.
    public struct CompiledBody: Sendable {
        let template: MustacheTemplate
    }

    public func compile(_ body: String) throws -> CompiledBody {
        if let problem = LetterTemplate.problem(in: body) { throw LetterRenderingError.badTemplate(problem) }
        return CompiledBody(template: try MustacheTemplate(string: "{{%CONTENT_TYPE:TEXT}}" + body))
    }

    /// Renders `body` for `snapshot`. A snapshot without a reference renders as a draft.
    public func render(body: String, snapshot: LetterSnapshot) throws -> RenderedLetter {
        render(try compile(body), snapshot: snapshot)
    }

    public func render(_ body: CompiledBody, snapshot: LetterSnapshot) -> RenderedLetter {
        let labels = self.labels[snapshot.language]!
        var values = self.values(snapshot, labels: labels)
        let blocks = LetterBlocks(body.template.render(values))
        values["subject"] = LetterText(blocks.subject)
        values["subjectWrapped"] = LetterText(LetterBlocks.wrap(blocks.subject, width: Self.textWidth))
        values["title"] = LetterText([snapshot.letter.reference ?? labels.draft, blocks.subject].joined(separator: " – "))
        values["blocksHTML"] = LetterText(blocks.html(escape: HTMLBytes().escapeText))
        values["blocksText"] = LetterText(blocks.text(width: Self.textWidth))
        let html = htmlLayout.render(values, library: library)
        let text = LetterBlocks.tidy(textLayout.render(values, library: library))
        return RenderedLetter(subject: blocks.subject, html: html, text: text)
    }

    /// The values a body and the layout can use (see `templates/letters/README.md`).
    func values(_ s: LetterSnapshot, labels: LetterLabels) -> [String: Any] {
        func present(_ pairs: [(String, Any?)]) -> [String: Any] {
            var out: [String: Any] = [:]
            for (key, value) in pairs {
                switch value {
                case nil: continue
                case let string as String: if !string.isEmpty { out[key] = LetterText(string) }
                case let lines as [String]: out[key] = lines.map(LetterText.init)
                case let value?: out[key] = value
                }
            }
            return out
        }
        let a = s.agency, p = s.supplier
        let agencyLines = [a.street, [a.postalCode, a.city].compactMap { $0 }.joined(separator: " ")]
            .compactMap { $0 }.filter { !$0.isEmpty } + [countryName(a.country, language: s.language)]
        var supplierLines = [p.street, [p.postalCode, p.city].compactMap { $0 }.joined(separator: " ")]
            .compactMap { $0 }.filter { !$0.isEmpty }
        if p.country != a.country { supplierLines.append(countryName(p.country, language: s.language).uppercased()) }
        let contactLine = [a.phone, a.email, a.website].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " · ")
        var values: [String: Any] = [
            "language": LetterText(s.language.rawValue),
            "labels": present([
                ("ourReference", labels.ourReference), ("date", labels.date), ("replyBy", labels.replyBy),
                ("page", labels.page), ("of", labels.of), ("draft", labels.draft), ("replyTo", labels.replyTo),
                ("footer", labels.footer), ("footerWrapped", LetterBlocks.wrap(labels.footer, width: Self.textWidth)),
                ("subject", labels.subject),
            ]),
            "agency": present([
                ("name", a.name), ("email", a.email), ("phone", a.phone), ("website", a.website),
                ("signatoryName", a.signatoryName), ("signatoryTitle", a.signatoryTitle),
                ("lines", agencyLines), ("addressLine", agencyLines.joined(separator: " · ")), ("contactLine", contactLine),
            ]),
            "supplier": present([
                ("name", p.name), ("tradingName", p.tradingName), ("sector", labels.sectors[p.sector] ?? p.sectorNames?[s.language.rawValue] ?? p.sector),
                ("contactName", p.contactName), ("contactRole", p.contactRole), ("lines", supplierLines),
                ("registrationNumber", p.registrationNumber),
                ("address", ([p.street, [p.postalCode, p.city].compactMap { $0 }.joined(separator: " ")].compactMap { $0 }.filter { !$0.isEmpty }
                             + [countryName(p.country, language: s.language)]).joined(separator: ", ")),
            ]),
            "letter": present([
                ("reference", s.letter.reference ?? "DRAFT"), ("date", labels.longDate(s.letter.date)),
                ("deadline", labels.longDate(s.letter.deadline)), ("responseDays", s.letter.responseDays),
            ]),
        ]
        if s.letter.reference == nil { values["draft"] = true }
        if let o = s.original {
            values["original"] = present([("reference", o.reference), ("date", labels.longDate(o.date)),
                                          ("deadline", labels.longDate(o.deadline))])
        }
        if let x = s.action {
            values["action"] = present([
                ("type", labels.actionTypes[x.type] ?? x.type), ("legalBasis", x.legalBasis), ("rationale", x.rationale),
                ("conditions", x.conditions),
                ("amount", x.amountMinor.map { Money.format(minor: $0, currency: x.currency ?? "EUR", language: s.language) }),
                ("effectiveFrom", x.effectiveFrom.map(labels.longDate)), ("effectiveTo", x.effectiveTo.map(labels.longDate)),
                ("responseDays", x.responseDays), ("appealDays", x.appealDays), ("decidedOn", x.decidedOn.map(labels.longDate)),
                ("ladderJustification", x.ladderJustification),
            ])
        }
        if let law = s.law {
            var out: [String: Any] = present([
                ("profile", law.profile), ("competence", law.competence), ("dataProtection", law.dataProtection),
                ("fileAccess", law.fileAccess), ("postalSecrecy", law.postalSecrecy),
            ])
            if let x = law.action {
                out["action"] = present([("legalBasis", x.legalBasis), ("competence", x.competence), ("effect", x.effect),
                                         ("suspensive", x.suspensive ? true : nil)])
            }
            if let r = law.remedy {
                var remedy = present([
                    ("name", r.name), ("body", r.body), ("address", r.address), ("form", r.form), ("period", labels.period(r.period)),
                    ("fromDelivery", r.startsFrom == .delivery ? true : nil), ("fromDecisionDate", r.startsFrom == .decisionDate ? true : nil),
                    ("endsOn", r.endsOn.map(labels.longDate)),
                ])
                if let n = r.next {
                    remedy["next"] = present([("name", n.name), ("body", n.body), ("address", n.address), ("period", labels.period(n.period))])
                }
                out["remedy"] = remedy
            }
            if let p = law.payment {
                out["payment"] = present([("beneficiary", p.beneficiary), ("iban", p.iban), ("bic", p.bic), ("days", p.days)])
            }
            values["law"] = out
        }
        if let r = s.record {
            if let e = r.earlier {
                values["earlier"] = present([("reference", e.reference), ("date", labels.longDate(e.date)), ("reachedOn", labels.longDate(e.reachedOn))])
            }
            if !r.signals.isEmpty {
                values["signals"] = r.signals.map {
                    present([("date", labels.longDate($0.date)), ("type", labels.signalTypes[$0.type] ?? $0.type), ("summary", $0.summary)])
                }
            }
            if let n = r.noticeOfIntent {
                values["noticeOfIntent"] = present([("reference", n.reference), ("date", labels.longDate(n.date)),
                                                    ("deliveredOn", n.deliveredOn.map(labels.longDate)), ("deadline", labels.longDate(n.deadline))])
            }
            if let response = r.response {
                values["response"] = present([("receivedOn", labels.longDate(response.receivedOn)), ("summary", response.summary)])
            }
            if let consideration = r.consideration { values["decision"] = ["consideration": LetterText(consideration)] }
        }
        // A decision notice asks for no reply: the remedy section says what the supplier can do.
        if s.kind != .decisionNotice { values["asksReply"] = true }
        // A letter goes to the undertaking's management; the contact point gets a copy.
        values["management"] = LetterText(labels.management)
        if let r = s.referral {
            // A referral goes to the authority's management, with no copy to the supplier's contact.
            values["recipient"] = present([("name", r.body), ("lines", r.address.split(separator: ",").map { $0.trimmingWhitespace }.filter { !$0.isEmpty })])
            values["referral"] = present([("body", r.body), ("address", r.address)])
            values["file"] = r.file.map {
                present([("kind", labels.letterKinds[$0.kind.rawValue] ?? $0.kind.rawValue), ("reference", $0.reference),
                         ("date", labels.longDate($0.date)), ("reachedOn", $0.reachedOn.map(labels.longDate))])
            }
        } else if let contact = p.contactName, !contact.isEmpty {
            values["copyTo"] = LetterText(labels.copyTo + ": " + ([contact, p.contactRole].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ", ")))
        }
        return values
    }

    /// The country's name in the letter's language. ICU's lookup is slow and a
    /// campaign asks for the same few names thousands of times, so they are kept.
    func countryName(_ code: String, language: LetterLanguage) -> String {
        let key = language.rawValue + code
        if let known = countryNames.names.withLock({ $0[key] }) { return known }
        let name = Locale(identifier: language.rawValue).localizedString(forRegionCode: code) ?? code
        countryNames.names.withLock { $0[key] = name }
        return name
    }

    final class CountryNames: Sendable {
        let names = Mutex<[String: String]>([:])
    }

    /// The labels file's name for `language`, for the API's template listing.
    public func languageName(_ language: LetterLanguage) -> String { labels[language]?.language ?? language.rawValue }
}

/// A string in a letter's context. swift-mustache renders a plain `String` after
/// four failed casts and `String(describing:)`, and looks into one pushed as a
/// section with `Mirror`; this renders as its text and has no children, which
/// gives the same bytes for less work (a campaign renders millions of values).
/// Transforms (`{{uppercased(x)}}`) still apply to the text.
struct LetterText: MustacheCustomRenderable, MustacheParent, MustacheTransformable {
    let text: String
    init(_ text: String) { self.text = text }
    var renderText: String { text }
    var isNull: Bool { false }
    func child(named: String) -> Any? { nil }
    func transform(_ name: String) -> Any? { text.transform(name) }
}

public enum LetterRenderingError: Error, CustomStringConvertible {
    case missingFile(String)
    case badLayout(String)
    case badTemplate(TemplateProblem)

    public var description: String {
        switch self {
        case .missingFile(let path): return "the letter layout file \(path) is missing"
        case .badLayout(let why): return "the letter layout does not compile: \(why)"
        case .badTemplate(let problem): return "the template does not compile: \(problem)"
        }
    }
}

/// Amounts in minor units, written the way each language writes money.
public enum Money {
    static let zeroDecimalCurrencies: Set<String> = ["JPY", "KRW", "ISK", "CLP", "VND", "XAF", "XOF"]

    public static func format(minor: Int64, currency: String, language: LetterLanguage) -> String {
        let decimals = zeroDecimalCurrencies.contains(currency) ? 0 : 2
        let scale = decimals == 0 ? Int64(1) : 100
        let whole = String(abs(minor) / scale)
        let (group, point): (String, String) = switch language {
        case .en: (",", ".")
        case .fr: ("\u{202F}", ",")
        case .nl, .de: (".", ",")
        }
        var grouped = ""
        for (i, c) in whole.enumerated() {
            if i > 0 && (whole.count - i) % 3 == 0 { grouped += group }
            grouped.append(c)
        }
        let fraction = decimals == 0 ? "" : point + String(format: "%02d", Int(abs(minor) % scale))
        let number = (minor < 0 ? "-" : "") + grouped + fraction
        return language == .en || language == .nl ? "\(currency) \(number)" : "\(number) \(currency)"
    }
}

/// A rendered body cut into the subject and its blocks: headings, paragraphs and lists.
struct LetterBlocks {
    enum Block {
        case heading(String)
        case paragraph(String)
        case list([String])
    }

    var subject = ""
    var blocks: [Block] = []

    init(_ rendered: String) {
        var paragraph: [String] = []
        var items: [String] = []
        func flush() {
            if !paragraph.isEmpty { blocks.append(.paragraph(paragraph.joined(separator: " "))); paragraph = [] }
            if !items.isEmpty { blocks.append(.list(items)); items = [] }
        }
        for raw in LetterBlocks.lines(rendered) {
            let line = String(LetterBlocks.trimSpaces(raw))
            if line.isEmpty { flush(); continue }
            if subject.isEmpty && blocks.isEmpty && paragraph.isEmpty && items.isEmpty && line.hasPrefix("# ") {
                subject = String(LetterBlocks.trimSpaces(line.dropFirst(2)))
            } else if line.hasPrefix("## ") {
                flush()
                blocks.append(.heading(String(LetterBlocks.trimSpaces(line.dropFirst(3)))))
            } else if line.hasPrefix("- ") {
                if !paragraph.isEmpty { flush() }
                items.append(String(LetterBlocks.trimSpaces(line.dropFirst(2))))
            } else if !items.isEmpty {
                // A continuation line of the last item.
                items[items.count - 1] += " " + line
            } else {
                paragraph.append(line)
            }
        }
        flush()
    }

    /// The blocks as the HTML layout places them (`{{{blocksHTML}}}`): an `<h2>`, `<p>` or
    /// `<ul>` of `<li>` each, one to a line, the text escaped as the layout's values are.
    /// Written here rather than as a loop in the layout: swift-mustache's lookups made
    /// that loop a third of the time a letter took to render.
    func html(escape: (String) -> String) -> String {
        var out = ""
        for block in blocks {
            if !out.isEmpty { out += "\n" }
            switch block {
            case .heading(let text): out += "<h2>" + escape(text) + "</h2>"
            case .paragraph(let text): out += "<p>" + escape(text) + "</p>"
            case .list(let items):
                out += "<ul>\n"
                for item in items { out += "<li>" + escape(item) + "</li>\n" }
                out += "</ul>"
            }
        }
        return out
    }

    /// The blocks as the text layout places them (`{{{blocksText}}}`): headings as they
    /// are, paragraphs wrapped to `width`, items as `- ` with a hanging indent, a blank
    /// line after each block.
    func text(width: Int) -> String {
        var out = ""
        for block in blocks {
            switch block {
            case .heading(let text): out += text + "\n\n"
            case .paragraph(let text): out += LetterBlocks.wrap(text, width: width) + "\n\n"
            case .list(let items):
                for item in items { out += "- " + LetterBlocks.wrap(item, width: width - 2, hanging: "  ") + "\n" }
                out += "\n"
            }
        }
        return out
    }

    /// Greedy word wrap; words longer than the width stay whole. Works on the
    /// bytes and counts a word's Unicode scalars (never fewer than its characters).
    static func wrap(_ text: String, width: Int, hanging: String = "") -> String {
        let u = Array(text.utf8), indent = Array(hanging.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(u.count + u.count / width * (1 + indent.count))
        var length = 0
        var i = 0
        while i < u.count {
            if u[i] == 32 { i += 1; continue }
            var end = i
            var count = 0
            while end < u.count, u[end] != 32 {
                if u[end] & 0xC0 != 0x80 { count += 1 }  // a scalar starts here
                end += 1
            }
            if length == 0 { length = count }
            else if length + 1 + count <= width { out.append(32); length += 1 + count }
            else { out.append(10); out += indent; length = count }
            out += u[i..<end]
            i = end
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Trailing spaces off every line, no more than one blank line in a row, one final newline.
    static func tidy(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var blank = true  // at the start, as after a blank line: leading blank lines go
        var pendingBlank = false
        for line in lines(text) {
            let trimmed = trimSpaces(line, leading: false)
            if trimmed.isEmpty {
                if !blank { pendingBlank = true }
                blank = true
                continue
            }
            if pendingBlank { out += "\n" }
            out += trimmed
            out += "\n"
            blank = false
            pendingBlank = false
        }
        return out.isEmpty ? "\n" : out
    }

    /// The lines of `text`, split on its bytes (Character-wise splitting costs a third of a letter).
    static func lines(_ text: String) -> [Substring] {
        var out: [Substring] = []
        let u = text.utf8
        var start = u.startIndex
        var i = u.startIndex
        while i < u.endIndex {
            if u[i] == 10 {
                out.append(text[start..<i])
                start = u.index(after: i)
            }
            i = u.index(after: i)
        }
        out.append(text[start..<u.endIndex])
        return out
    }

    /// Spaces and tabs off the end (and the start), on bytes: letters are ASCII-spaced.
    static func trimSpaces(_ s: Substring, leading: Bool = true) -> Substring {
        let u = s.utf8
        var start = u.startIndex, end = u.endIndex
        func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 13 }
        if leading { while start < end, isSpace(u[start]) { start = u.index(after: start) } }
        while end > start {
            let before = u.index(before: end)
            guard isSpace(u[before]) else { break }
            end = before
        }
        return s[start..<end]
    }
}
