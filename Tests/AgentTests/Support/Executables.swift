import Foundation
import Glibc
import TestSupport

/// What a finished process left behind.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a built executable to completion, killing it if it takes longer than `timeout` seconds.
func run(_ executable: String, _ arguments: [String], timeout: Double = TestClient.patience) throws -> ProcessResult {
    let process = try launch(executable, arguments)
    let deadline = Date().addingTimeInterval(timeout)
    while process.process.isRunning {
        guard Date() < deadline else {
            kill(process.process.processIdentifier, SIGKILL)
            process.process.waitUntilExit()
            throw TestFailure("\(executable) \(arguments.joined(separator: " ")) ran longer than \(Int(timeout)) s:\n\(process.stderr())")
        }
        usleep(20_000)
    }
    return ProcessResult(status: process.process.terminationStatus, stdout: process.stdout(), stderr: process.stderr())
}

/// A running executable whose output goes to files, read when wanted.
struct LaunchedProcess {
    let process: Process
    let directory: URL

    func stdout() -> String { (try? String(contentsOf: directory.appendingPathComponent("stdout"), encoding: .utf8)) ?? "" }
    func stderr() -> String { (try? String(contentsOf: directory.appendingPathComponent("stderr"), encoding: .utf8)) ?? "" }

    /// Waits for the process to exit on its own; throws if it has not after `timeout` seconds.
    func waitForExit(timeout: Double = TestClient.patience) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            guard Date() < deadline else { throw TestFailure("the process did not exit:\n\(stderr())") }
            usleep(20_000)
        }
        return process.terminationStatus
    }
}

/// Starts `elutq` or `elutq-agent` from the build directory.
func launch(_ executable: String, _ arguments: [String]) throws -> LaunchedProcess {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("elutq-process-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let process = Process()
    process.executableURL = try builtExecutable(executable)
    process.arguments = arguments
    process.currentDirectoryURL = packageRoot
    for name in ["stdout", "stderr"] {
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent(name).path, contents: nil)
    }
    process.standardOutput = try FileHandle(forWritingTo: directory.appendingPathComponent("stdout"))
    process.standardError = try FileHandle(forWritingTo: directory.appendingPathComponent("stderr"))
    try process.run()
    return LaunchedProcess(process: process, directory: directory)
}
