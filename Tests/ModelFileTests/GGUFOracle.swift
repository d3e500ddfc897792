import Foundation
import ModelFile
import Testing
import TestSupport

/// Reads a file of raw little-endian float32 values.
func readFloats(_ url: URL) throws -> [Float] {
    let data = try Data(contentsOf: url)
    return data.withUnsafeBytes { raw in
        (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
    }
}

/// Runs `tools/dev/gguf-oracle.py` (gguf-py, llama.cpp's Python package, as the reference).
///
/// A missing Python or gguf package is a test failure, not a skip: without the oracle the
/// dequantizers would go unchecked, so the message says how to install it.
func runOracle(_ arguments: [String]) throws {
    try runPythonTool("gguf-oracle.py", arguments,
                      installHint: "The GGUF oracle needs python3 with the gguf and numpy packages: python3 -m pip install gguf numpy")
}

/// Runs `body` with the oracle's fixture (see `tools/dev/gguf-oracle.py`), opened, and the directory
/// that holds it and the oracle's `<tensor name>.f32` files.
func withOracleFixture<T>(_ body: (GGUFFile, URL) throws -> T) throws -> T {
    try withTemporaryDirectory { directory in
        try runOracle(["fixture", directory.path])
        return try body(GGUFFile(path: directory.appendingPathComponent("fixture.gguf").path), directory)
    }
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

/// Rows of tensors of the GGUF file at `path`, decoded here and by gguf-py in one oracle run,
/// must agree bit for bit. Each tensor may appear once (the oracle names its outputs after it).
func expectRowsMatchOracle(_ path: String, _ samples: [(name: String, rows: Range<Int>)]) throws {
    let gguf = try GGUFFile(path: path)
    try withTemporaryDirectory { directory in
        try runOracle(["rows", path, directory.path] + samples.map { "\($0.name):\($0.rows.lowerBound):\($0.rows.count)" })
        for (name, rows) in samples {
            let tensor = try #require(gguf.tensor(named: name))
            var actual = [Float](repeating: .nan, count: rows.count * tensor.rowLength)
            try actual.withUnsafeMutableBufferPointer { buffer in
                try gguf.dequantizeRows(tensor, rows: rows, into: buffer.baseAddress!)
            }
            let expected = try readFloats(directory.appendingPathComponent("\(name).f32"))
            #expect(firstBitDifference(actual, expected) == nil, "\(name) rows \(rows)")
        }
    }
}
