import Foundation
import Glibc

/// What a finished process left behind.
public struct ProcessResult {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs a built executable to completion, killing it if it takes longer than `timeout` seconds.
public func run(_ executable: String, _ arguments: [String], timeout: Double = patience) throws -> ProcessResult {
    try run(program: builtExecutable(executable), arguments, timeout: timeout)
}

/// Runs the program at `program` (a built executable or a system tool) to completion in the
/// package's root, killing it if it takes longer than `timeout` seconds.
public func run(program: URL, _ arguments: [String], timeout: Double = patience) throws -> ProcessResult {
    let executable = program.lastPathComponent
    let process = try launch(program: program, arguments)
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
public struct LaunchedProcess {
    public let process: Process
    let directory: URL

    public func stdout() -> String { (try? String(contentsOf: directory.appendingPathComponent("stdout"), encoding: .utf8)) ?? "" }
    public func stderr() -> String { (try? String(contentsOf: directory.appendingPathComponent("stderr"), encoding: .utf8)) ?? "" }

    /// Waits for the process to exit on its own; throws if it has not after `timeout` seconds.
    public func waitForExit(timeout: Double = patience) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            guard Date() < deadline else { throw TestFailure("the process did not exit:\n\(stderr())") }
            usleep(20_000)
        }
        return process.terminationStatus
    }
}

/// Starts `elutq` or `elutq-agent` from the build directory, with `environment` added to this
/// process's own.
public func launch(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> LaunchedProcess {
    try launch(program: builtExecutable(executable), arguments, environment: environment)
}

/// Starts the program at `program` in the package's root, its output going to files.
func launch(program: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> LaunchedProcess {
    let directory = try makeTemporaryDirectory("process")
    let process = Process()
    process.executableURL = program
    process.arguments = arguments
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    process.currentDirectoryURL = packageRoot
    for name in ["stdout", "stderr"] {
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent(name).path, contents: nil)
    }
    process.standardOutput = try FileHandle(forWritingTo: directory.appendingPathComponent("stdout"))
    process.standardError = try FileHandle(forWritingTo: directory.appendingPathComponent("stderr"))
    try process.run()
    return LaunchedProcess(process: process, directory: directory)
}

/// The built `elutq-agent` and `elutq` executables sit next to the test bundle.
func builtExecutable(_ name: String) throws -> URL {
    try TestNeed.executables.checkDeclared()
    let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    let executable = directory.appendingPathComponent(name)
    guard FileManager.default.isExecutableFile(atPath: executable.path) else {
        throw TestFailure("\(executable.path) is missing: `swift build` (or `swift test`) builds it")
    }
    return executable
}
