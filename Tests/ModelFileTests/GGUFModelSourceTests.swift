import Testing
import ModelFile

/// A GGUF file's metadata read as a model: what `FuzzGGUFFile` found wrong stays fixed.
@Suite struct GGUFModelSourceTests {
    /// A llama file with the config keys and a two-token vocabulary.
    private func model(heads: UInt32 = 2) -> GGUFBuilder {
        var builder = GGUFBuilder()
        builder.add("general.architecture", string: "llama")
        for key in ["block_count", "embedding_length", "feed_forward_length", "context_length"] {
            builder.add("llama.\(key)", uint32: 8)
        }
        builder.add("llama.attention.head_count", uint32: heads)
        builder.add("tokenizer.ggml.model", string: "gpt2")
        builder.add("tokenizer.ggml.tokens", type: 9, payload: bytesLE(UInt32(8)) + bytesLE(UInt64(2)) + ggufString("a") + ggufString("b"))
        return builder
    }

    private func open(_ builder: GGUFBuilder) throws -> GGUFModelSource {
        let file = try builder.build().withUnsafeBytes { try MappedFile(copying: $0, path: "model.gguf") }
        return try GGUFModelSource(file: GGUFFile(file: file))
    }

    @Test func readsTheTokenizer() throws {
        var builder = model()
        builder.add("tokenizer.ggml.bos_token_id", uint32: 1)
        let source = try open(builder)
        #expect(source.tokenizer.tokens == ["a", "b"])
        #expect(source.tokenizer.bosID == 1)
        #expect(source.tokenizer.tokenTypes == [1, 1])
        #expect(source.config.headSize == 4)
    }

    /// Without a key length the head size is the width over the heads, which must not be zero.
    @Test func noHeadsIsAnError() throws {
        #expect(throws: ModelSourceError.invalid("the model has 0 attention heads")) { try open(model(heads: 0)) }
    }

    /// Token ids and types are Int32: a larger one used to trap converting it (found by FuzzGGUFFile).
    @Test func integersTooLargeForATokenAreAnError() throws {
        for key in ["tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"] {
            var builder = model()
            builder.add(key, uint32: .max)
            let error = #expect(throws: ModelSourceError.self) { try open(builder) }
            #expect(error?.description.contains("\(key) holds 4294967295") == true)
        }
        var builder = model()
        builder.add("tokenizer.ggml.token_type", type: 9, payload: bytesLE(UInt32(11)) + bytesLE(UInt64(2)) + bytesLE(Int64(1)) + bytesLE(Int64.min))
        #expect(throws: ModelSourceError.self) { try open(builder) }
    }
}
