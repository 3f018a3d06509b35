import Foundation

/// Runs a helper program (initdb, pg_ctl, runuser) and returns what it printed.
struct Subprocess {
    struct Failure: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var output: String
        var description: String { "\(command) exited with \(status): \(output.trimmingCharacters(in: .whitespacesAndNewlines))" }
    }

    @discardableResult
    /// `detached`: the program leaves a daemon behind (pg_ctl start) that would hold
    /// a pipe open forever, so its output goes to /dev/null instead of being read.
    static func run(_ arguments: [String], environment: [String: String]? = nil, allowFailure: Bool = false, detached: Bool = false) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        process.standardInput = FileHandle.nullDevice
        var data = Data()
        if detached {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
        } else {
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
        }
        let output = String(decoding: data, as: UTF8.self)
        if process.terminationStatus != 0 && !allowFailure {
            throw Failure(command: arguments.joined(separator: " "), status: process.terminationStatus, output: output)
        }
        return (process.terminationStatus, output)
    }
}
