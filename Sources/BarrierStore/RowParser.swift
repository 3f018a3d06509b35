import BarrierCore
import CSV
import Crypto
import Foundation

/// Reads a registry CSV row by row (CSV.swift does the quoting) and checks each
/// row's fields. Invalid rows are recorded in `errors` with their line and
/// column; `next()` returns every row it could read. What the in-file checks
/// need of each row (its registration number, VAT number, name and id) goes to
/// `keys`, a file that PostgreSQL reads at the end, not to a map in memory.
///
/// CSV.swift splits the records in a task of its own, so on two cores the
/// splitting, the checking and PostgreSQL's COPY run side by side.
final class RowParser {
    private enum Batch: Sendable {
        case records([[String]])
        case end(unreadable: Bool, notUTF8: Int?)
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
    private(set) var count = 0
    private var line: Int
    private let idBase: UUID
    /// One row per checked row: line, id, the id as given, registration key and
    /// label, VAT number, name key (`FacilitatorTransfer.keyColumns`); nil when
    /// the reading only writes.
    let keys: SpillFile?
    private let decoder = JSONDecoder()
    private var finished = false

    /// The file's SHA-256 (hex), known once the last record was read.
    var fileSHA256: String { digest.value ?? "" }
    private let digest = DigestBox()

    /// Checks the header; a bad one throws `StoreError.invalid` before any row is read.
    /// The file is read in chunks of `chunkBytes` cut after a record (never inside a
    /// quoted field), each split by CSV.swift on its own: memory holds a few chunks,
    /// not the file.
    /// A row without an id gets `generatedID(base: idBase, line:)`, so two
    /// readings of a file with the same base give its rows the same ids.
    init(file path: String, knownSectors: Set<String>, idBase: UUID = UUID(), spillKeys: Bool = true,
         progress: (@Sendable (String, Int) -> Void)?,
         batchesAhead: Int = RowParser.batchesAhead, chunkBytes: Int = 4 << 20) throws {
        self.idBase = idBase
        keys = spillKeys ? try SpillFile() : nil
        let chunks = try ChunkReader(path: path, chunkBytes: chunkBytes)
        let first: String
        switch chunks.next() {
        case .text(let text): first = text
        case .end: first = ""
        case .notUTF8(let line): throw StoreError.invalid([FieldError(field: "file", message: "is not UTF-8 text (line \(line))", line: line)])
        }
        let reader: CSVReader
        do {
            reader = try CSVReader(string: first, hasHeaderRow: true)
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
        let headerLine = 2 + (reader.headerRow ?? []).reduce(0) { $0 + $1.utf8.count { $0 == 10 } }
        line = headerLine
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
        let source = UncheckedBox(chunks)
        let digest = self.digest
        reading = Task.detached {
            let chunks = source.value
            var permit = permitStream.makeAsyncIterator()
            var batch: [[String]] = []
            batch.reserveCapacity(256)
            var text: String? = first
            var isFirst = true
            var lines = headerLine
            while let chunk = text, !Task.isCancelled {
                guard let records = try? CSVReader(string: chunk, hasHeaderRow: isFirst) else { break }
                isFirst = false
                while let fields = records.next(), !Task.isCancelled {
                    lines += 1 + fields.reduce(0) { $0 + $1.utf8.count { $0 == 10 } }
                    batch.append(fields)
                    if batch.count == 256 {
                        guard await permit.next() != nil else { return continuation.finish() }
                        continuation.yield(.records(batch))
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if records.error != nil {
                    if !batch.isEmpty { continuation.yield(.records(batch)) }
                    continuation.yield(.end(unreadable: true, notUTF8: nil))
                    return continuation.finish()
                }
                switch chunks.next() {
                case .text(let next): text = next
                case .end: text = nil
                case .notUTF8(let line):
                    if !batch.isEmpty { continuation.yield(.records(batch)) }
                    continuation.yield(.end(unreadable: false, notUTF8: line))
                    return continuation.finish()
                }
            }
            if !batch.isEmpty { continuation.yield(.records(batch)) }
            digest.value = chunks.sha256
            continuation.yield(.end(unreadable: false, notUTF8: nil))
            continuation.finish()
        }
    }

    /// `base` with `line` in its last six bytes: unique per line, version and variant kept.
    static func generatedID(base: UUID, line: Int) -> UUID {
        var u = base.uuid
        let n = UInt64(truncatingIfNeeded: line)
        u.10 ^= UInt8(truncatingIfNeeded: n >> 40)
        u.11 ^= UInt8(truncatingIfNeeded: n >> 32)
        u.12 ^= UInt8(truncatingIfNeeded: n >> 24)
        u.13 ^= UInt8(truncatingIfNeeded: n >> 16)
        u.14 ^= UInt8(truncatingIfNeeded: n >> 8)
        u.15 ^= UInt8(truncatingIfNeeded: n)
        return UUID(uuid: u)
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
            case .end(let unreadable, let notUTF8):
                if unreadable {
                    errors.append(FieldError(field: "file", message: "is not valid CSV (unreadable after line \(line))", line: line))
                }
                if let notUTF8 {
                    errors.append(FieldError(field: "file", message: "is not UTF-8 text (line \(notUTF8))", line: notUTF8))
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
            if let raw = value("natural_person")?.trimmingWhitespace.lowercased(), !raw.isEmpty {
                switch raw {
                case "true", "yes", "1": patch.naturalPerson = true
                case "false", "no", "0": patch.naturalPerson = false
                default: fail("natural_person", "must be true or false, not '\(raw)'")
                }
            }
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
            var id = Self.generatedID(base: idBase, line: thisLine)
            var givenID: String?
            if let raw = value("id")?.trimmingWhitespace, !raw.isEmpty {
                if let parsed = UUID(uuidString: raw) {
                    id = parsed
                    givenID = raw
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
            do {
                try keys?.write([
                    String(thisLine), id.uuidString.lowercased(), givenID,
                    draft.registrationNumber.map { draft.country + " " + FacilitatorDraft.registrationKey($0) },
                    draft.registrationNumber.map { "\($0) (\(draft.country))" },
                    draft.vatNumber, draft.legalName.lowercased() + "|" + draft.country,
                ])
            } catch {
                fail("file", "could not be checked: the temporary file for its checks could not be written")
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

/// Reads a file in chunks that end after a record: at the last line break outside
/// a quoted field (quotes toggle, so an escaped `""` leaves the state as it was).
/// A line break is ASCII, so a chunk never splits a UTF-8 sequence; each chunk is
/// checked as UTF-8 and hashed on the way.
final class ChunkReader {
    enum Chunk {
        case text(String)
        case end
        /// The line (1-based) with the first byte that is not UTF-8.
        case notUTF8(line: Int)
    }

    private let handle: FileHandle
    private let chunkBytes: Int
    private var carry = Data()
    private var hasher = SHA256()
    private var done = false
    private var linesBefore = 0
    private(set) var sha256: String?

    init(path: String, chunkBytes: Int) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreError.invalid([FieldError(field: "file", message: "cannot be read", line: 1)])
        }
        self.handle = handle
        self.chunkBytes = max(1024, chunkBytes)
    }

    deinit { try? handle.close() }

    func next() -> Chunk {
        while !done {
            let more = (try? handle.read(upToCount: chunkBytes)) ?? nil
            guard let more, !more.isEmpty else {
                done = true
                sha256 = Data(hasher.finalize()).hex
                break
            }
            hasher.update(data: more)
            carry.append(more)
            if let cut = Self.lastRecordEnd(carry) {
                let text = carry.prefix(cut)
                carry = Data(carry.suffix(from: carry.startIndex + cut))
                return checked(text)
            }
        }
        guard !carry.isEmpty else { return .end }
        let rest = carry
        carry = Data()
        return checked(rest)
    }

    private func checked(_ bytes: Data) -> Chunk {
        guard let string = String(validating: bytes, as: UTF8.self) else {
            // The line of the first byte that does not decode.
            var iterator = bytes.makeIterator()
            var parser = Unicode.UTF8.ForwardParser()
            var offset = 0
            decoding: while true {
                switch parser.parseScalar(from: &iterator) {
                case .valid(let scalar): offset += scalar.count
                case .error, .emptyInput: break decoding
                }
            }
            return .notUTF8(line: linesBefore + 1 + bytes.prefix(offset).count { $0 == 10 })
        }
        linesBefore += bytes.count { $0 == 10 }
        return .text(string)
    }

    /// The length up to and including the last line break outside quotes, if any.
    static func lastRecordEnd(_ data: Data) -> Int? {
        var inQuotes = false
        var last: Int?
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            for i in 0..<bytes.count {
                switch bytes[i] {
                case 0x22: inQuotes.toggle()
                case 0x0A where !inQuotes: last = i + 1
                default: break
                }
            }
        }
        return last
    }
}

/// The SHA-256 the splitter finds, read by the checker once the last batch is in.
final class DigestBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: String?
    var value: String? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

/// Hands a value that only one task uses at a time to a detached task.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
