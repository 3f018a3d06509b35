import Foundation

/// An approved letter as an e-mail (RFC 5322, MIME): the plain text as the body
/// and the PDF attached. Everything in it comes from the frozen letter, so the
/// same letter always gives the same message, Message-ID included; a relay
/// or a mailbox can recognise a resend by it.
public struct EmailMessage: Sendable {
    public struct Address: Sendable {
        public var name: String?
        public var email: String

        public init(name: String?, email: String) {
            self.name = name
            self.email = email
        }

        var header: String {
            guard let name, !name.isEmpty else { return email }
            return "\(EmailMessage.encodedWord(name)) <\(email)>"
        }
    }

    public var from: Address
    public var to: Address?
    public var subject: String
    public var date: Date
    public var messageID: String
    public var text: String
    public var pdf: Data?
    public var pdfName: String

    public init(from: Address, to: Address?, subject: String, date: Date, messageID: String, text: String, pdf: Data?, pdfName: String) {
        self.from = from; self.to = to; self.subject = subject; self.date = date
        self.messageID = messageID; self.text = text; self.pdf = pdf; self.pdfName = pdfName
    }

    /// `<OUT-2026-000001.6f1c…@inspectorate.example>`: stable for a letter.
    public static func messageID(reference: String, letterID: String, senderEmail: String?) -> String {
        let domain = senderEmail.flatMap { $0.split(separator: "@").last.map(String.init) } ?? "barrier.invalid"
        return "<\(reference).\(letterID)@\(domain)>"
    }

    /// The message's bytes with CRLF line ends.
    public func rendered() -> Data {
        let boundary = "barrier-" + messageID.filter { $0.isLetter || $0.isNumber }.suffix(32)
        var lines: [String] = [
            "From: \(from.header)",
        ]
        if let to { lines.append("To: \(to.header)") }
        lines += [
            "Subject: \(Self.encodedWord(subject))",
            "Date: \(Self.rfc5322Date(date))",
            "Message-ID: \(messageID)",
            "MIME-Version: 1.0",
        ]
        let textPart = [
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
            Self.base64Lines(Data(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)),
        ]
        if let pdf {
            lines += ["Content-Type: multipart/mixed; boundary=\"\(boundary)\"", "", "--\(boundary)"] + textPart + [
                "--\(boundary)",
                "Content-Type: application/pdf; name=\"\(pdfName)\"",
                "Content-Disposition: attachment; filename=\"\(pdfName)\"",
                "Content-Transfer-Encoding: base64",
                "",
                Self.base64Lines(pdf),
                "--\(boundary)--",
                "",
            ]
        } else {
            lines += textPart + [""]
        }
        return Data(lines.joined(separator: "\r\n").utf8)
    }

    /// RFC 2047 encoded words when the text is not plain ASCII: each word at
    /// most 75 characters, whole characters only, folded onto continuation lines.
    static func encodedWord(_ text: String) -> String {
        if text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 32 }) { return text }
        var words: [String] = []
        var chunk = ""
        for character in text {
            if chunk.utf8.count + character.utf8.count > 45 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(character)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?" + Data($0.utf8).base64EncodedString() + "?=" }.joined(separator: "\r\n ")
    }

    static func base64Lines(_ data: Data) -> String {
        data.base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
    }

    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
