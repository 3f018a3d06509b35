import BarrierCore
import BarrierLetters
import Crypto
import Foundation
import PostgresNIO

/// Outreach letters: drafts, approval (which freezes the text under a gapless
/// reference number), the files of an approved letter, and its tracking.
/// Every change is one transaction with its audit event.
public struct LetterStore: Sendable {
    let db: Database
    public let renderer: LetterRenderer
    public let pdfs: PDFRenderer
    /// Drafts' PDFs as last printed, by letter and HTML (a draft prints once per version).
    public let draftPDFs: DraftPDFCache

    public init(_ db: Database, renderer: LetterRenderer, pdfs: PDFRenderer, draftPDFs: DraftPDFCache = DraftPDFCache()) {
        self.db = db
        self.renderer = renderer
        self.pdfs = pdfs
        self.draftPDFs = draftPDFs
    }

    public struct Record: Sendable {
        public var id: UUID
        public var json: String
        public var version: Int
        /// `OUT-2026-000123` once approved.
        public var reference: String?
    }

    /// What an officer asks for when drafting a letter.
    public struct DraftRequest: Sendable {
        public var facilitatorID: UUID
        public var kind: LetterKind
        public var language: LetterLanguage?
        public var responseDays: Int?
        public var deadline: String?
        public var reminderOf: UUID?

        public init(facilitatorID: UUID, kind: LetterKind, language: LetterLanguage? = nil, responseDays: Int? = nil,
                    deadline: String? = nil, reminderOf: UUID? = nil) {
            self.facilitatorID = facilitatorID; self.kind = kind; self.language = language
            self.responseDays = responseDays; self.deadline = deadline; self.reminderOf = reminderOf
        }
    }

    // MARK: Reading

    public func get(_ id: UUID) async throws -> Record {
        let rows = try await db.query(
            "SELECT document::text, version, document->>'reference' FROM letter_documents WHERE id = \(id)")
        for try await (json, version, reference) in rows.decode((String, Int, String?).self) {
            return Record(id: id, json: json, version: version, reference: reference)
        }
        throw StoreError.notFound(entity: "letter", id: id.uuidString.lowercased())
    }

    /// The supplier's answer as it was stored, if one was.
    public func responseDocument(_ id: UUID) async throws -> UploadedDocument? {
        _ = try await get(id)
        let rows = try await db.query(
            """
            SELECT response_document_name, response_document_type, response_document FROM letters
            WHERE id = \(id) AND response_document IS NOT NULL
            """)
        for try await (name, type, bytes) in rows.decode((String, String, Data).self) {
            return UploadedDocument(name: name, contentType: type, bytes: bytes)
        }
        return nil
    }

    /// Letters, newest first, by supplier, status, campaign or overdue; at most `limit`.
    public func list(facilitatorID: UUID? = nil, status: LetterStatus? = nil, campaignID: UUID? = nil, overdue: Bool = false,
                     emailState: EmailState? = nil, limit: Int = 100) async throws -> [String] {
        var sql = "SELECT d.document::text FROM letter_documents d JOIN letters l ON l.id = d.id WHERE true"
        var binds = PostgresBindings()
        if let facilitatorID { binds.append(facilitatorID); sql += " AND l.facilitator_id = $\(binds.count)" }
        if let status { binds.append(status.rawValue); sql += " AND l.status = $\(binds.count)" }
        if let campaignID { binds.append(campaignID); sql += " AND l.campaign_id = $\(binds.count)" }
        if overdue { sql += " AND l.status IN ('sent', 'delivered') AND l.response_deadline < current_date" }
        if let emailState {
            binds.append(emailState.rawValue)
            sql += " AND EXISTS (SELECT 1 FROM letter_emails e WHERE e.letter_id = l.id AND e.state = $\(binds.count))"
        }
        binds.append(limit)
        sql += overdue ? " ORDER BY l.response_deadline, l.id LIMIT $\(binds.count)" : " ORDER BY l.created_at DESC, l.id LIMIT $\(binds.count)"
        var items: [String] = []
        for try await json in try await db.query(PostgresQuery(unsafeSQL: sql, binds: binds)).decode(String.self) {
            items.append(json)
        }
        return items
    }

    /// Every letter to one supplier with its events, oldest first: the supplier's outreach history.
    public func timeline(facilitatorID: UUID) async throws -> String {
        _ = try await FacilitatorStore(db).get(facilitatorID)
        let rows = try await db.query(
            """
            SELECT coalesce(json_agg(d.document ORDER BY l.created_at, l.id), '[]'::json)::text
            FROM letter_documents d JOIN letters l ON l.id = d.id WHERE l.facilitator_id = \(facilitatorID)
            """)
        for try await json in rows.decode(String.self) { return json }
        return "[]"
    }

    /// The stored files of an approved letter, or a preview of a draft.
    public enum Format: String, Sendable, CaseIterable {
        case html, txt, pdf, eml
    }

    public func file(_ id: UUID, format: Format) async throws -> Data {
        let letter = try await frozen(id)
        if letter == nil && format == .eml { throw StoreError.conflict("a draft has no e-mail; approve the letter first") }
        guard let letter else {
            // A draft: render it as it stands, marked as a draft.
            let preview = try await preview(id)
            switch format {
            case .html: return Data(preview.html.utf8)
            case .txt: return Data(preview.text.utf8)
            case .pdf: return try await draftPDF(id, html: preview.html)
            case .eml: throw StoreError.conflict("a draft has no e-mail; approve the letter first")
            }
        }
        switch format {
        case .html: return Data(letter.html.utf8)
        case .txt: return Data(letter.text.utf8)
        case .pdf: return try await pdf(of: id)
        case .eml: return try await email(id).rendered()
        }
    }

    struct Frozen {
        var reference: String
        var html: String
        var text: String
        var snapshot: String
        var approvedAt: Date
        var subject: String
    }

    func frozen(_ id: UUID) async throws -> Frozen? {
        let rows = try await db.query(
            """
            SELECT l.status, l.reference, l.subject, l.html, l.text_body, l.snapshot::text, l.approved_at
            FROM letters l WHERE l.id = \(id)
            """)
        for try await (status, reference, subject, html, text, snapshot, approvedAt)
            in rows.decode((String, String?, String?, String?, String?, String?, Date?).self) {
            guard status != LetterStatus.draft.rawValue, let reference, let subject, let html, let text, let snapshot, let approvedAt
            else { return nil }
            return Frozen(reference: reference, html: html, text: text, snapshot: snapshot, approvedAt: approvedAt, subject: subject)
        }
        throw StoreError.notFound(entity: "letter", id: id.uuidString.lowercased())
    }

    /// The approved letter's PDF; printed now and stored once if no worker has done it yet.
    public func pdf(of id: UUID) async throws -> Data {
        let rows = try await db.query("SELECT pdf, html FROM letters WHERE id = \(id) AND status <> 'draft'")
        for try await (pdf, html) in rows.decode((Data?, String?).self) {
            if let pdf { return pdf }
            guard let html else { break }
            // Printed once even when several ask at once; the database keeps it, not the cache.
            let pdfs = self.pdfs
            let printed = try await draftPDFs.pdf(for: "approved \(id)", keep: false) { try await pdfs.render(html: html) }
            return try await storePDF(id, printed)
        }
        throw StoreError.notFound(entity: "approved letter", id: id.uuidString.lowercased())
    }

    /// A draft's PDF as it reads now: printed once per letter and exact HTML, which
    /// holds the template and layout versions, the letterhead, the supplier's
    /// address and the date, so any change prints anew and nothing stale is served.
    /// The caller read `html` through the agency boundary, so another agency
    /// never reaches the key.
    func draftPDF(_ id: UUID, html: String) async throws -> Data {
        let key = "draft \(id.uuidString.lowercased()) " + Data(SHA256.hash(data: Data(html.utf8))).hex
        let pdfs = self.pdfs
        return try await draftPDFs.pdf(for: key) { try await pdfs.render(html: html) }
    }

    /// Who prints a PDF no approval or campaign job printed: the first download or e-mail that needs it.
    public static let pdfActor = Actor(userID: nil, agencyID: nil, label: "system:pdf")

    /// Stores a PDF unless one is there already; returns the one that is stored.
    /// Storing it freezes the printed bytes for good, so the same transaction
    /// audits them (`letter.pdf_frozen`: their SHA-256 and length).
    @discardableResult
    func storePDF(_ id: UUID, _ pdf: Data, actor: Actor = LetterStore.pdfActor) async throws -> Data {
        let hash = Data(SHA256.hash(data: pdf))
        let stored = try await db.transaction { conn in
            let rows = try await conn.query(
                "UPDATE letters SET pdf = \(pdf), pdf_sha256 = \(hash) WHERE id = \(id) AND pdf IS NULL RETURNING reference",
                logger: db.logger)
            var reference: String?? = nil
            for try await r in rows.decode(String?.self) { reference = .some(r) }
            guard let reference else { return false }
            try await AuditLog.append(
                on: conn, actor: actor, action: "letter.pdf_frozen", entityType: "letter", entityID: id.uuidString.lowercased(),
                before: nil,
                after: "{\"reference\": \(reference.map(jsonString) ?? "null"), \"pdf_sha256\": \"\(hash.hex)\", \"pdf_bytes\": \(pdf.count)}",
                logger: db.logger)
            return true
        }
        if stored { return pdf }
        // Someone printed it first: theirs is the one kept.
        for try await earlier in try await db.query("SELECT pdf FROM letters WHERE id = \(id)").decode(Data?.self) {
            if let earlier { return earlier }
        }
        return pdf
    }

    /// The approved letter as an e-mail to the supplier (text body, PDF attached).
    public func email(_ id: UUID, to recipient: String? = nil) async throws -> EmailMessage {
        guard let letter = try await frozen(id) else { throw StoreError.conflict("a draft has no e-mail; approve the letter first") }
        let pdf = try await pdf(of: id)
        let s = try LetterSnapshot.decode(letter.snapshot)
        let to = (recipient ?? s.supplier.email).map { EmailMessage.Address(name: s.supplier.name, email: $0) }
        return EmailMessage(
            from: .init(name: s.agency.name, email: s.agency.email ?? "noreply@barrier.invalid"), to: to,
            subject: "\(letter.reference) – \(letter.subject)", date: letter.approvedAt,
            messageID: EmailMessage.messageID(reference: letter.reference, letterID: id.uuidString.lowercased(), senderEmail: s.agency.email),
            text: letter.text, pdf: pdf, pdfName: "\(letter.reference).pdf")
    }
}

extension LetterStore {
    /// A store with the templates shipped in `templates/letters` of the checkout (or BARRIER_HOME).
    public static func shipped(_ db: Database, pdfWorkers: Int) throws -> LetterStore {
        let directory = try ProjectFiles.directory("templates/letters", containing: "layout.html.mustache")
        return LetterStore(db, renderer: try LetterRenderer(directory: directory), pdfs: PDFRenderer(workers: pdfWorkers))
    }
}
