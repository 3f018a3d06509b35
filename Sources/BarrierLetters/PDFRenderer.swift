import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Prints letter HTML to PDF with WeasyPrint, kept warm: a few long-lived
/// Python processes each print one letter at a time, so no letter pays for a
/// process start (about 0.7 s here, against about 0.1 s warm).
///
/// Debian's WeasyPrint is importable only by `/usr/bin/python3`, which is why
/// that interpreter is the default.
public actor PDFRenderer {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    let python: String
    let size: Int
    private var idle: [PDFWorker] = []
    private var started = 0
    private var waiting: [CheckedContinuation<PDFWorker, Never>] = []

    /// `workers` processes at most; they start on first use.
    public init(workers: Int = ProcessInfo.processInfo.activeProcessorCount, python: String = "/usr/bin/python3") {
        self.size = max(1, workers)
        self.python = python
        // A worker that dies must give a failed write, not kill the server.
        signal(SIGPIPE, SIG_IGN)
    }

    /// The PDF of `html`.
    public func render(html: String) async throws -> Data {
        let worker = try await checkOut()
        do {
            let pdf = try await worker.render(Data(html.utf8))
            checkIn(worker)
            return pdf
        } catch let failure as Failure {
            // The document was bad, not the worker: keep it.
            if worker.isAlive { checkIn(worker) } else { replace(worker) }
            throw failure
        } catch {
            replace(worker)
            throw Failure(description: "the PDF worker stopped: \(error)")
        }
    }

    /// Stops every worker (they also stop when their input closes, with the program).
    public func shutdown() {
        for worker in idle { worker.stop() }
        idle = []
        started = 0
    }

    private func checkOut() async throws -> PDFWorker {
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
        return await withCheckedContinuation { waiting.append($0) }
    }

    private func checkIn(_ worker: PDFWorker) {
        if !waiting.isEmpty { waiting.removeFirst().resume(returning: worker) } else { idle.append(worker) }
    }

    private func replace(_ worker: PDFWorker) {
        worker.stop()
        started -= 1
        if !waiting.isEmpty {
            // Someone is waiting for a worker: start one for them.
            let next = waiting.removeFirst()
            started += 1
            Task {
                if let fresh = try? await PDFWorker.start(python: python) { next.resume(returning: fresh) }
                else { self.failedStart(next) }
            }
        }
    }

    private func failedStart(_ continuation: CheckedContinuation<PDFWorker, Never>) {
        started -= 1
        waiting.insert(continuation, at: 0)
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
