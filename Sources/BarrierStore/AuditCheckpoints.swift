import Crypto
import Foundation
import PostgresNIO

/// The Ed25519 key that signs the audit chain's head. It lives in a file
/// outside the database (BARRIER_AUDIT_KEY_FILE, by default
/// .barrier/audit-signing.key, readable by its owner only), so whoever can
/// rewrite the database cannot forge a checkpoint.
public struct AuditSigningKey: Sendable {
    // The raw key (Crypto's key types are not Sendable).
    private let raw: Data
    var key: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: raw) }

    init(key: Curve25519.Signing.PrivateKey) { raw = key.rawRepresentation }

    public var publicKey: AuditPublicKey { AuditPublicKey(key.publicKey) }

    /// The key file's path from the environment, or the default beside the embedded cluster.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let path = environment["BARRIER_AUDIT_KEY_FILE"], !path.isEmpty { return path }
        return FileManager.default.currentDirectoryPath + "/.barrier/audit-signing.key"
    }

    /// Reads the key at `path`; with `create`, makes a new one there (mode 0600) when the file is absent.
    public static func load(path: String, create: Bool) throws -> AuditSigningKey {
        if let data = FileManager.default.contents(atPath: path) {
            let text = String(decoding: data, as: UTF8.self)
            guard let line = text.split(whereSeparator: \.isNewline).first(where: { !$0.hasPrefix("#") }),
                  let raw = Data(base64Encoded: String(line).trimmingCharacters(in: .whitespaces)),
                  let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
            else { throw AuditKeyError(description: "the audit signing key \(path) is not a base64 Ed25519 private key") }
            return AuditSigningKey(key: key)
        }
        guard create else {
            throw AuditKeyError(description: "no audit signing key at \(path); set BARRIER_AUDIT_KEY_FILE to the server's key file")
        }
        let key = Curve25519.Signing.PrivateKey()
        let text = "# Barrier Registry audit signing key (Ed25519, base64). Keep it outside the database and its backups.\n"
            + key.rawRepresentation.base64EncodedString() + "\n"
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw AuditKeyError(description: "cannot write the audit signing key to \(path); set BARRIER_AUDIT_KEY_FILE to a writable path")
        }
        return AuditSigningKey(key: key)
    }

    func sign(_ head: AuditCheckpoint.Head) throws -> Data {
        try key.signature(for: head.signedBytes)
    }
}

/// A public key that checkpoints are checked against.
public struct AuditPublicKey: Sendable, Hashable {
    private let raw: Data
    var key: Curve25519.Signing.PublicKey { try! Curve25519.Signing.PublicKey(rawRepresentation: raw) }

    init(_ key: Curve25519.Signing.PublicKey) { raw = key.rawRepresentation }

    /// From its base64 raw form (what `barrier audit head` prints).
    public init?(base64: String) {
        guard let raw = Data(base64Encoded: base64), (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) != nil else { return nil }
        self.raw = raw
    }

    public var base64: String { raw.base64EncodedString() }
    /// The first 16 hex digits of the SHA-256 of the raw key.
    public var id: String { String(Data(SHA256.hash(data: raw)).hex.prefix(16)) }
}

/// One signed head of the chain.
public struct AuditCheckpoint: Sendable, Equatable, Codable {
    /// What is signed: the chain's newest event and when.
    public struct Head: Sendable, Equatable {
        public var seq: Int64
        public var hashHex: String
        public var signedAtMicros: Int64

        var signedBytes: Data {
            Data("barrier-audit-checkpoint v1\n\(seq)\n\(hashHex)\n\(signedAtMicros)".utf8)
        }
    }

    public var seq: Int64
    public var hash: String
    public var signedAtMicros: Int64
    public var keyID: String
    public var signature: String
    /// Only in a published head: the key, so a reader elsewhere can check it.
    public var publicKey: String?

    var head: Head { Head(seq: seq, hashHex: hash, signedAtMicros: signedAtMicros) }

    enum CodingKeys: String, CodingKey {
        case seq, hash, signedAtMicros = "signed_at_us", keyID = "key_id", signature, publicKey = "public_key"
    }

    /// Why the signature does not hold under `keys`, or nil when it does.
    public func signatureProblem(trusting keys: [AuditPublicKey]) -> String? {
        guard let key = keys.first(where: { $0.id == keyID }) else {
            return "it was signed by key \(keyID), which this check does not trust"
        }
        guard let signature = Data(base64Encoded: signature), key.key.isValidSignature(signature, for: head.signedBytes) else {
            return "its signature does not hold (the checkpoint was altered or forged)"
        }
        return nil
    }

    /// The one-line JSON that `barrier audit head` prints for publishing.
    public func published(with key: AuditPublicKey) -> String {
        var copy = self
        copy.publicKey = key.base64
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(copy)) ?? Data(), as: UTF8.self)
    }

    /// Reads a published head.
    public static func parsePublished(_ text: String) throws -> AuditCheckpoint {
        guard let head = try? JSONDecoder().decode(AuditCheckpoint.self, from: Data(text.utf8)) else {
            throw AuditKeyError(description: "the published head is not the JSON that `barrier audit head` prints")
        }
        return head
    }
}

/// Signs and reads checkpoints of the audit chain.
public struct AuditCheckpoints: Sendable {
    let db: Database

    public init(_ db: Database) { self.db = db }

    /// Signs the chain's current head unless the newest checkpoint already covers
    /// it (or, with `minimumSeconds`, unless the newest is younger than that).
    /// Returns the newest checkpoint; nil while the chain is empty. Instances that
    /// sign at the same time take turns on an advisory lock.
    @discardableResult
    public func sign(with key: AuditSigningKey, minimumSeconds: Int = 0) async throws -> AuditCheckpoint? {
        try await db.transaction { conn in
            try await conn.query("SELECT pg_advisory_xact_lock(hashtext('barrier.audit_checkpoint'))", logger: db.logger)
            var head: (Int64, String)?
            for try await row in try await conn.query("SELECT seq, encode(hash, 'hex') FROM audit_head()", logger: db.logger)
                .decode((Int64?, String?).self) {
                if let seq = row.0, let hash = row.1 { head = (seq, hash) }
            }
            let newest = try await Self.newest(on: conn, logger: db.logger)
            guard let (seq, hash) = head else { return newest }
            let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
            if let newest, newest.seq >= seq || now - newest.signedAtMicros < Int64(minimumSeconds) * 1_000_000 {
                return newest
            }
            let signed = AuditCheckpoint.Head(seq: seq, hashHex: hash, signedAtMicros: now)
            let signature = try key.sign(signed)
            try await conn.query(
                """
                INSERT INTO audit_checkpoints (seq, hash, signed_at, key_id, signature)
                VALUES (\(seq), decode(\(hash), 'hex'), to_timestamp(\(Double(now) / 1_000_000)), \(key.publicKey.id), \(ByteBuffer(bytes: signature)))
                """, logger: db.logger)
            return AuditCheckpoint(seq: seq, hash: hash, signedAtMicros: now, keyID: key.publicKey.id,
                                   signature: signature.base64EncodedString())
        }
    }

    /// Every checkpoint, oldest first.
    public func all() async throws -> [AuditCheckpoint] {
        try await db.withConnection { conn in
            var result: [AuditCheckpoint] = []
            for try await row in try await conn.query(PostgresQuery(unsafeSQL: Self.select + " ORDER BY id"), logger: db.logger).decode(Row.self) {
                result.append(Self.checkpoint(row))
            }
            return result
        }
    }

    public func newest() async throws -> AuditCheckpoint? {
        try await db.withConnection { conn in try await Self.newest(on: conn, logger: db.logger) }
    }

    typealias Row = (Int64, String, Int64, String, String)
    static let select = """
        SELECT seq, encode(hash, 'hex'), (extract(epoch FROM signed_at) * 1000000)::bigint, key_id, encode(signature, 'base64')
        FROM audit_checkpoints
        """

    static func newest(on conn: PostgresConnection, logger: Logger) async throws -> AuditCheckpoint? {
        for try await row in try await conn.query(PostgresQuery(unsafeSQL: select + " ORDER BY id DESC LIMIT 1"), logger: logger).decode(Row.self) {
            return checkpoint(row)
        }
        return nil
    }

    static func checkpoint(_ row: Row) -> AuditCheckpoint {
        AuditCheckpoint(seq: row.0, hash: row.1, signedAtMicros: row.2, keyID: row.3,
                        signature: row.4.filter { !$0.isNewline }, publicKey: nil)
    }
}

/// A problem with the audit signing key or a published head, said in one line.
public struct AuditKeyError: Error, CustomStringConvertible {
    public var description: String
}
