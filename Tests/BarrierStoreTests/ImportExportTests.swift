import BarrierCore
import BarrierTestSupport
import Crypto
import Foundation
import NIOCore
import PostgresNIO
import Testing
@testable import BarrierStore

@Suite("CSV import and export")
struct ImportExportTests {
    static let header = FacilitatorCSV.columns.filter { $0 != "natural_person" }.joined(separator: ",")

    @Test func anInvalidRowMeansNothingIsWrittenAndEveryBadLineIsNamed() async throws {
        try await TestDatabase.withFresh { db in
            // setup: line 2 good, line 3 bad sector and e-mail, line 4 spans two lines (quoted newline), line 6 bad country,
            // line 7 repeats line 2's registration number
            let csv = """
                \(Self.header)
                ,Donau Kurier GmbH,,courier,shipping,drugs,AT,FN 123456a,,,,,,,,,,
                ,Bad Sector Ltd,,bicycles,shipping,,IE,,,,,,,nope,,,,
                ,Multi Line BV,,hosting_provider,running_marketplace,,NL,,,,,,,,,,"first line
                second line",
                ,No Country SARL,,courier,shipping,,ZZ,,,,,,,,,,,
                ,Donau Kurier Zwei GmbH,,courier,shipping,,AT,FN 123456A,,,,,,,,,,
                """
            // act
            var thrown: [FieldError] = []
            do {
                _ = try await FacilitatorTransfer(db).importCSV(Data(csv.utf8), actor: Fixtures.system)
            } catch StoreError.invalid(let errors) {
                thrown = errors
            }
            // check
            #expect(Set(thrown.compactMap(\.line)) == [3, 6, 7])
            #expect(thrown.contains { $0.line == 3 && $0.field == "sector" })
            #expect(thrown.contains { $0.line == 3 && $0.field == "email" })
            #expect(thrown.contains { $0.line == 6 && $0.field == "country" })
            #expect(thrown.contains { $0.line == 7 && $0.field == "registration_number" && $0.message.contains("line 2") })
            #expect(try await TestDatabase.scalar(db, "SELECT count(*)::text FROM facilitators") == "0")
            #expect(try await TestDatabase.scalar(db, "SELECT count(*)::text FROM audit_events") == "0")
        }
    }

    @Test func aBadHeaderIsRefusedBeforeAnyRow() async throws {
        try await TestDatabase.withFresh { db in
            let csv = "legal_name,colour,country\nA,red,DE\n"
            do {
                _ = try await FacilitatorTransfer(db).importCSV(Data(csv.utf8), actor: Fixtures.system)
                Issue.record("a file with an unknown column was imported")
            } catch StoreError.invalid(let errors) {
                #expect(errors.allSatisfy { $0.line == 1 })
                #expect(Set(errors.map(\.field)) == ["colour", "sector", "stages"])
            }
        }
    }

    @Test func clashesWithTheRegistryAreErrorsAndSimilarNamesAreFlagged() async throws {
        try await TestDatabase.withFresh { db in
            // setup
            _ = try await FacilitatorStore(db).create(Fixtures.patch("Alpenland Paketdienst GmbH", country: "AT", registration: "FN 555555x"),
                                                      allowDuplicates: false, actor: Fixtures.system)
            let clash = "\(Self.header)\n,Anderer Name GmbH,,courier,shipping,,AT,FN 555555X,,,,,,,,,,\n"
            let similar = "\(Self.header)\n,Alpenland Paket Dienst GmbH,,courier,shipping,,AT,,,,,,,,,,,\n"
            // act & check
            do {
                _ = try await FacilitatorTransfer(db).importCSV(Data(clash.utf8), actor: Fixtures.system)
                Issue.record("an existing registration number was imported again")
            } catch StoreError.invalid(let errors) {
                #expect(errors.map(\.line) == [2])
                #expect(errors.first?.field == "registration_number")
            }
            let result = try await FacilitatorTransfer(db).importCSV(Data(similar.utf8), actor: Fixtures.system)
            #expect(result.created == 1)
            #expect(result.flags.map(\.line) == [2])
            #expect(result.flags.first?.existingID != nil)
        }
    }

    @Test func exportImportExportGivesTheSameFile() async throws {
        // setup: the demo registry, imported and audited
        let demo = try Data(contentsOf: URL(fileURLWithPath: try ProjectFiles.directory("seed", containing: "demo-facilitators.csv") + "/demo-facilitators.csv"))
        let first: Data = try await TestDatabase.withFresh { db in
            let result = try await FacilitatorTransfer(db).importCSV(demo, actor: Fixtures.system)
            #expect(result.created >= 55)
            let audit = try await TestDatabase.scalar(db, "SELECT after->>'rows' FROM audit_events WHERE action = 'facilitator.import'")
            #expect(audit == String(result.created))
            // The ids it created are rows under the event, not a list in its JSON.
            let ids = try await TestDatabase.scalar(db, """
                SELECT count(*)::text FROM import_rows r JOIN audit_events e ON e.seq = r.audit_seq JOIN facilitators f ON f.id = r.facilitator_id
                WHERE e.action = 'facilitator.import' AND e.after->>'file_sha256' = '\(result.fileSHA256)'
                """)
            #expect(ids == String(result.created))
            #expect(result.fileSHA256 == SHA256.hash(data: demo).map { String(format: "%02x", $0) }.joined())
            #expect(try await TestDatabase.scalar(db, "SELECT (after ? 'created_ids')::text FROM audit_events WHERE action = 'facilitator.import'") == "false")
            #expect(try await TestDatabase.scalar(db, "SELECT count(*)::text FROM contact_points") != "0")
            return try await export(db)
        }
        // act: into an empty registry, and out again
        let second: Data = try await TestDatabase.withFresh { db in
            _ = try await FacilitatorTransfer(db).importCSV(first, actor: Fixtures.system)
            return try await export(db)
        }
        // check
        #expect(first.count > 1000)
        #expect(first == second)
    }

    @Test func aLargeImportLoadsContactPointsWithTheirKeyCheckedAndKept() async throws {
        try await TestDatabase.withFresh { db in
            // setup: 5,200 suppliers with two contact points each, past the size where the key is dropped for the load
            var lines = [Self.header]
            for n in 0..<5_200 {
                let contacts = #"[{""name"":""Ana Ruiz"",""role"":""Compliance"",""email"":""ana@example.es""},{""name"":""Luis Gil""}]"#
                lines.append(",Transportes Ruiz \(n) SL,,courier,shipping,drugs,ES,,,,,,,,,,,\"\(contacts)\"")
            }
            // act
            let result = try await FacilitatorTransfer(db).importCSV(Data(lines.joined(separator: "\n").utf8), actor: Fixtures.system)
            // check: every contact point, each supplier's in order, and the foreign key back in place and enforced
            #expect(result.created == 5_200)
            #expect(try await TestDatabase.scalar(db, "SELECT count(*)::text FROM contact_points") == "10400")
            #expect(try await TestDatabase.scalar(db, "SELECT string_agg(name, '|' ORDER BY position) FROM contact_points GROUP BY facilitator_id LIMIT 1") == "Ana Ruiz|Luis Gil")
            #expect(try await TestDatabase.scalar(db, """
                SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'contact_points'::regclass AND contype = 'f'
                """) == "FOREIGN KEY (facilitator_id) REFERENCES facilitators(id)")
            await #expect(throws: PSQLError.self) {
                try await TestDatabase.sql(db, "INSERT INTO contact_points (facilitator_id, position, name) VALUES (gen_random_uuid(), 0, 'Nobody')")
            }
        }
    }

    @Test func aFileRepeatingAnIdOrANumberExactlyIsRefusedWithEveryBadLine() async throws {
        try await TestDatabase.withFresh { db in
            // setup: into an empty registry the rows stream into COPY, where the unique indexes meet
            // line 3's id and line 4's number before the file is read to its end
            let id = UUID().uuidString.lowercased()
            let csv = """
                \(Self.header)
                \(id),Erste Kurier GmbH,,courier,shipping,,DE,HRB 1,,,,,,,,,,
                \(id),Zweite Kurier GmbH,,courier,shipping,,DE,HRB 2,,,,,,,,,,
                ,Dritte Kurier GmbH,,courier,shipping,,DE,HRB 1,,,,,,,,,,
                ,Vierte Kurier GmbH,,bicycles,shipping,,DE,,,,,,,,,,,
                """
            // act
            var thrown: [FieldError] = []
            do {
                _ = try await FacilitatorTransfer(db).importCSV(Data(csv.utf8), actor: Fixtures.system)
                Issue.record("a file with a repeated id was imported")
            } catch StoreError.invalid(let errors) {
                thrown = errors
            }
            // check: every bad line in line order, each naming the line it repeats
            #expect(thrown.map(\.line) == [3, 4, 5])
            #expect(thrown.map(\.field) == ["id", "registration_number", "sector"])
            #expect(thrown.first?.message == "\(id) is already used on line 2")
            #expect(thrown.dropFirst().first?.message == "HRB 1 (DE) is already on line 2")
            #expect(try await TestDatabase.scalar(db, "SELECT count(*)::text FROM facilitators") == "0")
            #expect(try await TestDatabase.scalar(db, "SELECT count(*)::text FROM audit_events") == "0")
        }
    }

    @Test func manyFlaggedRowsAreCountedAllAndTheFirstThousandListed() async throws {
        try await TestDatabase.withFresh { db in
            // setup: 1,201 rows of one name and country, first into an empty registry, then into one that
            // has them all (each row then also looks like a registered supplier)
            let lines = [Self.header] + (0..<1_201).map { _ in ",Gleicher Kurier GmbH,,courier,shipping,,DE,,,,,,,,,,," }
            let file = Data(lines.joined(separator: "\n").utf8)
            // act
            let first = try await FacilitatorTransfer(db).importCSV(file, actor: Fixtures.system)
            let second = try await FacilitatorTransfer(db).importCSV(file, actor: Fixtures.system)
            // check: the first import flags lines 3 to 1,202 against line 2 and lists 1,000 of them
            #expect(first.created == 1_201 && first.flaggedTotal == 1_200)
            #expect(first.flags.count == FacilitatorTransfer.flagLimit)
            #expect(first.flags.first == ImportFlag(line: 3, field: "legal_name", message: "same name and country as line 2"))
            #expect(first.flags.last?.line == 1_002)
            // the second: 1,200 in the file and three registered look-alikes for each of the 1,201 rows,
            // in line order, a line's match within the file first
            #expect(second.created == 1_201 && second.flaggedTotal == 1_200 + 3 * 1_201)
            #expect(second.flags.count == FacilitatorTransfer.flagLimit)
            #expect(second.flags.prefix(5).map(\.line) == [2, 2, 2, 3, 3])
            #expect(second.flags[3].message == "same name and country as line 2")
            #expect(second.flags[4].message.hasPrefix("looks like registered supplier") && second.flags[4].existingID != nil)
            #expect(try await TestDatabase.scalar(db, "SELECT string_agg(after->>'flagged', ',' ORDER BY seq) FROM audit_events WHERE action = 'facilitator.import'") == "1200,4803")
            // every id an import created is a row under its event, the second's read twice with the same ids
            #expect(try await TestDatabase.scalar(db, """
                SELECT string_agg(n::text, ',' ORDER BY audit_seq) FROM (
                    SELECT r.audit_seq, count(f.id) AS n FROM import_rows r JOIN facilitators f ON f.id = r.facilitator_id GROUP BY 1) c
                """) == "1201,1201")
        }
    }

    @Test func theSplitterWaitsForTheChecksAndEveryRowStillComesOutInOrder() async throws {
        // setup: 12 batches of records against 2 permits, so the splitter waits ten times; the file is
        // read in 1 KB chunks, and every seventh row has a quoted field with line breaks, quotes and
        // a multibyte character, so chunks end right beside quoted line breaks
        var lines = [Self.header]
        for n in 0..<3_000 {
            let notes = n % 7 == 0 ? "\"Zeile eins\nZeile \"\"zwei\"\" – Größe\r\nEnde\"" : ""
            var fields = Array(repeating: "", count: FacilitatorCSV.columns.count - 1)
            fields[FacilitatorCSV.columns.firstIndex(of: "legal_name")!] = "Kurier \(n) GmbH"
            fields[FacilitatorCSV.columns.firstIndex(of: "sector")!] = "courier"
            fields[FacilitatorCSV.columns.firstIndex(of: "stages")!] = "shipping"
            fields[FacilitatorCSV.columns.firstIndex(of: "country")!] = "DE"
            fields[FacilitatorCSV.columns.firstIndex(of: "notes")!] = notes
            lines.append(fields.joined(separator: ","))
        }
        let text = lines.joined(separator: "\n")
        let parser = try await FacilitatorTransfer.withTemporaryFile(Data(text.utf8)) { path in
            try RowParser(file: path, knownSectors: ["courier"], progress: nil, batchesAhead: 2, chunkBytes: 1024)
        }
        // act
        var names: [String] = [], notes: [String] = [], lineNumbers: [Int] = []
        while let row = await parser.next() {
            names.append(row.draft.legalName)
            notes.append(row.draft.notes)
            lineNumbers.append(row.line)
        }
        // check
        #expect(parser.errors.isEmpty)
        #expect(names.count == 3_000 && names.first == "Kurier 0 GmbH" && names.last == "Kurier 2999 GmbH")
        #expect(names == (0..<3_000).map { "Kurier \($0) GmbH" })
        #expect(notes[7] == "Zeile eins\nZeile \"zwei\" – Größe\r\nEnde" && notes[8] == "")
        // Line numbers count the quoted line breaks: row n starts after n rows and 2 extra lines per seventh row before it.
        #expect(lineNumbers[8] == 2 + 8 + 2 * 2)
        #expect(parser.fileSHA256 == SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined())
    }

    @Test func aFileThatIsNotUTF8IsRefusedWithItsLine() async throws {
        var bytes = Data((Self.header + "\n,Kurier A GmbH,,courier,shipping,,DE,,,,,,,,,,,\n").utf8)
        bytes.append(contentsOf: [0x2C, 0x4B, 0xFF, 0xFE, 0x2C])  // ",K\xff\xfe,"
        bytes.append(Data(",courier,shipping,,DE,,,,,,,,,,,\n".utf8))
        let file = bytes
        try await TestDatabase.withFresh { (db: Database) async throws in
            await #expect(throws: StoreError.invalid([FieldError(field: "file", message: "is not UTF-8 text (line 3)", line: 3)])) {
                _ = try await FacilitatorTransfer(db).importCSV(file, actor: Fixtures.system)
            }
            #expect(try await TestDatabase.scalar(db, "SELECT count(*)::text FROM facilitators") == "0")
        }
    }

    func export(_ db: Database) async throws -> Data {
        let collected = Collected()
        _ = try await FacilitatorTransfer(db).exportCSV { data in await collected.append(data) }
        return await collected.data
    }
}

actor Collected {
    var data = Data()
    func append(_ more: Data) { data.append(more) }
}

@Suite("COPY text format")
struct CopyTextTests {
    @Test func arraysAndFieldsAreEscapedForCopy() {
        #expect(CopyText.array(["plain", "with \"quote\"", "back\\slash", ""]) == #"{"plain","with \"quote\"","back\\slash",""}"#)
        var buffer = ByteBuffer()
        CopyText.writeRow(["a\tb", nil, "line\nbreak", "c:\\path"], into: &buffer)
        #expect(String(buffer: buffer) == "a\\tb\t\\N\tline\\nbreak\tc:\\\\path\n")
    }
}

@Suite("CSV cells a spreadsheet would run as formulas")
struct CSVCellTests {
    @Test("a cell starting with = + - @ tab or CR gets a leading quote, a plain signed number does not, and restoring gives the cell back", arguments: [
        ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"), ("+49 40 123456", "'+49 40 123456"), ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"), ("\tlead", "'\tlead"), ("\rlead", "'\rlead"), ("'quoted", "''quoted"), ("'", "''"), ("=12", "'=12"),
        ("-12", "-12"), ("+3.5", "+3.5"), ("-", "'-"), ("-1.", "'-1."), ("- 1", "'- 1"), ("Kurier GmbH", "Kurier GmbH"), ("", ""), ("a=b", "a=b"),
    ])
    func neutralised(_ cell: String, _ written: String) {
        #expect(CSVCell.neutralised(cell) == written)
        #expect(CSVCell.restored(CSVCell.neutralised(cell)) == cell)
    }

    @Test("the registry's export neutralises formulas and imports back unchanged")
    func roundTrip() async throws {
        try await TestDatabase.withFresh { db in
            var patch = Fixtures.patch("=Formel Kurier GmbH", country: "DE")
            patch.phone = .some("+49 40 123456")
            patch.notes = .some("'quoted note")
            _ = try await FacilitatorStore(db).create(patch, allowDuplicates: true, actor: Fixtures.system)
            var first = Data()
            _ = try await FacilitatorTransfer(db).exportCSV { first.append($0) }
            let text = String(decoding: first, as: UTF8.self)
            #expect(text.contains("'=Formel Kurier GmbH") && text.contains("'+49 40 123456") && text.contains("''quoted note"))
            try await TestDatabase.sql(db, "TRUNCATE facilitators CASCADE")
            _ = try await FacilitatorTransfer(db).importCSV(first, actor: Fixtures.system)
            #expect(try await TestDatabase.scalar(db, "SELECT legal_name || '|' || phone || '|' || notes FROM facilitators")
                    == "=Formel Kurier GmbH|+49 40 123456|'quoted note")
            var second = Data()
            _ = try await FacilitatorTransfer(db).exportCSV { second.append($0) }
            #expect(second == first)
        }
    }
}

@Suite("The same registration number, however it is spaced or punctuated")
struct RegistrationKeyTests {
    @Test("the key keeps letters and digits", arguments: [("HRB 12345", "HRB12345"), ("hrb-12.345", "HRB12345"), ("FN 123456a", "FN123456A"),
                                                          ("B/1 2", "B12"), ("0123", "0123")])
    func key(_ number: String, _ key: String) {
        #expect(FacilitatorDraft.registrationKey(number) == key)
    }

    @Test("registering, importing and a file's own lines: a number spelled otherwise is the same number in the same country")
    func sameNumber() async throws {
        try await TestDatabase.withFresh { db in
            let store = FacilitatorStore(db)
            _ = try await store.create(Fixtures.patch("Hanse Kurier GmbH", country: "DE", registration: "HRB 12345"), allowDuplicates: true, actor: Fixtures.system)
            do {
                _ = try await store.create(Fixtures.patch("Andere Spedition GmbH", country: "DE", registration: "HRB-12345"), allowDuplicates: true,
                                           actor: Fixtures.system)
                Issue.record("HRB-12345 was registered beside HRB 12345")
            } catch StoreError.duplicates(let candidates, let overridable) {
                #expect(!overridable && candidates.first?.matchedField == "registration_number")
            }
            // In another country the same letters are another register's number.
            _ = try await store.create(Fixtures.patch("Hanse Kurier AT", country: "AT", registration: "HRB12345"), allowDuplicates: true, actor: Fixtures.system)
            let header = FacilitatorCSV.columns.filter { $0 != "natural_person" }.joined(separator: ",")
            let csv = "\(header)\n,Noch Ein Kurier GmbH,,courier,shipping,,DE,HRB12345,,,,,,,,,,\n,Zwei GmbH,,courier,shipping,,NL,KVK 1,,,,,,,,,,\n,Drei BV,,courier,shipping,,NL,KVK-1,,,,,,,,,,\n"
            do {
                _ = try await FacilitatorTransfer(db).importCSV(Data(csv.utf8), actor: Fixtures.system)
                Issue.record("the file was imported")
            } catch StoreError.invalid(let errors) {
                #expect(Set(errors.compactMap(\.line)) == [2, 4])
                #expect(errors.allSatisfy { $0.field == "registration_number" })
            }
        }
    }
}
