import CLUTKernels
import Foundation
import HLQ
import ModelFile
import Testing
import TestSupport

/// A small `.hlq` file with one tensor of every type, each shaped to need padding somewhere.
enum HLQFileSample {
    static let metadata = HLQFileMetadata(
        config: ModelConfig(
            architecture: "llama", name: "tiny", layers: 1, embeddingSize: 16, feedForwardSize: 32, heads: 2, kvHeads: 1,
            headSize: 8, vocabularySize: 4, contextLength: 128, ropeTheta: 100_000, ropeStyle: .interleaved,
            ropeScaling: RopeScaling(kind: "llama3", factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalContextLength: 8192),
            normEpsilon: 1e-5, tiedEmbeddings: true, attentionBias: false),
        tokenizer: TokenizerSpec(
            tokens: ["<|endoftext|>", "Ġthe", "\"quoted\"/slash\\", "é\u{0}\n"], merges: ["Ġ t", "h e"], tokenTypes: [3, 1, 1, 1],
            preTokenizer: "smollm", bosID: nil, eosID: 0, addBOS: false,
            chatTemplate: "{% for m in messages %}{{ m['content'] }}{% endfor %}"),
        recipe: QuantizationRecipe(
            method: .hlq, bits: 2, groupSize: 64, overrides: ["attn_v": .hlq(bits: 3, groupSize: 64), "ffn_down": .q8],
            embedding: .q8, output: nil, calibration: "none (data-free)", averageBitsPerWeight: 2.53),
        sourceSHA256: String(repeating: "0123456789abcdef", count: 4), creator: "elutq tests",
        // ISO 8601 keeps whole seconds, so the date round-trips exactly only if it has no fraction.
        created: Date(timeIntervalSince1970: 1_750_000_000))

    /// What the sample's tensors hold, by name.
    struct Contents {
        var vector: [Float]
        var cube: [Float]
        var halves: [Float16]
        var q8Weights: [Int8]
        var q8Scales: [Float]
        var packed: PackedMatrix
    }

    static func contents(seed: UInt64 = 1) -> Contents {
        var random = SeededRandom(seed: seed)
        // 40 rows and 200 columns: a partial row block and padded columns in the packed layout.
        var quantized = QuantizedMatrix(rows: 40, cols: 200, planes: 2, groupSize: 64)
        quantized.patterns = (0..<quantized.patterns.count).map { _ in UInt8.random(in: 0..<4, using: &random) }
        quantized.scales = (0..<quantized.scales.count).map { _ in Float16(Float.random(in: 0.001..<0.1, using: &random)) }
        quantized.midpoints = (0..<quantized.midpoints.count).map { _ in Float16(random.normal() * 0.01) }
        return Contents(
            vector: random.weights(10),
            cube: random.weights(24),
            halves: random.weights(21).map(Float16.init),
            // 5 rows of 13: 65 bytes, so the scales start after 63 bytes of padding.
            q8Weights: (0..<65).map { _ in Int8.random(in: -127...127, using: &random) },
            q8Scales: (0..<5).map { _ in Float.random(in: 0.001..<0.01, using: &random) },
            packed: PackedMatrix(quantized))
    }

    /// Writes the sample to `path` through `HLQFileWriter`.
    static func write(_ contents: Contents, to path: String) throws {
        let writer = try HLQFileWriter(destination: path)
        try contents.vector.withUnsafeBytes { try writer.append(name: "output_norm.weight", type: .f32, shape: [10], parts: [$0]) }
        try contents.cube.withUnsafeBytes { try writer.append(name: "cube", type: .f32, shape: [2, 3, 4], parts: [$0]) }
        try writer.append(name: "empty", type: .f32, shape: [0, 4], parts: [UnsafeRawBufferPointer(start: nil, count: 0)])
        try contents.halves.withUnsafeBytes { try writer.append(name: "halves", type: .f16, shape: [7, 3], parts: [$0]) }
        try contents.q8Weights.withUnsafeBytes { weights in
            try contents.q8Scales.withUnsafeBytes { scales in
                try writer.append(name: "token_embd.weight", type: .q8, shape: [13, 5], parts: [weights, scales])
            }
        }
        let packed = contents.packed
        try packed.bits.withUnsafeBytes { bits in
            try packed.params.withUnsafeBytes { params in
                try writer.append(name: "blk.0.attn_q.weight", type: .hlq(bits: packed.planes, groupSize: packed.groupSize),
                                  shape: [packed.cols, packed.rows], parts: [bits, params])
            }
        }
        try writer.finish(metadata: metadata)
    }

    /// The sample file's bytes.
    static func bytes() throws -> [UInt8] {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("sample.hlq").path
            try write(contents(), to: path)
            return try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        }
    }
}

/// Writing and reading back: every tensor type, the metadata, and data used in place.
@Suite struct HLQFileTests {
    @Test func everyTensorTypeRoundTrips() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("model.hlq").path
            let contents = HLQFileSample.contents()
            try HLQFileSample.write(contents, to: path)
            let file = try HLQFile(path: path)

            #expect(file.metadata == HLQFileSample.metadata)
            #expect(file.fileSize == (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int))
            #expect(file.tensors.map(\.name) == ["output_norm.weight", "cube", "empty", "halves", "token_embd.weight", "blk.0.attn_q.weight"])
            #expect(file.tensor(named: "missing") == nil)

            let vector = try #require(file.tensor(named: "output_norm.weight"))
            #expect(vector.type == .f32 && vector.shape == [10] && vector.cols == 10 && vector.rows == 1)
            #expect(Array(file.floats(of: vector)) == contents.vector)
            let cube = try #require(file.tensor(named: "cube"))
            #expect(cube.rows == 12)
            #expect(Array(file.floats(of: cube)) == contents.cube)
            let empty = try #require(file.tensor(named: "empty"))
            #expect(empty.byteCount == 0 && file.floats(of: empty).isEmpty)
            #expect(Array(file.halves(of: try #require(file.tensor(named: "halves")))) == contents.halves)

            let q8 = try #require(file.tensor(named: "token_embd.weight"))
            let (weights, scales) = file.q8Parts(of: q8)
            #expect(Array(weights) == contents.q8Weights)
            #expect(Array(scales) == contents.q8Scales)
            #expect(q8.byteCount == 128 + 5 * 4, "the scales start at the next multiple of 64")

            let matrix = try #require(file.tensor(named: "blk.0.attn_q.weight"))
            #expect(matrix.type == .hlq(bits: 2, groupSize: 64))
            #expect(matrix.shape == [200, 40] && matrix.cols == 200 && matrix.rows == 40)
            let (bits, params) = file.hlqParts(of: matrix)
            #expect(Array(bits) == contents.packed.bits)
            #expect(Array(params.bindMemory(to: UInt16.self)) == contents.packed.params)
            #expect(bits.count == Int(elutq_bits_bytes(40, 200, 2)))
            #expect(params.count == 2 * Int(elutq_params_count(40, 200, 2, 64)))
            #expect(bits.baseAddress! + bits.count == params.baseAddress!, "bits fill whole 64-byte lines, so params follow directly")

            try file.verify()
        }
    }

    @Test func dataIsUsedInPlaceAndAligned() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("model.hlq").path
            try HLQFileSample.write(HLQFileSample.contents(), to: path)
            let file = try HLQFile(path: path)
            let base = try #require(file.file.bytes.baseAddress)
            for tensor in file.tensors {
                let data = file.data(of: tensor)
                #expect(data.baseAddress == base + tensor.offset, "\(tensor.name) is not a copy")
                #expect(data.count == tensor.byteCount)
                #expect(tensor.offset % 64 == 0, "\(tensor.name)")
            }
            let (_, scales) = file.q8Parts(of: try #require(file.tensor(named: "token_embd.weight")))
            #expect(Int(bitPattern: scales.baseAddress) % 64 == 0)
            let (bits, params) = file.hlqParts(of: try #require(file.tensor(named: "blk.0.attn_q.weight")))
            #expect(Int(bitPattern: bits.baseAddress) % 64 == 0 && Int(bitPattern: params.baseAddress) % 64 == 0)
        }
    }

    @Test func verifyReportsProgressUpToTheTotal() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("model.hlq").path
            try HLQFileSample.write(HLQFileSample.contents(), to: path)
            let file = try HLQFile(path: path)
            var reports: [(Int, Int)] = []
            try file.verify { reports.append(($0, $1)) }
            let total = file.tensors.map(\.byteCount).reduce(0, +)
            #expect(reports.count == file.tensors.count)
            #expect(reports.allSatisfy { $0.1 == total })
            #expect(reports.last?.0 == total)
        }
    }

    /// The same tensors and metadata give the same bytes: nothing depends on time or memory layout.
    @Test func writingIsDeterministic() throws {
        #expect(try HLQFileSample.bytes() == HLQFileSample.bytes())
    }

    /// The real model's tokenizer and config: 49152 tokens of every odd byte sequence, through JSON and back.
    @Test(.needs(.realModel)) func realModelMetadataRoundTrips() throws {
        let source = try GGUFModelSource(path: realModelPath())
        var metadata = HLQFileSample.metadata
        metadata.config = source.config
        metadata.tokenizer = source.tokenizer
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("model.hlq").path
            let writer = try HLQFileWriter(destination: path)
            try [Float](repeating: 1, count: 576).withUnsafeBytes {
                try writer.append(name: "output_norm.weight", type: .f32, shape: [576], parts: [$0])
            }
            try writer.finish(metadata: metadata)
            let file = try HLQFile(path: path)
            #expect(file.metadata.config == source.config)
            #expect(file.metadata.tokenizer == source.tokenizer)
            #expect(file.metadata.tokenizer.tokens.count == 49152)
        }
    }
}
