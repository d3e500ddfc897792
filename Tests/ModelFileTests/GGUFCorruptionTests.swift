import TestSupport
import Foundation
import Testing
import ModelFile

/// Broken and hostile files: each must end in a `GGUFError` that says what is wrong, never a crash.
@Suite struct GGUFCorruptionTests {
    /// Parses `bytes` and returns the `GGUFError` it must throw (recording an issue if it throws none).
    private func parseError(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> GGUFError? {
        try withTemporaryFile(bytes) { path in
            #expect(throws: GGUFError.self, sourceLocation: sourceLocation) { try GGUFFile(path: path) }
        }
    }

    private func expectError(
        _ bytes: [UInt8], _ expected: GGUFError, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(try parseError(bytes, sourceLocation: sourceLocation) == expected, sourceLocation: sourceLocation)
    }

    private func expectError(
        _ bytes: [UInt8], mentioning text: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let error = try parseError(bytes, sourceLocation: sourceLocation)
        #expect(error?.description.contains(text) == true, "\(error.map(String.init(describing:)) ?? "no error")", sourceLocation: sourceLocation)
    }

    /// Where `needle` first appears in `bytes`.
    private func offset(of needle: [UInt8], in bytes: [UInt8]) throws -> Int {
        try #require(bytes.indices.first { bytes[$0...].starts(with: needle) })
    }

    // MARK: Truncation

    @Test func truncationAtEveryLengthThrows() throws {
        let bytes = GGUFBuilder.sample().build()
        for length in 1..<bytes.count {
            let error = try parseError(Array(bytes.prefix(length)))
            #expect(error != nil, "cut at \(length)")
        }
    }

    /// A cut says what it interrupted. Counts are checked against the bytes left before the
    /// records they count are read, so early cuts show up as implausible counts.
    @Test func truncationNamesWhatWasBeingRead() throws {
        let bytes = GGUFBuilder.sample().build()
        let tensorB = try offset(of: ggufString("b") + bytesLE(UInt32(2)), in: bytes)
        let cuts: [(Int, String)] = [
            (2, "file truncated: the magic number needs 4 bytes at offset 0, but the file has 2"),
            (6, "the version needs 4 bytes at offset 4"),
            (12, "the tensor count needs 8 bytes at offset 8"),
            (20, "the metadata count needs 8 bytes at offset 16"),
            (30, "the metadata count claims 3 entries, more than the remaining 6 bytes can hold: the file is truncated or corrupt"),
            (try offset(of: ggufString("llama.block_count"), in: bytes) + 31, "value of metadata key 'llama.block_count' needs 4 bytes"),
            (try offset(of: ggufString("bc"), in: bytes) + 9, "value of metadata key 'tokenizer.ggml.tokens' claims a string of 2 bytes, but only 1 bytes remain"),
            (tensorB - 20, "the tensor count claims 2 entries"),
            (tensorB + 25, "dimensions of tensor 'b' needs 8 bytes"),
            (tensorB + 43, "the padding before the tensor data needs 8 bytes at offset 248"),
            (bytes.count - 1, "tensor 'b' (68 bytes at data offset 32) runs past the end of the 99-byte data section"),
        ]
        for (length, message) in cuts {
            try expectError(Array(bytes.prefix(length)), mentioning: message)
        }
    }

    // MARK: Header

    @Test func badMagic() throws {
        var builder = GGUFBuilder.sample()
        builder.magic = Array("GGML".utf8)
        try expectError(builder.build(), .badMagic(found: [0x47, 0x47, 0x4D, 0x4C]))
        try expectError(builder.build(), mentioning: "not a GGUF file: it starts with bytes [47 47 4D 4C] instead of \"GGUF\"")
    }

    @Test(arguments: [
        (UInt32(1), "GGUF version 1 is not supported (it used 32-bit counts)"),
        (99, "GGUF version 99 is not supported; only versions 2 and 3 are"),
        (0, "GGUF version 0 is not supported"),
        (0x0300_0000, "big-endian GGUF files are not supported"),
    ])
    func unsupportedVersions(version: UInt32, message: String) throws {
        var builder = GGUFBuilder.sample()
        builder.version = version
        try expectError(builder.build(), mentioning: message)
    }

    @Test func absurdCountsAreRejectedBeforeAllocating() throws {
        var bytes = GGUFBuilder.sample().build()
        bytes.replaceSubrange(8..<16, with: bytesLE(UInt64.max))
        try expectError(bytes, mentioning: "the tensor count claims 18446744073709551615 entries, more than the remaining")

        bytes = GGUFBuilder.sample().build()
        bytes.replaceSubrange(16..<24, with: bytesLE(UInt64(1) << 40))
        try expectError(bytes, mentioning: "the metadata count claims 1099511627776 entries")

        var builder = GGUFBuilder()
        builder.add("huge", type: 9, payload: bytesLE(UInt32(0)) + bytesLE(UInt64.max))
        try expectError(builder.build(), mentioning: "length of array 'huge' claims 18446744073709551615 entries")
    }

    // MARK: Metadata

    @Test func hugeStringLengths() throws {
        var builder = GGUFBuilder()
        builder.add("name", type: 8, payload: bytesLE(UInt64.max) + Array("x".utf8))
        try expectError(builder.build(), mentioning: "value of metadata key 'name' claims a string of 18446744073709551615 bytes")

        var bytes = GGUFBuilder.sample().build()
        bytes.replaceSubrange(24..<32, with: bytesLE(UInt64(1) << 40))
        try expectError(bytes, mentioning: "key of metadata entry 0 claims a string of 1099511627776 bytes")
    }

    @Test func unknownValueTypes() throws {
        var builder = GGUFBuilder()
        builder.add("strange", type: 13, payload: [0])
        try expectError(builder.build(), .unknownValueType(what: "metadata key 'strange'", rawType: 13))

        builder = GGUFBuilder()
        builder.add("strange.array", type: 9, payload: bytesLE(UInt32(77)) + bytesLE(UInt64(1)) + [0])
        try expectError(builder.build(), mentioning: "array 'strange.array' has unknown metadata value type 77")
    }

    @Test func invalidBool() throws {
        var builder = GGUFBuilder()
        builder.add("flag", type: 7, payload: [2])
        try expectError(builder.build(), mentioning: "metadata key 'flag' is a bool stored as 2")
    }

    @Test func arraysNestedTooDeep() throws {
        var payload: [UInt8] = bytesLE(UInt32(5)) + bytesLE(UInt64(1)) + bytesLE(Int32(7))
        for _ in 0..<9 {
            payload = bytesLE(UInt32(9)) + bytesLE(UInt64(1)) + payload
        }
        var builder = GGUFBuilder()
        builder.add("deep", type: 9, payload: payload)
        try expectError(builder.build(), .arraysNestedTooDeep(key: "deep", limit: 8))
    }

    @Test func duplicateKey() throws {
        var builder = GGUFBuilder.sample()
        builder.add("llama.block_count", uint32: 3)
        try expectError(builder.build(), mentioning: "metadata key 'llama.block_count' appears more than once")
    }

    @Test(arguments: [GGUFValue.uint32(48), .uint32(0), .string("64")])
    func invalidAlignment(value: GGUFValue) throws {
        var builder = GGUFBuilder.sample()
        switch value {
        case let .uint32(alignment): builder.add("general.alignment", uint32: alignment)
        case let .string(text): builder.add("general.alignment", string: text)
        default: Issue.record("unexpected argument")
        }
        try expectError(builder.build(), mentioning: "general.alignment must be a positive power of two, but it is \(value)")
    }

    // MARK: Tensor directory

    @Test func tensorOffsetPastTheEnd() throws {
        var builder = GGUFBuilder.sample()
        builder.tensors[1].offset = 1 << 40
        builder.tensors[1].data = []
        try expectError(builder.build(), mentioning: "tensor 'b' (68 bytes at data offset 1099511627776) runs past the end of the 32-byte data section")

        builder.tensors[1].offset = UInt64.max - 31
        try expectError(builder.build(), mentioning: "tensor 'b' (68 bytes at data offset 18446744073709551584) runs past the end")
    }

    @Test func misalignedTensor() throws {
        var builder = GGUFBuilder.sample()
        builder.tensors[1].offset = 36
        try expectError(builder.build(), .misalignedTensor(tensor: "b", offset: 36, alignment: 32))
    }

    @Test func unknownTensorTypes() throws {
        for rawType: UInt32 in [4, 31, 99] {  // 4 and 31 are types ggml has removed
            var builder = GGUFBuilder.sample()
            builder.tensors[0].type = rawType
            try expectError(builder.build(), .unknownTensorType(tensor: "a", rawType: rawType))
        }
    }

    @Test func invalidShapes() throws {
        for dims: [UInt64] in [[], [1, 1, 1, 1, 1]] {
            var builder = GGUFBuilder.sample()
            builder.tensors[0].dims = dims
            try expectError(builder.build(), mentioning: "tensor 'a' has \(dims.count) dimensions; GGUF allows 1 to 4")
        }
        var builder = GGUFBuilder.sample()
        builder.tensors[0].dims = [1 << 40, 1 << 40]
        try expectError(builder.build(), mentioning: "tensor 'a' has dimensions [1099511627776, 1099511627776], whose size overflows a 64-bit integer")
        builder.tensors[0].dims = [UInt64.max]
        try expectError(builder.build(), mentioning: "tensor 'a' has dimensions [18446744073709551615]")

        builder = GGUFBuilder.sample()
        builder.tensors[1].dims = [48, 1]
        try expectError(builder.build(), mentioning: "tensor 'b' has rows of 48 elements, not a multiple of the Q8_0 block size 32")
    }

    @Test func duplicateTensor() throws {
        var builder = GGUFBuilder.sample()
        builder.tensors[1].name = "a"
        try expectError(builder.build(), .duplicateTensor("a"))
    }

    // MARK: Fuzzing

    /// Random byte changes anywhere in a valid file: parsing and dequantizing must either work or throw.
    @Test func randomCorruptionNeverCrashes() throws {
        var builder = GGUFBuilder.sample()
        builder.tensors.append(.init(name: "k", dims: [256], type: GGMLType.q4_K.rawValue, data: .init(repeating: 1, count: 144)))
        let original = builder.build()
        var random = SeededRandom(seed: 42)
        var rejected = 0
        for _ in 0..<2000 {
            var bytes = original
            for _ in 0..<1 + Int(random.next() % 4) {
                let index = Int(random.next() % UInt64(bytes.count))
                bytes[index] = UInt8(truncatingIfNeeded: random.next())
            }
            try withTemporaryFile(bytes) { path in
                do {
                    let gguf = try GGUFFile(path: path)
                    for tensor in gguf.tensors where tensor.type.canDequantize {
                        _ = try gguf.dequantize(tensor)
                    }
                } catch is GGUFError {
                    rejected += 1
                }
            }
        }
        // Most changes land in the header or directory, so many must have been caught.
        #expect(rejected > 200)
    }
}
