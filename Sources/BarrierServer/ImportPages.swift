import BarrierCore
import BarrierStore
import Foundation
import Hummingbird
import NIOCore

/// The registry's CSV file in the browser: upload, a preview of the first rows
/// with every bad line listed by its number and reason, then a confirmation that
/// imports exactly the file that was checked (kept in `pending_imports` between
/// the two steps); and the export. Both call `FacilitatorTransfer`, as the API
/// and the CLI do.
extension PageController {
    func registerImportPages(on router: Router<BarrierRequestContext>) {
        router.get("suppliers/import") { request, _ in
            try await withSession(request, roles: RoleSets.writers) { session in importForm(session: session) }
        }
        router.post("suppliers/import") { request, _ in
            try await withForm(request, roles: RoleSets.writers) { session, form in try await checkImport(form, session: session) }
        }
        router.post("suppliers/import/{id}") { request, context in
            let id = try context.uuidParameter()
            return try await withForm(request, roles: RoleSets.writers) { session, _ in try await confirmImport(id, session: session) }
        }
        router.get("suppliers.csv") { request, _ in
            try await withSession(request) { _ in FacilitatorController.exportResponse(transfer) }
        }
    }

    func importForm(session: PageSession, errors: [FieldError] = [], status: HTTPResponse.Status = .ok) -> Response {
        var o: [String: Any] = ["columns": FacilitatorCSV.columns.joined(separator: ", "),
                                "required": FacilitatorCSV.requiredColumns.sorted().joined(separator: ", ")]
        o["errors"] = Dictionary(errors.map { ($0.field, $0.message) }, uniquingKeysWith: { a, _ in a })
        o["invalid"] = !errors.isEmpty
        return pages.page("import", title: pages.text("import.title"), o, session: session, status: status)
    }

    /// Checks the uploaded file; with no bad line, keeps it and asks for confirmation.
    func checkImport(_ form: PageForm, session: PageSession) async throws -> Response {
        guard let file = form.files["file"], !file.bytes.isEmpty else {
            return importForm(session: session, errors: [FieldError(field: "file", message: pages.text("import.chooseFile"))],
                              status: .unprocessableContent)
        }
        let check = try await transfer.check(file.bytes)
        var o: [String: Any] = ["file_name": file.name, "file_sha256": check.fileSHA256, "rows": check.rows]
        o["preview"] = check.firstRows.map { row -> [String: Any] in
            let d = row.draft
            return ["line": row.line, "legal_name": d.legalName, "sector": d.sector, "stages": d.stages.map(\.rawValue).joined(separator: ", "),
                    "country": d.country, "city": d.city ?? "", "registration_number": d.registrationNumber ?? ""]
        }
        o["problems"] = Self.problemRows(check.errors)
        o["flags"] = Self.flagRows(check.flags)
        o["flagsMore"] = flagsMore(shown: check.flags.count, total: check.flaggedTotal)
        guard check.errors.isEmpty else {
            o["invalid"] = true
            o["badLines"] = pages.text("import.badLines", ["count": String(Set(check.errors.compactMap(\.line)).count)])
            return pages.page("import_preview", title: pages.text("import.previewTitle"), o, session: session, status: .unprocessableContent)
        }
        let id = try await transfer.stage(file.bytes, fileName: file.name, actor: session.identity.actor(requestID: nil))
        o["pending"] = id.uuidString.lowercased()
        o["ready"] = pages.text("import.ready", ["rows": String(check.rows)])
        return pages.page("import_preview", title: pages.text("import.previewTitle"), o, session: session)
    }

    func confirmImport(_ id: UUID, session: PageSession) async throws -> Response {
        let result: ImportResult
        do {
            result = try await transfer.importStaged(id, actor: session.identity.actor(requestID: nil))
        } catch StoreError.invalid(let errors) {
            // The registry changed since the preview (another import took a number): nothing was written.
            let o: [String: Any] = [
                "invalid": true, "rows": 0, "file_name": "", "file_sha256": "",
                "badLines": pages.text("import.changedSince", ["count": String(Set(errors.compactMap(\.line)).count)]),
                "problems": Self.problemRows(errors),
            ]
            return pages.page("import_preview", title: pages.text("import.previewTitle"), o, session: session, status: .unprocessableContent)
        }
        let o: [String: Any] = ["created": result.created, "file_sha256": result.fileSHA256, "audit_seq": result.auditSeq,
                                "flags": Self.flagRows(result.flags), "flagsMore": flagsMore(shown: result.flags.count, total: result.flaggedTotal)]
        return pages.page("import_done", title: pages.text("import.doneTitle"), o, session: session,
                          flash: pages.text("import.done", ["count": String(result.created)]))
    }

    static func problemRows(_ errors: [FieldError]) -> [[String: String]] {
        errors.map { ["line": $0.line.map(String.init) ?? "", "field": $0.field, "message": $0.message] }
    }

    /// "N rows are flagged; these are the first M" when the list is cut; else empty.
    func flagsMore(shown: Int, total: Int) -> String {
        total > shown ? pages.text("import.flagsMore", ["total": String(total), "shown": String(shown)]) : ""
    }

    static func flagRows(_ flags: [ImportFlag]) -> [[String: Any]] {
        flags.map { ["line": $0.line, "field": $0.field, "message": $0.message, "existing_id": $0.existingID ?? ""] }
    }
}
