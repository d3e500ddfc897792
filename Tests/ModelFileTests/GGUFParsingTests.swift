import TestSupport
import Foundation
import Testing
import ModelFile

/// Parsing valid files: the oracle's fixture (written by gguf-py) and hand-built ones.
@Suite struct GGUFParsingTests {
    @Test(.needs(.pythonOracle)) func metadataOfEveryValueType() throws {
        try withOracleFixture { gguf, _ in
            // The same values tools/dev/gguf-oracle.py writes, with the types it writes them as.
            let expected: [(String, GGUFValue)] = [
                ("general.architecture", .string("oracle")),
                ("general.alignment", .uint32(64)),
                ("test.uint8", .uint8(255)),
                ("test.int8", .int8(-128)),
                ("test.uint16", .uint16(65535)),
                ("test.int16", .int16(-32768)),
                ("test.uint32", .uint32(4_294_967_295)),
                ("test.int32", .int32(-2_147_483_648)),
                ("test.uint64", .uint64(.max)),
                ("test.int64", .int64(.min)),
                ("test.float32", .float32(-0.15625)),
                ("test.float64", .float64(1e300)),
                ("test.true", .bool(true)),
                ("test.false", .bool(false)),
                ("test.string", .string("héllo, wörld ✓")),
                ("test.empty_string", .string("")),
                ("test.uint8s", .array([.uint8(0), .uint8(1), .uint8(255)])),
                ("test.int32s", .array([.int32(1), .int32(-2), .int32(3)])),
                ("test.int64s", .array([.int64(-1), .int64(1 << 40)])),
                ("test.float32s", .array([.float32(0.5), .float32(-1.25)])),
                ("test.float64s", .array([.float64(0.1), .float64(-2.5)])),
                ("test.bools", .array([.bool(true), .bool(false)])),
                ("test.strings", .array([.string("a"), .string(""), .string("ü")])),
                ("test.nested", .array([.array([.int32(1), .int32(2)]), .array([.int32(3)])])),
            ]
            #expect(gguf.version == 3)
            #expect(gguf.metadataKeys == expected.map(\.0))
            #expect(gguf.metadata.count == expected.count)
            for (key, value) in expected {
                #expect(gguf.metadata[key] == value, "\(key)")
            }
        }
    }

    @Test(.needs(.pythonOracle)) func typedMetadataHelpersConvertCompatibleTypes() throws {
        try withOracleFixture { gguf, _ in
            #expect(gguf.string("general.architecture") == "oracle")
            #expect(gguf.int("test.uint8") == 255)
            #expect(gguf.int("test.int64") == Int.min)
            #expect(gguf.int("test.uint64") == nil, "UInt64.max does not fit in Int")
            #expect(gguf.float("test.float32") == -0.15625)
            #expect(gguf.float("test.float64") == .infinity, "1e300 rounds to Float infinity")
            #expect(gguf.bool("test.true") == true)
            #expect(gguf.bool("test.false") == false)
            #expect(gguf.stringArray("test.strings") == ["a", "", "ü"])
            #expect(gguf.intArray("test.uint8s") == [0, 1, 255])
            #expect(gguf.intArray("test.int64s") == [-1, 1 << 40])
            #expect(gguf.floatArray("test.float32s") == [0.5, -1.25])
            // Wrong kinds and missing keys are nil, not a crash or a coercion.
            #expect(gguf.string("test.uint8") == nil)
            #expect(gguf.int("test.string") == nil)
            #expect(gguf.stringArray("test.int32s") == nil)
            #expect(gguf.int("no.such.key") == nil)
        }
    }

    @Test(.needs(.pythonOracle)) func tensorDirectoryHonoursCustomAlignment() throws {
        try withOracleFixture { gguf, _ in
            #expect(gguf.alignment == 64)
            #expect(gguf.dataStart % 64 == 0)
            let types: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]
            #expect(gguf.tensors.map(\.name) == types.map { "t.\($0.name.lowercased())" } + ["t.f32_3d"])
            for tensor in gguf.tensors {
                #expect((tensor.offset - gguf.dataStart) % 64 == 0, "\(tensor.name)")
                #expect(tensor.byteCount == tensor.rowCount * tensor.bytesPerRow)
                #expect(gguf.rawData(of: tensor).count == tensor.byteCount)
            }
            let q4K = try #require(gguf.tensor(named: "t.q4_k"))
            #expect(q4K.type == .q4_K)
            #expect(q4K.dims == [512, 3])
            #expect(q4K.byteCount == 3 * 2 * 144)
            let cube = try #require(gguf.tensor(named: "t.f32_3d"))
            #expect(cube.dims == [4, 3, 2])
            #expect(cube.elementCount == 24)
            #expect(cube.rowCount == 6)
            #expect(gguf.tensor(named: "missing") == nil)
        }
    }

    /// Version 2 has the same layout as 3 (3 only added big-endian files).
    @Test func version2ParsesLikeVersion3() throws {
        var builder = GGUFBuilder.sample()
        builder.version = 2
        try withTemporaryFile(builder.build()) { path in
            let gguf = try GGUFFile(path: path)
            #expect(gguf.version == 2)
            #expect(gguf.tensors.map(\.name) == ["a", "b"])
            #expect(gguf.stringArray("tokenizer.ggml.tokens") == ["a", "bc"])
        }
    }

    @Test func handBuiltSampleParses() throws {
        try withTemporaryFile(GGUFBuilder.sample().build()) { path in
            let gguf = try GGUFFile(path: path)
            #expect(gguf.alignment == 32)
            #expect(gguf.int("llama.block_count") == 2)
            let a = try #require(gguf.tensor(named: "a"))
            #expect(a.offset == gguf.dataStart)
            #expect(try gguf.dequantize(a) == [1, -2, 0.5, 3, 0, -0.25, 8, 1e-3])
        }
    }

    @Test func emptyTensorsParseAndDequantize() throws {
        var builder = GGUFBuilder.sample()
        builder.tensors.append(.init(name: "empty", dims: [0, 3], type: GGMLType.q4_0.rawValue, data: [], offset: 0))
        try withTemporaryFile(builder.build()) { path in
            let gguf = try GGUFFile(path: path)
            let empty = try #require(gguf.tensor(named: "empty"))
            #expect(empty.elementCount == 0 && empty.rowCount == 0 && empty.byteCount == 0)
            #expect(gguf.rawData(of: empty).isEmpty)
            #expect(try gguf.dequantize(empty).isEmpty)
        }
    }

    @Test func valueDescriptionsAreReadable() {
        #expect(GGUFValue.string("hi").description == "\"hi\"")
        #expect(GGUFValue.array([.int32(1), .int32(2)]).description == "[1, 2]")
        let long = GGUFValue.array((0..<100).map { .uint8(UInt8($0)) })
        #expect(long.description == "[0, 1, 2, 3, … (100 items)]")
    }

    @Test func typeNamesAndSizesMatchGGML() {
        #expect(GGMLType.q4_K.name == "Q4_K")
        #expect(GGMLType.iq2_xxs.name == "IQ2_XXS")
        #expect(GGMLType.q4_1.blockSize == 32 && GGMLType.q4_1.bytesPerBlock == 20)
        #expect(GGMLType.q6_K.blockSize == 256 && GGMLType.q6_K.bytesPerBlock == 210)
        #expect(GGMLType.q8_0.canDequantize)
        #expect(!GGMLType.iq2_xxs.canDequantize)
    }
}
