import BarrierCore
import Crypto
import Foundation
import Synchronization
import ZIPFoundation

/// Campaign ZIPs, built once and kept as files in one folder (CAMPAIGN_ZIP_DIR),
/// so a download streams a file instead of printing and packing every letter
/// again. A ZIP is named after its campaign and the SHA-256 of the manifest it
/// holds: the manifest names every letter with its PDF's hash and status, so
/// while nothing changes every download gets the same file, and a change (a
/// letter printed, sent, answered) gives a new one on the next download, which
/// replaces the old. The bytes depend only on the database (entry dates are the
/// campaign's letter date), so instances sharing one database each build the
/// same file. Two requests for a ZIP not built yet wait for one build.
public final class CampaignArchives: Sendable {
    public let directory: String
    private let state = Mutex<(building: [String: Task<Void, any Error>], builds: Int)>(([:], 0))

    /// One set per folder in a process, so every route shares its builds.
    private static let byDirectory = Mutex<[String: CampaignArchives]>([:])

    public static func at(_ directory: String) -> CampaignArchives {
        byDirectory.withLock { all in
            if let found = all[directory] { return found }
            let made = CampaignArchives(directory: directory)
            all[directory] = made
            return made
        }
    }

    public init(directory: String) {
        self.directory = directory
    }

    /// The default folder: `barrier-campaign-zips` in the system's temporary folder (a cache: anything in it can go).
    public static var defaultDirectory: String {
        URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("barrier-campaign-zips").path
    }

    /// ZIPs built by this process (a test can see that a second download built none).
    public var builds: Int { state.withLock { $0.builds } }

    /// A built ZIP: its file, its length, and an entity tag naming its content.
    public struct Archive: Sendable {
        public var path: String
        public var size: Int
        public var etag: String
    }

    /// The campaign's ZIP as its letters stand now, built if this state has no file yet.
    /// Runs as the task's agency: another agency's campaign is not found.
    public func archive(_ id: UUID, of campaigns: CampaignStore) async throws -> Archive {
        let (manifest, date) = try await campaigns.zipContents(id)
        var hasher = SHA256()
        hasher.update(data: Data("barrier-campaign-zip 1\n\(date.timeIntervalSince1970)\n".utf8))
        hasher.update(data: manifest)
        let tag = String(Data(hasher.finalize()).hex.prefix(32))
        let campaign = id.uuidString.lowercased()
        let path = URL(fileURLWithPath: directory).appendingPathComponent("campaign-\(campaign)-\(tag).zip").path
        if let size = Self.size(path) { return Archive(path: path, size: size, etag: tag) }
        let build: Task<Void, any Error> = state.withLock { s in
            if let running = s.building[path] { return running }
            s.builds += 1
            let task = Task<Void, any Error> {
                defer { self.state.withLock { _ = $0.building.removeValue(forKey: path) } }
                try await self.build(campaign: campaign, to: path) { partial in
                    try await campaigns.writeZIP(id, to: partial, manifest: manifest, date: date)
                }
            }
            s.building[path] = task
            return task
        }
        try await build.value
        guard let size = Self.size(path) else { throw StoreError.conflict("the campaign's ZIP could not be kept in \(directory)") }
        return Archive(path: path, size: size, etag: tag)
    }

    /// Writes to a temporary name in the folder, then renames, so a reader sees a whole
    /// file or none; then drops the campaign's older ZIPs (a download still reading one keeps its open file).
    private func build(campaign: String, to path: String, write: (String) async throws -> Void) async throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let partial = URL(fileURLWithPath: directory).appendingPathComponent(".partial-\(UUID().uuidString).zip").path
        do {
            try await write(partial)
            guard rename(partial, path) == 0 else {
                throw StoreError.conflict("cannot keep the campaign's ZIP in \(directory): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? fm.removeItem(atPath: partial)
            throw error
        }
        let name = (path as NSString).lastPathComponent
        for old in (try? fm.contentsOfDirectory(atPath: directory)) ?? []
        where old.hasPrefix("campaign-\(campaign)-") && old.hasSuffix(".zip") && old != name {
            try? fm.removeItem(atPath: URL(fileURLWithPath: directory).appendingPathComponent(old).path)
        }
    }

    private static func size(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
    }
}

extension CampaignStore {
    /// What a campaign's ZIP holds besides the PDFs: every letter is printed first
    /// (so the manifest names every PDF's hash), then the manifest and the date its entries carry.
    func zipContents(_ id: UUID) async throws -> (manifest: Data, date: Date) {
        let saved = try await db.transaction { conn in try await load(id, on: conn) }
        guard saved.status != "draft" else { throw StoreError.conflict("the campaign is a draft; approve it first") }
        let missing = try await db.query(
            "SELECT id FROM letters WHERE campaign_id = \(id) AND status <> 'draft' AND pdf IS NULL ORDER BY length(reference), reference")
        var unprinted: [UUID] = []
        for try await letter in missing.decode(UUID.self) { unprinted.append(letter) }
        for letter in unprinted { _ = try await letters.pdf(of: letter) }
        return (try await manifest(id), Self.entryDate(saved.letterDate))
    }

    /// Noon of the letter date in this machine's zone: a ZIP stores local dates and
    /// times, so this gives the same bytes in any zone.
    static func entryDate(_ day: String?) -> Date {
        let parts = (day ?? "2000-01-01").split(separator: "-").compactMap { Int($0) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .current
        let components = DateComponents(year: parts.first ?? 2000, month: parts.count > 1 ? parts[1] : 1,
                                        day: parts.count > 2 ? parts[2] : 1, hour: 12)
        return calendar.date(from: components) ?? Date(timeIntervalSince1970: 946_728_000)
    }

    /// Writes the ZIP: every letter's PDF (stored, already compressed) in reference
    /// order, then `manifest` (deflated), each entry dated `date`.
    func writeZIP(_ id: UUID, to path: String, manifest: Data, date: Date) async throws {
        try? FileManager.default.removeItem(atPath: path)
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        let rows = try await db.query(
            "SELECT id, reference FROM letters WHERE campaign_id = \(id) ORDER BY length(reference), reference")
        var entries: [(UUID, String)] = []
        for try await row in rows.decode((UUID, String).self) { entries.append(row) }
        for (letter, reference) in entries {
            let pdf = try await letters.pdf(of: letter)
            try archive.addEntry(with: "\(reference).pdf", type: .file, uncompressedSize: Int64(pdf.count), modificationDate: date,
                                 compressionMethod: .none) { position, size in
                pdf.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        try archive.addEntry(with: "manifest.csv", type: .file, uncompressedSize: Int64(manifest.count), modificationDate: date,
                             compressionMethod: .deflate) { position, size in
            manifest.subdata(in: Int(position)..<Int(position) + size)
        }
    }
}
