import BarrierCore
import BarrierLetters
import Foundation
import PostgresNIO

extension LetterStore {
    /// The one compile check of a template body an administrator writes: saving
    /// a version (`addTemplateVersion`) and previewing one both go through it, so
    /// what a preview accepts is exactly what a save accepts. A body that does not
    /// compile is refused on the field `body`, naming its line and the reason;
    /// one longer than `LetterTemplate.maxBodyLength` code points is refused first.
    public func checkedTemplateBody(_ body: String) throws -> LetterRenderer.CompiledBody {
        if body.unicodeScalars.count > LetterTemplate.maxBodyLength {
            throw StoreError.invalid([FieldError(field: "body", message: "must be at most \(LetterTemplate.maxBodyLength) characters")])
        }
        do {
            return try renderer.compile(body)
        } catch LetterRenderingError.badTemplate(let problem) {
            throw StoreError.invalid([FieldError(field: "body", message: "line \(problem.line): \(problem.reason)")])
        } catch {
            throw StoreError.invalid([FieldError(field: "body", message: "line 1: \(error)")])
        }
    }

    /// A would-be version of `key` rendered for a real supplier of the registry,
    /// with the task's agency's letterhead and response period, as a draft of
    /// today: nothing is stored, no reference is taken and nothing is audited.
    /// A reminder names a sample original letter, and the letters of a licensing
    /// action a sample action, marked as such, since neither exists yet.
    public func previewTemplateVersion(_ key: TemplateKey, body: String, facilitatorID: UUID, agencyID: UUID) async throws -> RenderedLetter {
        let compiled = try checkedTemplateBody(body)
        let snapshot = try await db.withConnection { conn -> LetterSnapshot in
            guard let supplier = try await loadSupplier(facilitatorID, on: conn) else {
                throw StoreError.notFound(entity: "facilitator", id: facilitatorID.uuidString.lowercased())
            }
            let agency = try await loadAgency(agencyID, on: conn)
            let today = try await Self.today(on: conn, logger: db.logger)
            let deadline: LetterDeadline
            switch LetterDeadline.resolve(today: today, requested: nil, responseDays: agency.responseDays) {
            case .success(let resolved): deadline = resolved
            case .failure(let problem): throw StoreError.invalid([problem])
            }
            return LetterSnapshot(
                kind: key.kind, language: key.language, agency: agency.snapshot, supplier: supplier.snapshot,
                letter: .init(reference: nil, date: today, deadline: deadline.day, responseDays: deadline.days),
                original: key.kind == .reminder ? Self.sampleOriginal(today: today) : nil,
                action: Self.sampleAction(for: key.kind, today: today, responseDays: deadline.days),
                referral: key.kind == .referral ? Self.sampleReferral(today: today) : nil)
        }
        return renderer.render(compiled, snapshot: snapshot)
    }

    static func sampleOriginal(today: String) -> LetterSnapshot.Original {
        LetterSnapshot.Original(reference: "OUT-0000-000000", date: day(today, plus: -30), deadline: day(today, plus: -2))
    }

    static func sampleAction(for kind: LetterKind, today: String, responseDays: Int) -> LetterSnapshot.Action? {
        let sample = "[sample: the legal basis of the action]"
        let facts = "[sample: the facts the action rests on]"
        switch kind {
        case .informCallToAction, .reminder:
            return nil
        case .warning:
            return .init(type: "warning", legalBasis: sample, rationale: facts)
        case .noticeOfIntent:
            return .init(type: "fine", legalBasis: sample, rationale: facts, amountMinor: 500_000, currency: "EUR", responseDays: responseDays)
        case .referral:
            return .init(type: "referral", legalBasis: sample, rationale: facts)
        case .decisionNotice:
            return .init(type: "fine", legalBasis: sample, rationale: facts, amountMinor: 500_000, currency: "EUR",
                         effectiveFrom: today, appealDays: ResponsePeriod.defaultDays, decidedOn: today)
        }
    }

    static func sampleReferral(today: String) -> LetterSnapshot.Referral {
        LetterSnapshot.Referral(body: "[sample: the competent authority]", address: "[sample: its address]",
                                file: [.init(kind: .informCallToAction, reference: "OUT-0000-000000", date: day(today, plus: -90), reachedOn: day(today, plus: -85))])
    }

    /// Who added each of the agency's own versions of `key`: version id → e-mail.
    /// Shipped versions have no author; another agency's are not the caller's to read.
    public func templateAuthors(_ key: TemplateKey) async throws -> [UUID: String] {
        let rows = try await db.query(
            """
            SELECT t.id, u.email FROM letter_templates t JOIN users u ON u.id = t.created_by
            WHERE t.kind = \(key.kind.rawValue) AND t.sector_group = \(key.group?.rawValue ?? "") AND t.language = \(key.language.rawValue)
              AND t.agency_id = current_agency()
            """)
        var authors: [UUID: String] = [:]
        for try await (id, email) in rows.decode((UUID, String).self) { authors[id] = email }
        return authors
    }
}
