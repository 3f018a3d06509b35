import BarrierCore
import CSV
import Foundation

/// Reads a registry CSV row by row (CSV.swift does the quoting) and checks each
/// row: field rules, in-file duplicates, flags. Invalid rows are recorded in
/// `errors` with their line and column; `next()` returns every row it could read.
///
/// CSV.swift splits the records in a task of its own, so on two cores the
/// splitting, the checking and PostgreSQL's COPY run side by side.
final class RowParser {
    private enum Batch: Sendable {
        case records([[String]])
        case end(unreadable: Bool)
    }

    private var batches: AsyncStream<Batch>.Iterator
    private let reading: Task<Void, Never>
    private let permits: AsyncStream<Void>.Continuation
    /// Batches of 256 records the splitter may have ready before the checker takes them.
    static let batchesAhead = 64
    private var pending: [[String]] = []
    private var pendingIndex = 0
    private let header: [String]
    private let index: [String: Int]
    private let knownSectors: Set<String>
    private let progress: (@Sendable (String, Int) -> Void)?
    private(set) var errors: [FieldError] = []
    var flags: [ImportFlag] = []
    private(set) var count = 0
    private var line: Int
    private var registrations: [String: Int] = [:]
    private var vats: [String: Int] = [:]
    private var names: [String: Int] = [:]
    private var ids: [UUID: Int] = [:]
    private let decoder = JSONDecoder()
    private var finished = false

    /// Checks the header; a bad one throws `StoreError.invalid` before any row is read.
    init(_ text: String, knownSectors: Set<String>, progress: (@Sendable (String, Int) -> Void)?,
         batchesAhead: Int = RowParser.batchesAhead) throws {
        let reader: CSVReader
        do {
            reader = try CSVReader(string: text, hasHeaderRow: true)
        } catch {
            throw StoreError.invalid([FieldError(field: "file", message: "is not a CSV file with a header row", line: 1)])
        }
        header = (reader.headerRow ?? []).map { $0.trimmingWhitespace }
        var errors: [FieldError] = []
        var seenColumns: Set<String> = []
        for name in header {
            if !FacilitatorCSV.columns.contains(name) {
                errors.append(FieldError(field: name, message: "is not a column; use \(FacilitatorCSV.columns.joined(separator: ", "))", line: 1))
            } else if !seenColumns.insert(name).inserted {
                errors.append(FieldError(field: name, message: "appears twice in the header", line: 1))
            }
        }
        for name in FacilitatorCSV.requiredColumns.sorted() where !seenColumns.contains(name) {
            errors.append(FieldError(field: name, message: "column is missing", line: 1))
        }
        if !errors.isEmpty { throw StoreError.invalid(errors) }
        index = Dictionary(header.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        line = 2 + (reader.headerRow ?? []).reduce(0) { $0 + $1.utf8.count { $0 == 10 } }
        self.knownSectors = knownSectors
        self.progress = progress
        let (stream, continuation) = AsyncStream<Batch>.makeStream()
        batches = stream.makeAsyncIterator()
        // The splitter may run only so far ahead: it takes a permit for each
        // batch and the checker gives one back for each batch it takes, so a
        // large file is not held as split records all at once (a 400 MB file
        // peaked at 1.8 GB when it could read to the end).
        let (permitStream, permits) = AsyncStream<Void>.makeStream()
        for _ in 0..<max(1, batchesAhead) { permits.yield() }
        self.permits = permits
        reading = Task.detached {
            guard let records = try? CSVReader(string: text, hasHeaderRow: true) else { return continuation.finish() }
            var permit = permitStream.makeAsyncIterator()
            var batch: [[String]] = []
            batch.reserveCapacity(256)
            while let fields = records.next(), !Task.isCancelled {
                batch.append(fields)
                if batch.count == 256 {
                    guard await permit.next() != nil else { return continuation.finish() }
                    continuation.yield(.records(batch))
                    batch.removeAll(keepingCapacity: true)
                }
            }
            if !batch.isEmpty { continuation.yield(.records(batch)) }
            continuation.yield(.end(unreadable: records.error != nil))
            continuation.finish()
        }
    }

    deinit {
        reading.cancel()
        permits.finish()
    }

    /// The next record as split by CSV.swift, nil at the end.
    private func nextRecord() async -> [String]? {
        while pendingIndex == pending.count {
            switch await batches.next() {
            case .records(let records):
                pending = records
                pendingIndex = 0
                permits.yield()
            case .end(let unreadable):
                if unreadable {
                    errors.append(FieldError(field: "file", message: "is not valid CSV (unreadable after line \(line))", line: line))
                }
                return nil
            case nil:
                return nil
            }
        }
        defer { pendingIndex += 1 }
        return pending[pendingIndex]
    }

    /// The next row, checked; nil at the end of the file.
    func next() async -> FacilitatorTransfer.Row? {
        guard !finished else { return nil }
        while var fields = await nextRecord() {
            let thisLine = line
            line += 1 + fields.reduce(0) { $0 + $1.utf8.count { $0 == 10 } }
            if fields.count == 1 && fields[0].isEmpty { continue }
            func value(_ column: String) -> String? {
                guard let i = index[column] else { return nil }
                return i < fields.count ? fields[i] : ""
            }
            func fail(_ column: String, _ message: String) {
                errors.append(FieldError(field: column, message: message, line: thisLine))
            }
            if fields.count != header.count {
                fail("row", "has \(fields.count) fields, the header has \(header.count)")
                continue
            }
            let controls = fields.indices.filter { TextInput.hasControlCharacters(fields[$0]) }
            if !controls.isEmpty {
                for i in controls { fail(header[i], TextInput.controlMessage) }
                continue
            }
            fields = fields.map { TextInput.normalised(CSVCell.restored($0)) }
            var patch = FacilitatorPatch()
            patch.legalName = value("legal_name")
            patch.sector = value("sector")
            patch.country = value("country")
            if let raw = value("aliases") { patch.aliases = FacilitatorTransfer.split(raw) }
            func words<T: NamedVocabulary>(_ column: String, as type: T.Type) -> [T]? {
                guard let raw = value(column) else { return nil }
                return FacilitatorTransfer.split(raw).compactMap { word in
                    if let v = T(rawValue: word) { return v }
                    fail(column, T.notOne(word))
                    return nil
                }
            }
            patch.stages = words("stages", as: Stage.self)
            patch.markets = words("markets", as: Market.self)
            patch.registrationNumber = value("registration_number").map { $0 }
            patch.vatNumber = value("vat_number").map { $0 }
            patch.street = value("street").map { $0 }
            patch.postalCode = value("postal_code").map { $0 }
            patch.city = value("city").map { $0 }
            patch.website = value("website").map { $0 }
            patch.email = value("email").map { $0 }
            patch.phone = value("phone").map { $0 }
            patch.notes = value("notes")
            if let raw = value("status"), !raw.trimmingWhitespace.isEmpty {
                if let status = FacilitatorStatus(rawValue: raw.trimmingWhitespace) { patch.status = status } else {
                    fail("status", FacilitatorStatus.notOne(raw))
                }
            }
            if let raw = value("contacts"), !raw.trimmingWhitespace.isEmpty {
                if let contacts = try? decoder.decode([ContactPoint].self, from: Data(raw.utf8)) {
                    patch.contacts = contacts
                } else {
                    fail("contacts", "must be a JSON array of {\"name\", \"role\", \"email\", \"phone\"}")
                }
            }
            var id = UUID()
            if let raw = value("id")?.trimmingWhitespace, !raw.isEmpty {
                if let parsed = UUID(uuidString: raw) {
                    id = parsed
                    if let earlier = ids[parsed] { fail("id", "\(raw) is already used on line \(earlier)") }
                    ids[parsed] = thisLine
                } else {
                    fail("id", "'\(raw)' is not a UUID")
                }
            }
            let draft = patch.applied(to: FacilitatorPatch.blank).normalised()
            let alreadyNamed = Set(errors.reversed().prefix { $0.line == thisLine }.map(\.field))
            for problem in draft.problems(knownSectors: knownSectors) {
                let column = problem.field.split(separator: "[").first.map(String.init) ?? problem.field
                if !alreadyNamed.contains(column) { fail(column, problem.message) }
            }
            if let reg = draft.registrationNumber {
                let key = draft.country + " " + FacilitatorDraft.registrationKey(reg)
                if let earlier = registrations[key] {
                    fail("registration_number", "\(reg) (\(draft.country)) is already on line \(earlier)")
                } else {
                    registrations[key] = thisLine
                }
            }
            if let vat = draft.vatNumber {
                if let earlier = vats[vat] {
                    flags.append(ImportFlag(line: thisLine, field: "vat_number", message: "same VAT number as line \(earlier)"))
                } else {
                    vats[vat] = thisLine
                }
            }
            let nameKey = draft.legalName.lowercased() + "|" + draft.country
            if let earlier = names[nameKey] {
                flags.append(ImportFlag(line: thisLine, field: "legal_name", message: "same name and country as line \(earlier)"))
            } else {
                names[nameKey] = thisLine
            }
            count += 1
            if count % 100_000 == 0 { progress?("checked", count) }
            return FacilitatorTransfer.Row(line: thisLine, id: id, draft: draft)
        }
        finished = true
        progress?("checked", count)
        return nil
    }
}
