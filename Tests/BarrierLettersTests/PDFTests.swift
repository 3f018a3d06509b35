import BarrierCore
import BarrierTestSupport
import Foundation
import Testing

@testable import BarrierLetters

/// Runs a poppler tool on `pdf` and returns what it printed.
func poppler(_ tool: String, _ pdf: Data) throws -> String {
    try runTool("/usr/bin/\(tool)", tool == "pdftotext" ? ["{file}", "-"] : ["{file}"], input: pdf)
}

@Suite("PDF and e-mail")
struct PDFTests {
    @Test("the PDF carries the reference and the supplier's name, in its text and its metadata")
    func pdfText() async throws {
        let renderer = try LetterRenderer(directory: templatesDirectory)
        let pdfs = PDFRenderer(workers: 1)
        let letter = try renderer.render(
            body: renderer.shippedTemplates[TemplateKey(kind: .informCallToAction, group: .delivery, language: .nl)]!,
            snapshot: sampleSnapshot(language: .nl))
        let pdf = try await pdfs.render(html: letter.html)
        #expect(pdf.starts(with: Data("%PDF".utf8)))
        let text = try poppler("pdftotext", pdf)
        #expect(text.contains("OUT-2026-000042"))
        #expect(text.contains("Rapido Koeriers B.V."))
        let info = try poppler("pdfinfo", pdf)
        #expect(info.contains("Title:") && info.contains("OUT-2026-000042"))
        // The same warm worker prints the next letter too.
        let again = try await pdfs.render(html: letter.html)
        #expect(try poppler("pdftotext", again).contains("OUT-2026-000042"))
        await pdfs.shutdown()
    }

    @Test("without WeasyPrint the error says what to install")
    func missingWeasyPrint() async {
        let pdfs = PDFRenderer(workers: 1, python: "/nonexistent/python3")
        do {
            _ = try await pdfs.render(html: "<p>x</p>")
            Issue.record("rendered without a Python")
        } catch {
            #expect("\(error)".contains("weasyprint"))
        }
    }

    @Test("the e-mail is RFC 5322 with the text as body and the PDF attached")
    func email() throws {
        let message = EmailMessage(
            from: .init(name: "Inspectorate of Licensed Services", email: "barrier@inspectorate.example"),
            to: .init(name: "Rapido Koeriers B.V.", email: "security@rapido.example"),
            subject: "Uw diensten en de handel via darknetmarkten – verzoek om medewerking",
            date: Date(timeIntervalSince1970: 1_780_000_000),
            messageID: EmailMessage.messageID(reference: "OUT-2026-000042", letterID: "abc", senderEmail: "barrier@inspectorate.example"),
            text: "Geachte heer, mevrouw,\n\nÉén zin.\n", pdf: Data("%PDF-1.7 test".utf8), pdfName: "OUT-2026-000042.pdf")
        let raw = String(decoding: message.rendered(), as: UTF8.self)
        #expect(raw.contains("Message-ID: <OUT-2026-000042.abc@inspectorate.example>\r\n"))
        #expect(raw.contains("To: =?UTF-8?B?") || raw.contains("To: Rapido Koeriers B.V. <security@rapido.example>"))
        #expect(raw.contains("Subject: =?UTF-8?B?"))
        #expect(raw.contains("Content-Type: application/pdf; name=\"OUT-2026-000042.pdf\""))
        #expect(raw.contains(Data("%PDF-1.7 test".utf8).base64EncodedString()))
        #expect(raw.split(separator: "\r\n", omittingEmptySubsequences: false).allSatisfy { $0.count <= 998 })
        #expect(!raw.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "bare LF in the message")
        #expect(message.rendered() == message.rendered())
    }
}
