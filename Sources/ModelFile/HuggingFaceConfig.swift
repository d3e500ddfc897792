/// The parts of a Hugging Face `config.json` that describe a llama or qwen2 decoder.
///
/// Optional keys default as `transformers`' `LlamaConfig` and `Qwen2Config` do when a file
/// omits them: no separate key-value heads, `hidden_size / num_attention_heads` per head,
/// rope_theta 10000, rms_norm_eps 1e-6 and untied embeddings.
struct HuggingFaceConfig: Decodable {
    var architectures: [String]?
    var hiddenSize: Int
    var intermediateSize: Int
    var layers: Int
    var heads: Int
    var kvHeads: Int?
    var headSize: Int?
    var vocabularySize: Int
    var contextLength: Int
    var ropeTheta: Float?
    var normEpsilon: Float?
    var tiedEmbeddings: Bool?
    var ropeScaling: HuggingFaceRopeScaling?
    /// Fallbacks for when `tokenizer_config.json` does not name the tokens.
    var bosTokenID: HuggingFaceTokenID?
    var eosTokenID: HuggingFaceTokenID?

    enum CodingKeys: String, CodingKey {
        case architectures
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case layers = "num_hidden_layers"
        case heads = "num_attention_heads"
        case kvHeads = "num_key_value_heads"
        case headSize = "head_dim"
        case vocabularySize = "vocab_size"
        case contextLength = "max_position_embeddings"
        case ropeTheta = "rope_theta"
        case normEpsilon = "rms_norm_eps"
        case tiedEmbeddings = "tie_word_embeddings"
        case ropeScaling = "rope_scaling"
        case bosTokenID = "bos_token_id"
        case eosTokenID = "eos_token_id"
    }

    /// `llama` or `qwen2`, from the model class the checkpoint was saved from.
    func architecture() throws(ModelSourceError) -> String {
        switch architectures?.first {
        case "LlamaForCausalLM": "llama"
        case "Qwen2ForCausalLM": "qwen2"
        case let other: throw .unsupportedArchitecture(other ?? "(config.json names no architecture)")
        }
    }

    /// The runtime's view of these hyperparameters. `attentionBias` comes from the weights, as
    /// for GGUF, because a llama checkpoint may have biases too (`attention_bias`).
    func modelConfig(name: String, attentionBias: Bool) throws(ModelSourceError) -> ModelConfig {
        let architecture = try architecture()
        return ModelConfig(
            architecture: architecture, name: name, layers: layers, embeddingSize: hiddenSize,
            feedForwardSize: intermediateSize, heads: heads, kvHeads: kvHeads ?? heads,
            headSize: try ModelConfig.headSize(headSize, embeddingSize: hiddenSize, heads: heads),
            vocabularySize: vocabularySize, contextLength: contextLength,
            ropeTheta: ropeTheta ?? 10000, ropeStyle: architecture == "qwen2" ? .neox : .interleaved,
            ropeScaling: try ropeScaling?.ropeScaling(), normEpsilon: normEpsilon ?? 1e-6,
            tiedEmbeddings: tiedEmbeddings ?? false, attentionBias: attentionBias)
    }
}

/// `config.json`'s `rope_scaling`: context extension of the rotary frequencies.
struct HuggingFaceRopeScaling: Decodable {
    /// `rope_type`, or `type` in older files.
    var kind: String?
    var factor: Float?
    var lowFrequencyFactor: Float?
    var highFrequencyFactor: Float?
    var originalContextLength: Int?

    enum CodingKeys: String, CodingKey {
        case ropeType = "rope_type", type, factor
        case lowFrequencyFactor = "low_freq_factor"
        case highFrequencyFactor = "high_freq_factor"
        case originalContextLength = "original_max_position_embeddings"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decodeIfPresent(String.self, forKey: .ropeType)
            ?? container.decodeIfPresent(String.self, forKey: .type)
        factor = try container.decodeIfPresent(Float.self, forKey: .factor)
        lowFrequencyFactor = try container.decodeIfPresent(Float.self, forKey: .lowFrequencyFactor)
        highFrequencyFactor = try container.decodeIfPresent(Float.self, forKey: .highFrequencyFactor)
        originalContextLength = try container.decodeIfPresent(Int.self, forKey: .originalContextLength)
    }

    /// The runtime's form, or nil for `default` (no scaling); kinds the runtime lacks are an error
    /// rather than silently ignored, since the model would then misbehave past its base context.
    func ropeScaling() throws(ModelSourceError) -> RopeScaling? {
        switch kind {
        case "default":
            return nil
        case let kind? where kind == "linear" || kind == "llama3":
            guard let factor else { throw .invalid("config.json: rope_scaling '\(kind)' has no factor") }
            return RopeScaling(kind: kind, factor: factor, lowFrequencyFactor: lowFrequencyFactor,
                               highFrequencyFactor: highFrequencyFactor, originalContextLength: originalContextLength)
        default:
            throw .invalid("config.json: rope_scaling type '\(kind ?? "(none)")' is not supported (linear and llama3 are)")
        }
    }
}

/// A token id in `config.json`. Llama 3.1 and later give `eos_token_id` as a list of every token
/// that ends generation; lacking a single answer this takes the first, but `tokenizer_config.json`,
/// which is read first, names the one token and usually settles it.
struct HuggingFaceTokenID: Decodable {
    var id: Int

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let id = try? container.decode(Int.self) {
            self.id = id
        } else if let first = try container.decode([Int].self).first {
            id = first
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "an empty list of token ids")
        }
    }
}
