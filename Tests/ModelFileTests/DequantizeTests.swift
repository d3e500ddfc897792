import TestSupport
import Foundation
import Testing
import ModelFile

/// Dequantization checked against gguf-py, the reference implementation's Python port.
///
/// The comparison is bit for bit: each decoder does the same `Float` operations in the same
/// order as ggml and gguf-py (scale × quant, then ± offset; f16 and bf16 widen exactly), and
/// nothing here is fused or reassociated, so any difference at all is a bug.
@Suite struct DequantizeTests {
    @Test(.needs(.pythonOracle)) func everyTypeMatchesTheOracle() throws {
        try withOracleFixture { gguf, directory in
            #expect(gguf.tensors.count == 14)
            for tensor in gguf.tensors {
                let expected = try readFloats(directory.appendingPathComponent("\(tensor.name).f32"))
                let actual = try gguf.dequantize(tensor)
                #expect(firstBitDifference(actual, expected) == nil, "\(tensor.name) (\(tensor.type.name))")
            }
        }
    }

    @Test(.needs(.pythonOracle)) func rowRangesMatchTheWholeTensor() throws {
        try withOracleFixture { gguf, _ in
            for tensor in gguf.tensors {
                let whole = try gguf.dequantize(tensor)
                for rows in [0..<1, 1..<3, 2..<3, 1..<1] {
                    var part = [Float](repeating: .nan, count: rows.count * tensor.rowLength)
                    try part.withUnsafeMutableBufferPointer { buffer in
                        try gguf.dequantizeRows(tensor, rows: rows, into: buffer.baseAddress!)
                    }
                    let slice = Array(whole[rows.lowerBound * tensor.rowLength..<rows.upperBound * tensor.rowLength])
                    #expect(firstBitDifference(part, slice) == nil, "\(tensor.name) rows \(rows)")
                }
            }
        }
    }

    @Test func rowsOutOfRangeThrow() throws {
        try withTemporaryFile(GGUFBuilder.sample().build()) { path in
            let gguf = try GGUFFile(path: path)
            let tensor = try #require(gguf.tensor(named: "b"))
            var buffer = [Float](repeating: 0, count: 3 * 32)
            for rows in [1..<3, -1..<1] {
                let error = #expect(throws: GGUFError.self) {
                    try buffer.withUnsafeMutableBufferPointer { try gguf.dequantizeRows(tensor, rows: rows, into: $0.baseAddress!) }
                }
                #expect(error?.description.contains("out of range for tensor 'b', which has 2 rows") == true)
            }
        }
    }

    @Test func typesWithoutADecoderThrow() throws {
        var builder = GGUFBuilder.sample()
        builder.tensors.append(.init(name: "iq", dims: [256], type: GGMLType.iq2_xxs.rawValue, data: .init(repeating: 0, count: 66)))
        try withTemporaryFile(builder.build()) { path in
            let gguf = try GGUFFile(path: path)
            let tensor = try #require(gguf.tensor(named: "iq"))
            #expect(gguf.rawData(of: tensor).count == 66)
            let error = #expect(throws: GGUFError.self) { try gguf.dequantize(tensor) }
            #expect(error?.description == "tensor 'iq' has type IQ2_XXS, which this build cannot dequantize")
        }
    }

    /// Hand-computed Q4_1 and Q8_0 blocks, so that a wrong layout can't hide behind the oracle's.
    @Test func handDecodedBlocks() throws {
        let q8 = try withTemporaryFile(GGUFBuilder.sample().build()) { path in
            let gguf = try GGUFFile(path: path)
            return try gguf.dequantize(#require(gguf.tensor(named: "b")))
        }
        // Q8_0 in the sample: d = 0.5, q[j] = 7j - 100 as a signed byte.
        let expected8 = (0..<32).map { (j: Int) -> Float in Float(Int8(truncatingIfNeeded: j * 7 - 100)) * 0.5 }
        #expect(q8 == expected8 + expected8)

        // Q4_1: d = 2, m = -1, byte j = (15 - j % 16) << 4 | j % 16: low nibbles give elements 0-15.
        var builder = GGUFBuilder()
        let nibbles = (0..<16).map { UInt8($0) | UInt8(15 - $0) << 4 }
        let block: [UInt8] = bytesLE(Float16(2).bitPattern) + bytesLE(Float16(-1).bitPattern) + nibbles
        builder.tensors.append(.init(name: "q", dims: [32], type: GGMLType.q4_1.rawValue, data: block))
        let q4 = try withTemporaryFile(builder.build()) { path in
            let gguf = try GGUFFile(path: path)
            return try gguf.dequantize(#require(gguf.tensor(named: "q")))
        }
        let low = (0..<16).map { (j: Int) -> Float in Float(j) * 2 - 1 }
        let high = (0..<16).map { (j: Int) -> Float in Float(15 - j) * 2 - 1 }
        #expect(q4 == low + high)
    }
}
