import Foundation
import ModelFile
import Testing
import TestSupport

/// The real Qwen2.5-Coder-1.5B-Instruct in Q4_K_M (`tools/setup/fetch-qwen`): the qwen2 layout and the
/// k-quants as llama.cpp's converter wrote them.
@Suite(.needs(.realModel)) struct RealQwenModelTests {
    @Test func metadataAndDirectory() throws {
        let gguf = try GGUFFile(path: realQwenModelPath())
        #expect(gguf.string("general.architecture") == "qwen2")
        #expect(gguf.int("qwen2.block_count") == 28)
        #expect(gguf.int("qwen2.embedding_length") == 1536)
        #expect(gguf.int("qwen2.attention.head_count_kv") == 2)
        #expect(gguf.string("tokenizer.ggml.pre") == "qwen2")
        #expect(gguf.tensors.count == 339)
        let counts = Dictionary(grouping: gguf.tensors, by: \.type).mapValues(\.count)
        #expect(counts == [.q4_K: 169, .q6_K: 29, .f32: 141])
        #expect(gguf.tensor(named: "output.weight")?.dims == [1536, 151936], "an untied head")
        #expect(gguf.tensor(named: "blk.0.attn_q.bias")?.dims == [1536])
        let last = try #require(gguf.tensors.max { $0.offset < $1.offset })
        #expect(last.offset + last.byteCount == gguf.file.count, "the last tensor ends the file")
    }

    /// Rows of Q4_K, Q6_K and f32 tensors, decoded here and by gguf-py, agree bit for bit.
    @Test(.needs(.pythonOracle)) func sampledRowsMatchTheOracle() throws {
        let path = try realQwenModelPath()
        let samples: [(name: String, rows: Range<Int>)] = [
            ("token_embd.weight", 151_000..<151_004),  // Q4_K
            ("output.weight", 77..<81),                // Q6_K
            ("blk.0.ffn_down.weight", 1530..<1536),    // Q6_K
            ("blk.27.attn_q.weight", 0..<4),           // Q4_K
            ("blk.0.attn_k.bias", 0..<1),              // f32
        ]
        try expectRowsMatchOracle(path, samples)
    }
}
