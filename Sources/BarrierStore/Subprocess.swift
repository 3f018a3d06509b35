import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a helper program (initdb, pg_ctl, runuser) and returns what it printed.
///
/// posix_spawn and waitpid rather than Foundation's Process: pg_ctl leaves a
/// daemon behind, and Process.waitUntilExit was seen to miss the child's exit
/// here and wait forever. Output goes to a temporary file, not a pipe, so a
/// daemon that inherits it cannot hold the caller up either.
struct Subprocess {
    struct Failure: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var output: String
        var description: String { "\(command) exited with \(status): \(output.trimmingCharacters(in: .whitespacesAndNewlines))" }
    }

    /// The status `run` reports for a program it killed after its time limit.
    static let timedOut: Int32 = 124

    /// `run` on a thread of its own, so async code waiting for a slow program holds
    /// no thread of the cooperative pool.
    static func runDetached(_ arguments: [String], input: Data? = nil, timeoutSeconds: Double) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try run(arguments, input: input, allowFailure: true, timeoutSeconds: timeoutSeconds) })
            }
        }
    }

    /// Runs `arguments`; `input` (if any) is the program's standard input. With
    /// `timeoutSeconds`, a program still running then is killed and the status is `timedOut`.
    @discardableResult
    static func run(_ arguments: [String], input: Data? = nil, allowFailure: Bool = false,
                    timeoutSeconds: Double? = nil) throws -> (status: Int32, output: String) {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("barrier-\(UUID().uuidString).out").path
        let inputPath = FileManager.default.temporaryDirectory.appendingPathComponent("barrier-\(UUID().uuidString).in").path
        defer {
            try? FileManager.default.removeItem(atPath: outputPath)
            try? FileManager.default.removeItem(atPath: inputPath)
        }
        if let input {
            guard FileManager.default.createFile(atPath: inputPath, contents: input, attributes: [.posixPermissions: 0o600]) else {
                throw Failure(command: arguments.joined(separator: " "), status: -1, output: "cannot write its input to \(inputPath)")
            }
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, input == nil ? "/dev/null" : inputPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw Failure(command: arguments.joined(separator: " "), status: -1, output: String(cString: strerror(spawned)))
        }
        var status: Int32 = 0
        var killed = false
        if let timeoutSeconds {
            let deadline = Date().addingTimeInterval(timeoutSeconds)
            while true {
                let done = waitpid(pid, &status, WNOHANG)
                if done == pid || (done == -1 && errno != EINTR) { break }
                if Date() >= deadline {
                    kill(pid, SIGKILL)
                    killed = true
                    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                    break
                }
                usleep(20_000)
            }
        } else {
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        }
        var exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        var output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        if killed {
            exitCode = Self.timedOut
            output = "stopped after \(timeoutSeconds ?? 0) s without an answer. " + output
        }
        if exitCode != 0 && !allowFailure {
            throw Failure(command: arguments.joined(separator: " "), status: exitCode, output: output)
        }
        return (exitCode, output)
    }
}
