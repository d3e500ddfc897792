import Parallel

/// A GGUF file as a `ModelSource`: its metadata turned into a `ModelConfig` and `TokenizerSpec`.
public final class GGUFModelSource: ModelSource, @unchecked Sendable {
    public let file: GGUFFile
    public let config: ModelConfig
    public let tokenizer: TokenizerSpec
    public var path: String { file.file.path }
    public var tensorNames: [String] { file.tensors.map(\.name) }

    public convenience init(path: String) throws {
        try self.init(file: GGUFFile(path: path))
    }

    /// The source an already parsed file describes.
    public init(file: GGUFFile) throws {
        self.file = file
        config = try Self.config(of: file)
        tokenizer = try Self.tokenizer(of: file)
    }

    public func shape(of name: String) -> [Int]? { file.tensor(named: name)?.dims }

    public func readFloats(_ name: String, into destination: UnsafeMutablePointer<Float>, pool: ThreadPool) throws {
        guard let tensor = file.tensor(named: name) else { throw ModelSourceError.missingTensor(name) }
        try file.dequantizeRows(tensor, rows: 0..<tensor.rowCount, into: destination, pool: pool)
    }

    static func config(of file: GGUFFile) throws -> ModelConfig {
        guard let arch = file.string("general.architecture") else { throw ModelSourceError.missingMetadata("general.architecture") }
        guard arch == "llama" || arch == "qwen2" else { throw ModelSourceError.unsupportedArchitecture(arch) }
        func int(_ key: String) throws -> Int {
            guard let v = file.int("\(arch).\(key)") else { throw ModelSourceError.missingMetadata("\(arch).\(key)") }
            return v
        }
        let embedding = try int("embedding_length"), heads = try int("attention.head_count")
        let vocabulary = file.int("\(arch).vocab_size") ?? file.stringArray("tokenizer.ggml.tokens")?.count ?? 0
        var scaling: RopeScaling?
        if let kind = file.string("\(arch).rope.scaling.type"), kind != "none", let factor = file.float("\(arch).rope.scaling.factor") {
            scaling = RopeScaling(kind: kind, factor: factor,
                                  originalContextLength: file.int("\(arch).rope.scaling.original_context_length"))
        } else if file.tensor(named: "rope_freqs.weight") != nil {
            // llama.cpp stores Llama 3.1's frequency factors as a tensor, not as scaling metadata.
            throw ModelSourceError.invalid("rope_freqs (Llama 3.1 rope scaling stored as a tensor) is not supported yet")
        }
        return ModelConfig(
            architecture: arch, name: file.string("general.name") ?? arch,
            layers: try int("block_count"), embeddingSize: embedding, feedForwardSize: try int("feed_forward_length"),
            heads: heads, kvHeads: file.int("\(arch).attention.head_count_kv") ?? heads,
            headSize: try ModelConfig.headSize(file.int("\(arch).attention.key_length"), embeddingSize: embedding, heads: heads),
            vocabularySize: vocabulary, contextLength: try int("context_length"),
            ropeTheta: file.float("\(arch).rope.freq_base") ?? 10000,
            ropeStyle: arch == "qwen2" ? .neox : .interleaved, ropeScaling: scaling,
            normEpsilon: file.float("\(arch).attention.layer_norm_rms_epsilon") ?? 1e-5,
            tiedEmbeddings: file.tensor(named: "output.weight") == nil,
            attentionBias: file.tensor(named: "blk.0.attn_q.bias") != nil)
    }

    static func tokenizer(of file: GGUFFile) throws -> TokenizerSpec {
        guard file.string("tokenizer.ggml.model") == "gpt2" else {
            throw ModelSourceError.invalid("only byte-level BPE tokenizers (tokenizer.ggml.model = gpt2) are supported")
        }
        guard let tokens = file.stringArray("tokenizer.ggml.tokens") else { throw ModelSourceError.missingMetadata("tokenizer.ggml.tokens") }
        // Ids and types are Int32 in the tokenizer; a file's integers may be any width, and one
        // that does not fit is a broken file, not a reason to trap.
        func int32(_ value: Int, _ key: String) throws -> Int32 {
            guard let narrow = Int32(exactly: value) else { throw ModelSourceError.invalid("\(key) holds \(value), too large for a token id or type") }
            return narrow
        }
        let types = try file.intArray("tokenizer.ggml.token_type")?.map { try int32($0, "tokenizer.ggml.token_type") }
            ?? [Int32](repeating: 1, count: tokens.count)
        return TokenizerSpec(
            tokens: tokens, merges: file.stringArray("tokenizer.ggml.merges") ?? [], tokenTypes: types,
            preTokenizer: file.string("tokenizer.ggml.pre") ?? "gpt2",
            bosID: try file.int("tokenizer.ggml.bos_token_id").map { try int32($0, "tokenizer.ggml.bos_token_id") },
            eosID: try file.int("tokenizer.ggml.eos_token_id").map { try int32($0, "tokenizer.ggml.eos_token_id") },
            addBOS: file.bool("tokenizer.ggml.add_bos_token") ?? false,
            chatTemplate: file.string("tokenizer.chat_template"))
    }
}
