import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Prints letter HTML to PDF with WeasyPrint, kept warm: a few long-lived
/// Python processes each print one letter at a time, so no letter pays for a
/// process start (about 0.7 s here, against about 0.1 s warm).
///
/// Requests wait for a free worker in a bounded queue: past `queueLimit`
/// waiting renders a request is refused at once (`Busy`), so a burst cannot
/// pile up without end; background work (campaign jobs) waits without a bound
/// (its batches bound it) and after every waiting request. A render that runs
/// past `renderTimeout` has its worker killed and replaced (`TimedOut`).
///
/// Debian's WeasyPrint is importable only by `/usr/bin/python3`, which is why
/// that interpreter is the default.
public actor PDFRenderer {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// More renders were waiting than the queue allows; nothing was started.
    public struct Busy: Error, CustomStringConvertible {
        public var waiting: Int
        /// A guess at when a worker will be free: the queue's length times the recent render time.
        public var retryAfterSeconds: Int
        public var description: String {
            "every PDF worker is busy and \(waiting) render(s) are waiting already; try again in \(retryAfterSeconds) s"
        }
    }

    /// A render ran longer than the time limit; its worker was stopped and replaced.
    public struct TimedOut: Error, CustomStringConvertible {
        public var seconds: Double
        public var description: String {
            "the PDF took longer than \(seconds.formatted(.number.grouping(.never))) s to print; its worker was stopped and replaced"
        }
    }

    /// Who is waiting: a request (bounded queue, served first) or background work.
    public enum Priority: Sendable {
        case interactive, background
    }

    public struct Limits: Sendable {
        /// Requests that may wait for a worker; one more is refused.
        public var queueLimit: Int
        public var renderTimeout: Duration
    }

    let python: String
    public nonisolated let size: Int
    private nonisolated let limitsBox: Mutex<Limits>
    private var idle: [PDFWorker] = []
    private var started = 0
    private var waitingRequests: [CheckedContinuation<PDFWorker, Never>] = []
    private var waitingBackground: [CheckedContinuation<PDFWorker, Never>] = []
    /// Renders handed to a worker since start (for tests and metrics).
    public private(set) var renders = 0
    /// Requests refused because the queue was full.
    public private(set) var refused = 0
    /// Renders stopped for running past the time limit.
    public private(set) var timeouts = 0
    /// Recent seconds per render (moving average), for Retry-After.
    private var secondsPerRender = 0.5

    /// `workers` processes at most; they start on first use. `queueLimit` nil: four per worker.
    public init(workers: Int = ProcessInfo.processInfo.activeProcessorCount, python: String = "/usr/bin/python3",
                queueLimit: Int? = nil, renderTimeout: Duration = .seconds(60)) {
        self.size = max(1, workers)
        self.python = python
        self.limitsBox = Mutex(Limits(queueLimit: max(0, queueLimit ?? 4 * max(1, workers)), renderTimeout: renderTimeout))
        // A worker that dies must give a failed write, not kill the server.
        signal(SIGPIPE, SIG_IGN)
    }

    /// The queue limit and time limit in force.
    public nonisolated var limits: Limits { limitsBox.withLock { $0 } }

    /// Sets the queue limit and the time limit of one render, for the renders that start after; nil leaves one as it is.
    public nonisolated func configure(queueLimit: Int? = nil, renderTimeout: Duration? = nil) {
        limitsBox.withLock { limits in
            if let queueLimit { limits.queueLimit = max(0, queueLimit) }
            if let renderTimeout { limits.renderTimeout = renderTimeout }
        }
    }

    /// The PDF of `html`. An interactive render is refused with `Busy` when the queue is full.
    public func render(html: String, priority: Priority = .interactive) async throws -> Data {
        let worker = try await checkOut(priority)
        renders += 1
        let timeout = limits.renderTimeout
        let watchdog = Task.detached {
            try await Task.sleep(for: timeout)
            worker.expire()
        }
        let clock = ContinuousClock.now
        do {
            let pdf = try await worker.render(Data(html.utf8))
            watchdog.cancel()
            let elapsed = ContinuousClock.now - clock
            secondsPerRender = 0.8 * secondsPerRender + 0.2 * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            checkIn(worker)
            return pdf
        } catch let failure as Failure {
            watchdog.cancel()
            if worker.timedOut { return try timedOut(worker, after: timeout) }
            // The document was bad, not the worker: keep it.
            if worker.isAlive { checkIn(worker) } else { replace(worker) }
            throw failure
        } catch {
            watchdog.cancel()
            if worker.timedOut { return try timedOut(worker, after: timeout) }
            replace(worker)
            throw Failure(description: "the PDF worker stopped: \(error)")
        }
    }

    private func timedOut(_ worker: PDFWorker, after timeout: Duration) throws -> Data {
        timeouts += 1
        replace(worker)
        throw TimedOut(seconds: Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18)
    }

    /// Stops every worker (they also stop when their input closes, with the program).
    public func shutdown() {
        for worker in idle { worker.stop() }
        idle = []
        started = 0
    }

    private func checkOut(_ priority: Priority) async throws -> PDFWorker {
        if let worker = idle.popLast() { return worker }
        if started < size {
            started += 1
            do {
                return try await PDFWorker.start(python: python)
            } catch {
                started -= 1
                throw error
            }
        }
        switch priority {
        case .interactive:
            let waiting = waitingRequests.count
            guard waiting < limits.queueLimit else {
                refused += 1
                let seconds = secondsPerRender * Double(waiting + waitingBackground.count + size) / Double(size)
                throw Busy(waiting: waiting, retryAfterSeconds: max(1, Int(seconds.rounded(.up))))
            }
            return await withCheckedContinuation { waitingRequests.append($0) }
        case .background:
            return await withCheckedContinuation { waitingBackground.append($0) }
        }
    }

    /// The next waiter: requests before background work.
    private func nextWaiter() -> CheckedContinuation<PDFWorker, Never>? {
        if !waitingRequests.isEmpty { return waitingRequests.removeFirst() }
        if !waitingBackground.isEmpty { return waitingBackground.removeFirst() }
        return nil
    }

    private func checkIn(_ worker: PDFWorker) {
        if let next = nextWaiter() { next.resume(returning: worker) } else { idle.append(worker) }
    }

    private func replace(_ worker: PDFWorker) {
        worker.stop()
        started -= 1
        if let next = nextWaiter() {
            // Someone is waiting for a worker: start one for them.
            started += 1
            Task {
                if let fresh = try? await PDFWorker.start(python: python) { next.resume(returning: fresh) }
                else { self.failedStart(next) }
            }
        }
    }

    private func failedStart(_ continuation: CheckedContinuation<PDFWorker, Never>) {
        started -= 1
        waitingRequests.insert(continuation, at: 0)
    }
}

/// One warm WeasyPrint process. Requests are `<length>\n<html bytes>`; answers
/// `ok <length>\n<pdf bytes>` or `error <length>\n<message>`.
final class PDFWorker: @unchecked Sendable {
    static let script = #"""
import sys, logging
logging.disable(logging.CRITICAL)
import weasyprint
inp, out = sys.stdin.buffer, sys.stdout.buffer
weasyprint.HTML(string="<p>warm</p>").write_pdf()
out.write(b"ready\n"); out.flush()
while True:
    line = inp.readline()
    if not line:
        break
    html = inp.read(int(line)).decode("utf-8")
    try:
        pdf = weasyprint.HTML(string=html).write_pdf()
        out.write(b"ok %d\n" % len(pdf)); out.write(pdf)
    except Exception as e:
        msg = ("%s: %s" % (type(e).__name__, e)).encode("utf-8")
        out.write(b"error %d\n" % len(msg)); out.write(msg)
    out.flush()
"""#

    let pid: pid_t
    let input: FileHandle
    let output: FileHandle
    let queue = DispatchQueue(label: "barrier.pdf-worker")
    private(set) var isAlive = true
    /// Whether a render is under way, and whether the time limit stopped one.
    private let watch = Mutex((rendering: false, timedOut: false))
    var timedOut: Bool { watch.withLock { $0.timedOut } }

    /// The time limit ran out: kill the process if it is still printing (its
    /// pending read then ends, and the renderer replaces this worker).
    func expire() {
        watch.withLock { state in
            guard state.rendering else { return }
            state.timedOut = true
            kill(pid, SIGKILL)
        }
    }

    init(pid: pid_t, input: FileHandle, output: FileHandle) {
        self.pid = pid
        self.input = input
        self.output = output
    }

    static func start(python: String) async throws -> PDFWorker {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw PDFRenderer.Failure(description: "\(python) is missing: install the Debian packages python3 and weasyprint")
        }
        var toChild: [Int32] = [0, 0], fromChild: [Int32] = [0, 0]
        // Close-on-exec, so no other program started meanwhile keeps a worker's pipe
        // open (a worker must see end-of-input when its server goes away).
        guard pipe(&toChild) == 0, pipe(&fromChild) == 0 else { throw PDFRenderer.Failure(description: "cannot create pipes") }
        for fd in toChild + fromChild { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        for fd in toChild + fromChild { posix_spawn_file_actions_addclose(&actions, fd) }
        let arguments = [python, "-c", script]
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, python, &actions, nil, argv, environ)
        close(toChild[0])
        close(fromChild[1])
        guard spawned == 0 else {
            close(toChild[1]); close(fromChild[0])
            throw PDFRenderer.Failure(description: "cannot start \(python): \(String(cString: strerror(spawned)))")
        }
        let worker = PDFWorker(pid: pid, input: FileHandle(fileDescriptor: toChild[1], closeOnDealloc: true),
                               output: FileHandle(fileDescriptor: fromChild[0], closeOnDealloc: true))
        try await worker.onQueue {
            guard let line = try worker.readLine(), line == "ready" else {
                worker.isAlive = false
                throw PDFRenderer.Failure(description: "WeasyPrint did not start: install the Debian package weasyprint")
            }
        }
        return worker
    }

    func render(_ html: Data) async throws -> Data {
        try await onQueue {
            self.watch.withLock { $0.rendering = true }
            defer { self.watch.withLock { $0.rendering = false } }
            do {
                try self.input.write(contentsOf: Data("\(html.count)\n".utf8) + html)
                guard let header = try self.readLine() else { throw PDFRenderer.Failure(description: "the PDF worker exited") }
                let parts = header.split(separator: " ")
                guard parts.count == 2, let length = Int(parts[1]) else {
                    throw PDFRenderer.Failure(description: "the PDF worker answered '\(header)'")
                }
                let body = try self.read(length)
                if parts[0] == "ok" { return body }
                throw PDFRenderer.Failure(description: "WeasyPrint refused the document: " + String(decoding: body, as: UTF8.self))
            } catch {
                // Only a refused document leaves the worker in step with us.
                if (error as? PDFRenderer.Failure)?.description.hasPrefix("WeasyPrint refused") != true { self.isAlive = false }
                throw error
            }
        }
    }

    func stop() {
        isAlive = false
        try? input.close()
        var status: Int32 = 0
        kill(pid, SIGTERM)
        waitpid(pid, &status, 0)
    }

    private func onQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    private var buffer = Data()

    /// One read(2): FileHandle's reads wait for the whole count, which a pipe may never give.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(output.fileDescriptor, $0.baseAddress, $0.count) }
            if n > 0 { buffer.append(contentsOf: chunk[0..<n]); return true }
            if n == 0 { return false }
            if errno != EINTR { throw PDFRenderer.Failure(description: "reading from the PDF worker: \(String(cString: strerror(errno)))") }
        }
    }

    private func readLine() throws -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return line
            }
            guard try fill() else { return nil }
        }
    }

    private func read(_ count: Int) throws -> Data {
        while buffer.count < count {
            guard try fill() else { throw PDFRenderer.Failure(description: "the PDF worker exited mid-answer") }
        }
        let out = Data(buffer.prefix(count))
        buffer.removeSubrange(buffer.startIndex..<(buffer.startIndex + count))
        return out
    }
}
