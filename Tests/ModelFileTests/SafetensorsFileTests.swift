import TestSupport
import Foundation
import Parallel
import Testing
import ModelFile

/// Writes safetensors files byte by byte, so a test can make exactly the valid or broken file it needs.
///
/// Offsets are computed (tensors back to back, in the order added) unless a tensor gives its
/// own, and the header and its length can be replaced outright, so a file can lie in any way.
struct SafetensorsBuilder {
    struct Tensor {
        var name: String
        var dtype: String
        var shape: [Int]
        /// The bytes placed at the tensor's offset; leave empty to make a tensor whose data is missing.
        var data: [UInt8]
        /// `data_offsets` as written; nil places the tensor after the previous one.
        var offsets: [Int]? = nil
    }

    var tensors: [Tensor] = []
    var metadata: [String: String]? = ["format": "pt"]
    /// Replaces the JSON header that `tensors` and `metadata` would make.
    var header: String? = nil
    /// Replaces the header length that precedes the header.
    var headerLength: UInt64? = nil

    mutating func add(_ name: String, _ dtype: String, shape: [Int], data: [UInt8]) {
        tensors.append(Tensor(name: name, dtype: dtype, shape: shape, data: data))
    }

    /// Two rows of three floats per float type; every value is exact in F16 and BF16.
    static func sample() -> SafetensorsBuilder {
        var builder = SafetensorsBuilder()
        builder.add("f32", "F32", shape: [2, 3], data: sampleValues.flatMap { bytesLE($0.bitPattern) })
        builder.add("f16", "F16", shape: [2, 3], data: sampleValues.flatMap { bytesLE(Float16($0).bitPattern) })
        builder.add("bf16", "BF16", shape: [2, 3], data: sampleValues.flatMap { bytesLE(UInt16($0.bitPattern >> 16)) })
        return builder
    }

    static let sampleValues: [Float] = [1, -2, 0.5, 3.25, -0.0078125, 96]

    /// Each tensor's `data_offsets`: its own, or just after the end the previous one gave.
    func offsets() -> [[Int]] {
        var next = 0
        return tensors.map { tensor in
            let offsets = tensor.offsets ?? [next, next + tensor.data.count]
            next = offsets.last ?? next
            return offsets
        }
    }

    func headerJSON() -> String {
        if let header { return header }
        var object: [String: Any] = [:]
        for (tensor, offsets) in zip(tensors, offsets()) {
            object[tensor.name] = ["dtype": tensor.dtype, "shape": tensor.shape, "data_offsets": offsets]
        }
        if let metadata { object["__metadata__"] = metadata }
        let json = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: json, as: UTF8.self)
    }

    func build() -> [UInt8] {
        var header = Array(headerJSON().utf8)
        header += [UInt8](repeating: UInt8(ascii: " "), count: (8 - header.count % 8) % 8)
        var bytes = bytesLE(headerLength ?? UInt64(header.count)) + header
        let dataStart = bytes.count
        for (tensor, offsets) in zip(tensors, offsets()) where !tensor.data.isEmpty {
            let start = dataStart + offsets[0]
            if bytes.count < start + tensor.data.count {
                bytes += [UInt8](repeating: 0, count: start + tensor.data.count - bytes.count)
            }
            bytes.replaceSubrange(start..<start + tensor.data.count, with: tensor.data)
        }
        return bytes
    }
}

@Suite struct SafetensorsFileTests {
    let pool = ThreadPool(threadCount: 3)

    @Test func parsesTheHeader() throws {
        try withTemporaryFile(SafetensorsBuilder.sample().build()) { path in
            let file = try SafetensorsFile(path: path)
            #expect(file.metadata == ["format": "pt"])
            #expect(file.tensors.map(\.name) == ["f32", "f16", "bf16"], "in file order, whatever the JSON order")
            let f16 = try #require(file.tensor(named: "f16"))
            #expect(f16.dtype == .f16)
            #expect(f16.shape == [2, 3])
            #expect(f16.rowCount == 2)
            #expect(f16.rowLength == 3)
            #expect(f16.offset == file.dataStart + 24)
            #expect(f16.byteCount == 12)
            #expect(Array(file.rawData(of: f16)) == SafetensorsBuilder.sampleValues.flatMap { bytesLE(Float16($0).bitPattern) })
            #expect(file.dataStart % 8 == 0, "the builder pads the header as writers do")
            #expect(file.tensor(named: "missing") == nil)
        }
    }

    @Test(arguments: ["f32", "f16", "bf16"])
    func readsEveryFloatType(_ name: String) throws {
        try withTemporaryFile(SafetensorsBuilder.sample().build()) { path in
            let file = try SafetensorsFile(path: path)
            let tensor = try #require(file.tensor(named: name))
            #expect(try floats(file, tensor) == SafetensorsBuilder.sampleValues)
        }
    }

    /// F16 covers its whole range, subnormals and infinities included; BF16 keeps a float's top half.
    @Test func convertsEdgeValues() throws {
        let halves: [Float16] = [.leastNonzeroMagnitude, -.leastNormalMagnitude, .greatestFiniteMagnitude, -.infinity, 65504, -0.0]
        let brains: [UInt16] = [0x7F80, 0xFF7F, 0x0001, 0x3F81, 0x8000]
        var builder = SafetensorsBuilder()
        builder.add("halves", "F16", shape: [halves.count], data: halves.flatMap { bytesLE($0.bitPattern) })
        builder.add("brains", "BF16", shape: [brains.count], data: brains.flatMap { bytesLE($0) })
        try withTemporaryFile(builder.build()) { path in
            let file = try SafetensorsFile(path: path)
            let expectedHalves = halves.map(Float.init)
            #expect(firstBitDifference(try floats(file, #require(file.tensor(named: "halves"))), expectedHalves) == nil)
            let expectedBrains = brains.map { Float(bitPattern: UInt32($0) << 16) }
            #expect(firstBitDifference(try floats(file, #require(file.tensor(named: "brains"))), expectedBrains) == nil)
        }
    }

    /// Output row r comes from stored row sourceRow(r); the rows themselves are unchanged.
    @Test func readsRowsInAGivenOrder() throws {
        var builder = SafetensorsBuilder()
        let values = (0..<12).map(Float.init)
        builder.add("m", "F32", shape: [4, 3], data: values.flatMap { bytesLE($0.bitPattern) })
        try withTemporaryFile(builder.build()) { path in
            let file = try SafetensorsFile(path: path)
            let tensor = try #require(file.tensor(named: "m"))
            let order = [2, 0, 3, 1]
            #expect(try floats(file, tensor) { order[$0] } == [6, 7, 8, 0, 1, 2, 9, 10, 11, 3, 4, 5])
        }
    }

    /// Types other than the float ones parse, so that their neighbours can be read, but don't convert.
    @Test func otherTypesParseButDoNotConvert() throws {
        var builder = SafetensorsBuilder()
        builder.add("ids", "I64", shape: [1, 2], data: bytesLE(Int64(7)) + bytesLE(Int64(-1)))
        builder.add("flags", "BOOL", shape: [3], data: [1, 0, 1])
        builder.add("scalar", "F32", shape: [], data: bytesLE(Float(2.5).bitPattern))
        builder.add("empty", "F16", shape: [0, 4], data: [])
        builder.metadata = nil
        try withTemporaryFile(builder.build()) { path in
            let file = try SafetensorsFile(path: path)
            #expect(file.metadata.isEmpty)
            let ids = try #require(file.tensor(named: "ids"))
            #expect(ids.dtype == .i64 && ids.byteCount == 16)
            #expect(!SafetensorsDType.i64.canReadAsFloats)
            let error = #expect(throws: SafetensorsError.self) { try floats(file, ids) }
            #expect(error?.problem == .cannotReadAsFloats(tensor: "ids", dtype: .i64))
            #expect(error?.description == "\(path): tensor 'ids' has dtype I64; only F32, F16 and BF16 can be read as floats")
            #expect(try floats(file, #require(file.tensor(named: "scalar"))) == [2.5], "a scalar is one element")
            let empty = try #require(file.tensor(named: "empty"))
            #expect(empty.elementCount == 0 && empty.byteCount == 0)
            #expect(try floats(file, empty) == [])
        }
    }

    @Test func everyDTypeHasTheSpecifiedSize() {
        let sizes = Dictionary(uniqueKeysWithValues: SafetensorsDType.allCases.map { ($0.rawValue, $0.byteSize) })
        #expect(sizes == ["BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "F8_E4M3FNUZ": 1, "F8_E5M2FNUZ": 1,
                          "F8_E8M0": 1, "U16": 2, "I16": 2, "F16": 2, "BF16": 2, "U32": 4, "I32": 4, "F32": 4,
                          "U64": 8, "I64": 8, "F64": 8, "C64": 8])
        #expect(SafetensorsDType.allCases.filter(\.canReadAsFloats) == [.f16, .bf16, .f32])
    }

    private func floats(_ file: SafetensorsFile, _ tensor: SafetensorsTensor, sourceRow: (Int) -> Int = { $0 }) throws -> [Float] {
        // One spare element gives an empty tensor a destination to point at.
        var values = [Float](repeating: .nan, count: tensor.elementCount + 1)
        try values.withUnsafeMutableBufferPointer { buffer in
            try file.readFloats(tensor, into: buffer.baseAddress!, pool: pool, sourceRow: sourceRow)
        }
        #expect(values.last!.isNaN, "nothing written past the tensor")
        return Array(values.dropLast())
    }
}
