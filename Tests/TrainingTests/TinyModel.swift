import Foundation
import HLQ
import ModelFile
import Parallel
import TestSupport

/// A small random llama-style model written twice: in float (the finetuning source) and with its
/// linear layers quantized to 2-bit HLQ (the model to finetune), with a byte-level tokenizer of
/// 256 tokens so any text works as calibration data. With `headBits`, the head is a tensor of its
/// own (with weights as small as the blocks', so perplexity stays in a range where float rounding
/// does not show), stored as HLQ at that many bits in the quantized file, as `quantize` stores an
/// untied head.
struct TinyModel {
    let directory: URL
    var source: String { directory.appendingPathComponent("float.hlq").path }
    var quantized: String { directory.appendingPathComponent("quantized.hlq").path }

    static let config = ModelConfig(
        architecture: "llama", name: "tiny", layers: 3, embeddingSize: 64, feedForwardSize: 96, heads: 4, kvHeads: 2,
        headSize: 16, vocabularySize: 256, contextLength: 256, ropeTheta: 10000, ropeStyle: .interleaved,
        ropeScaling: nil, normEpsilon: 1e-5, tiedEmbeddings: true, attentionBias: false)

    /// The 256 single-byte tokens of byte-level BPE (GPT-2's byte-to-character map), no merges.
    static var tokenizer: TokenizerSpec {
        let printable = Array(33...126) + Array(161...172) + Array(174...255)
        var next = 256
        let tokens = (0..<256).map { byte -> String in
            if printable.contains(byte) { return String(UnicodeScalar(UInt8(byte))) }
            defer { next += 1 }
            return String(UnicodeScalar(UInt16(next))!)
        }
        return TokenizerSpec(tokens: tokens, merges: [], tokenTypes: [Int32](repeating: 1, count: 256), preTokenizer: "gpt2",
                             bosID: nil, eosID: nil, addBOS: false, chatTemplate: nil)
    }

    /// Writes both files into `directory`.
    init(in directory: URL, seed: UInt64 = 3, headBits: Int? = nil) throws {
        self.directory = directory
        var random = SeededRandom(seed: seed)
        var c = Self.config
        c.tiedEmbeddings = headBits == nil
        let d = c.embeddingSize, q = c.heads * c.headSize, f = c.feedForwardSize
        var tensors: [(name: String, rows: Int, cols: Int, values: [Float])] = [
            ("token_embd.weight", c.vocabularySize, d, random.weights(c.vocabularySize * d, scale: 0.5)),
        ]
        for i in 0..<c.layers {
            let p = "blk.\(i)."
            tensors.append((p + "attn_norm.weight", 1, d, (0..<d).map { _ in Float.random(in: 0.8...1.2, using: &random) }))
            for (name, rows, cols) in [("attn_q", q, d), ("attn_k", c.kvSize, d), ("attn_v", c.kvSize, d), ("attn_output", d, q),
                                       ("ffn_gate", f, d), ("ffn_up", f, d), ("ffn_down", d, f)] {
                tensors.append((p + name + ".weight", rows, cols, random.weights(rows * cols, scale: 0.15)))
            }
            tensors.append((p + "ffn_norm.weight", 1, d, (0..<d).map { _ in Float.random(in: 0.8...1.2, using: &random) }))
        }
        tensors.append(("output_norm.weight", 1, d, (0..<d).map { _ in Float.random(in: 0.8...1.2, using: &random) }))
        if headBits != nil {
            tensors.append(("output.weight", c.vocabularySize, d, random.weights(c.vocabularySize * d, scale: 0.15)))
        }

        let pool = ThreadPool(threadCount: 1)
        for quantize in [false, true] {
            let writer = try HLQFileWriter(destination: quantize ? quantized : source)
            for t in tensors {
                let shape = t.rows == 1 ? [t.cols] : [t.cols, t.rows]
                if quantize, let layer = LinearLayer(tensorName: t.name) {
                    let bits = layer == .outputHead ? headBits! : 2
                    let packed = PackedMatrix(t.values.withUnsafeBufferPointer {
                        Quantizer.quantize($0, rows: t.rows, cols: t.cols, planes: bits, groupSize: 32, method: .hlq, pool: pool)
                    })
                    try packed.bits.withUnsafeBytes { packedBits in
                        try packed.params.withUnsafeBytes { params in
                            try writer.append(name: t.name, type: .hlq(bits: bits, groupSize: 32), shape: shape, parts: [packedBits, params])
                        }
                    }
                } else {
                    try t.values.withUnsafeBytes { try writer.append(name: t.name, type: .f32, shape: shape, parts: [$0]) }
                }
            }
            let recipe = QuantizationRecipe(method: .hlq, bits: quantize ? 2 : 32, groupSize: 32, embedding: .f32,
                                            output: headBits == nil ? nil : quantize ? .hlq(bits: headBits!, groupSize: 32) : .f32,
                                            averageBitsPerWeight: quantize ? 2.5 : 32)
            try writer.finish(metadata: HLQFileMetadata(config: c, tokenizer: Self.tokenizer, recipe: recipe,
                                                        sourceSHA256: String(repeating: "0", count: 64), creator: "test",
                                                        created: Date(timeIntervalSince1970: 0)))
        }
    }

    /// Calibration text: a licence, which this machine has.
    static func text() throws -> String {
        try String(contentsOfFile: "/usr/share/common-licenses/Apache-2.0", encoding: .utf8)
    }
}
