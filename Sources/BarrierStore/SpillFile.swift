import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Rows in COPY text written to a private temporary file as they come, for a
/// COPY once the rows are all known: what an import keeps per row (the keys of
/// its in-file checks, its contact points) waits on disk, not in memory, so the
/// import's memory does not grow with the file. The file is removed with the value.
final class SpillFile {
    let path: String
    private let handle: FileHandle
    private var buffer = ByteBuffer()
    private(set) var rows = 0
    static let flushBytes = 1 << 20

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("barrier-spill-\(UUID().uuidString).copy").path
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
              let handle = FileHandle(forUpdatingAtPath: path) else {
            throw StoreError.conflict("a temporary file for the import could not be written")
        }
        self.handle = handle
        buffer.reserveCapacity(Self.flushBytes + 4096)
    }

    deinit {
        try? handle.close()
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Appends one row (nil is NULL).
    func write(_ fields: [String?]) throws {
        CopyText.writeRow(fields, into: &buffer)
        rows += 1
        if buffer.readableBytes >= Self.flushBytes { try flush() }
    }

    private func flush() throws {
        guard buffer.readableBytes > 0 else { return }
        try handle.write(contentsOf: buffer.readableBytesView)
        buffer.clear()
    }

    /// COPYs every row written into `table`, reading the file back in 1 MB pieces.
    func copy(into table: String, columns: [String], on conn: PostgresConnection, logger: Logger) async throws {
        try flush()
        guard rows > 0 else { return }
        try handle.seek(toOffset: 0)
        let handle = self.handle
        try await conn.copyFrom(table: table, columns: columns, logger: logger) { writer in
            while let piece = try handle.read(upToCount: Self.flushBytes), !piece.isEmpty {
                try await writer.write(ByteBuffer(bytes: piece))
            }
        }
        try handle.seekToEnd()
    }
}
