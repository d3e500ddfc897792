import TestSupport
import Foundation
import Testing
import ModelFile

/// The real SmolLM2-135M-Instruct in Q4_1, as llama.cpp's converter wrote it (`tools/setup/fetch-model`).
@Suite(.needs(.realModel)) struct RealModelTests {
    @Test func metadata() throws {
        let gguf = try GGUFFile(path: realModelPath())
        #expect(gguf.version == 3)
        #expect(gguf.alignment == 32)
        #expect(gguf.string("general.architecture") == "llama")
        #expect(gguf.int("llama.block_count") == 30)
        #expect(gguf.int("llama.embedding_length") == 576)
        #expect(gguf.int("llama.feed_forward_length") == 1536)
        #expect(gguf.int("llama.attention.head_count") == 9)
        #expect(gguf.int("llama.attention.head_count_kv") == 3)
        #expect(gguf.float("llama.rope.freq_base") == 100_000)
        #expect(gguf.string("tokenizer.ggml.model") == "gpt2")
        #expect(gguf.stringArray("tokenizer.ggml.tokens")?.count == 49152)
        #expect(gguf.stringArray("tokenizer.ggml.tokens")?[1] == "<|im_start|>")
        #expect(gguf.intArray("tokenizer.ggml.token_type")?.count == 49152)
        #expect(gguf.stringArray("tokenizer.ggml.merges")?.count == 48900)
        #expect(gguf.int("tokenizer.ggml.eos_token_id") == 2)
        #expect(gguf.bool("tokenizer.ggml.add_bos_token") == false)
        #expect(gguf.string("tokenizer.chat_template")?.contains("<|im_start|>") == true)
        #expect(gguf.metadataKeys.count == 33)
    }

    @Test func tensorDirectory() throws {
        let gguf = try GGUFFile(path: realModelPath())
        #expect(gguf.tensors.count == 272)
        let counts = Dictionary(grouping: gguf.tensors, by: \.type).mapValues(\.count)
        #expect(counts == [.q4_1: 210, .f32: 61, .q8_0: 1])
        let embeddings = try #require(gguf.tensor(named: "token_embd.weight"))
        #expect(embeddings.type == .q8_0)
        #expect(embeddings.dims == [576, 49152])
        let query = try #require(gguf.tensor(named: "blk.0.attn_q.weight"))
        #expect(query.type == .q4_1)
        #expect(query.dims == [576, 576])
        #expect(gguf.tensor(named: "blk.29.ffn_down.weight")?.dims == [1536, 576])
        #expect(gguf.tensor(named: "output_norm.weight")?.type == .f32)
        let last = try #require(gguf.tensors.max { $0.offset < $1.offset })
        #expect(last.offset + last.byteCount == gguf.file.count, "the last tensor ends the file")
    }

    /// Samples of rows, decoded both here and by gguf-py, must agree bit for bit.
    @Test(.needs(.pythonOracle)) func sampledRowsMatchTheOracle() throws {
        let path = try realModelPath()
        let samples: [(name: String, rows: Range<Int>)] = [
            ("token_embd.weight", 12345..<12353),
            ("token_embd.weight".self, 49144..<49152),
            ("blk.0.attn_q.weight", 0..<8),
            ("blk.0.attn_k.weight", 184..<192),
            ("blk.29.ffn_down.weight", 300..<308),
            ("blk.0.attn_norm.weight", 0..<1),
            ("output_norm.weight", 0..<1),
        ]
        // The oracle names its outputs after the tensor, so each tensor is asked for once per run.
        try expectRowsMatchOracle(path, Array(samples.prefix(1)) + Array(samples.dropFirst(2)))
        try expectRowsMatchOracle(path, [samples[1]])
    }

    /// Every tensor decodes to finite values, and the whole model decodes in reasonable time.
    @Test func wholeModelDequantizes() throws {
        let gguf = try GGUFFile(path: realModelPath())
        let clock = ContinuousClock()
        var elements = 0
        var nonFinite = 0
        let elapsed = try clock.measure {
            for tensor in gguf.tensors {
                let values = try gguf.dequantize(tensor)
                elements += values.count
                nonFinite += values.count { !$0.isFinite }
            }
        }
        #expect(elements == 134_515_008)
        #expect(nonFinite == 0)
        print("dequantized \(elements) SmolLM2 weights in \(elapsed)")
    }
}
