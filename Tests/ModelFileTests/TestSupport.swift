import Foundation
import ModelFile

/// A test failure with a message meant for whoever reads the test log.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
}

/// The package root: this file is `<root>/Tests/ModelFileTests/TestSupport.swift`.
let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Runs `body` with a new empty directory that is deleted afterwards.
func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("elutq-modelfile-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory)
}

/// Runs `body` with the path of a temporary file holding `bytes`.
func withTemporaryFile<T>(_ bytes: [UInt8], _ body: (String) throws -> T) throws -> T {
    try withTemporaryDirectory { directory in
        let file = directory.appendingPathComponent("test.gguf")
        try Data(bytes).write(to: file)
        return try body(file.path)
    }
}

/// Reads a file of raw little-endian float32 values.
func readFloats(_ url: URL) throws -> [Float] {
    let data = try Data(contentsOf: url)
    return data.withUnsafeBytes { raw in
        (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
    }
}

/// Runs `tools/gguf-oracle.py` (gguf-py, llama.cpp's Python package, as the reference).
///
/// A missing Python or gguf package is a test failure, not a skip: without the oracle the
/// dequantizers would go unchecked, so the message says how to install it.
func runOracle(_ arguments: [String]) throws {
    let script = packageRoot.appendingPathComponent("tools/gguf-oracle.py").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script] + arguments
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        let install = "The GGUF oracle needs python3 with the gguf and numpy packages: python3 -m pip install gguf numpy"
        throw TestFailure(description: "\(install)\n`python3 \(script) \(arguments.joined(separator: " "))` failed (status \(process.terminationStatus)):\n\(message)")
    }
}

/// Runs `body` with the oracle's fixture (see `tools/gguf-oracle.py`), opened, and the directory
/// that holds it and the oracle's `<tensor name>.f32` files.
func withOracleFixture<T>(_ body: (GGUFFile, URL) throws -> T) throws -> T {
    try withTemporaryDirectory { directory in
        try runOracle(["fixture", directory.path])
        return try body(GGUFFile(path: directory.appendingPathComponent("fixture.gguf").path), directory)
    }
}

/// The real SmolLM2-135M-Instruct model, which `tools/fetch-model` downloads.
func realModelPath() throws -> String {
    let path = packageRoot.appendingPathComponent(".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf").path
    guard FileManager.default.fileExists(atPath: path) else {
        throw TestFailure(description: "the real model is missing at \(path): run tools/fetch-model")
    }
    return path
}

/// Describes the first difference between two float arrays, compared bit for bit, or nil if they are identical.
///
/// Bit equality (rather than `==`) also tells 0 from -0 and would catch any rounding difference.
func firstBitDifference(_ actual: [Float], _ expected: [Float]) -> String? {
    guard actual.count == expected.count else { return "\(actual.count) values, expected \(expected.count)" }
    guard let index = actual.indices.first(where: { actual[$0].bitPattern != expected[$0].bitPattern }) else {
        return nil
    }
    return "value \(index) is \(actual[index]) (0x\(String(actual[index].bitPattern, radix: 16))), expected \(expected[index]) (0x\(String(expected[index].bitPattern, radix: 16)))"
}
