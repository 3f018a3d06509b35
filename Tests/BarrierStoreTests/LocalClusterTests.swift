import Foundation
import Testing
@testable import BarrierStore

@Suite("Embedded PostgreSQL")
struct LocalClusterTests {
    @Test func startsAgainAfterACrashLeftAStalePidFile() async throws {
        // setup: a cluster of its own in a temporary checkout
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("barrier-cluster-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cluster = try LocalCluster(root: root)
        #expect(try cluster.start())
        #expect(cluster.isRunning())
        #expect(try !cluster.start())  // already running: reused, not started twice

        // act: the server dies without cleaning up
        let pidText = try String(contentsOfFile: cluster.directory + "/postmaster.pid", encoding: .utf8)
        let pid = pid_t(pidText.split(separator: "\n")[0])!
        kill(pid, SIGKILL)
        for _ in 0..<50 where kill(pid, 0) == 0 { try await Task.sleep(for: .milliseconds(100)) }
        try await Task.sleep(for: .milliseconds(500))  // the backends notice the postmaster's death and exit
        #expect(FileManager.default.fileExists(atPath: cluster.directory + "/postmaster.pid"))
        #expect(!cluster.isRunning())

        // check: it starts again and serves
        #expect(try cluster.start())
        let db = try Database(url: try DatabaseURL(cluster.url), maximumConnections: 1)
        let reachable = try await db.withRunning { db in await db.isReachable() }
        #expect(reachable)
        try cluster.stop()
        #expect(!cluster.isRunning())
    }

    @Test func databaseURLsOfBothFormsAreUnderstood() throws {
        let socket = try DatabaseURL("postgresql://barrier@/registry?host=/var/lib/barrier")
        #expect(socket.socketDirectory == "/var/lib/barrier" && socket.database == "registry" && socket.user == "barrier")
        let tcp = try DatabaseURL("postgres://app:s%40cret@db.internal:6543/barrier?sslmode=require")
        #expect(tcp.host == "db.internal" && tcp.port == 6543 && tcp.password == "s@cret" && tcp.requireTLS)
        #expect(throws: StoreError.self) { try DatabaseURL("mysql://x@y/z") }
        #expect(throws: StoreError.self) { try DatabaseURL("postgres://x@y") }
    }
}
