/// The hyperparameters of a decoder-only transformer, in the form the runtime needs them.
///
/// Importers fill it from GGUF metadata or a Hugging Face `config.json`; `.hlq` files store it
/// as JSON. Weights always follow GGUF conventions: rows are outputs, and for `llama` the q and k
/// rows are permuted for interleaved RoPE pairs, as llama.cpp's converter does.
public struct ModelConfig: Codable, Sendable, Equatable {
    /// `llama` or `qwen2`.
    public var architecture: String
    public var name: String
    public var layers: Int
    /// Width of the residual stream.
    public var embeddingSize: Int
    public var feedForwardSize: Int
    public var heads: Int
    public var kvHeads: Int
    public var headSize: Int
    public var vocabularySize: Int
    /// The context the model was trained for.
    public var contextLength: Int
    public var ropeTheta: Float
    public var ropeStyle: RopeStyle
    public var ropeScaling: RopeScaling?
    public var normEpsilon: Float
    /// The output head reuses the token embeddings.
    public var tiedEmbeddings: Bool
    /// q, k and v projections carry biases (qwen2).
    public var attentionBias: Bool

    public init(architecture: String, name: String, layers: Int, embeddingSize: Int, feedForwardSize: Int,
                heads: Int, kvHeads: Int, headSize: Int, vocabularySize: Int, contextLength: Int,
                ropeTheta: Float, ropeStyle: RopeStyle, ropeScaling: RopeScaling?, normEpsilon: Float,
                tiedEmbeddings: Bool, attentionBias: Bool) {
        self.architecture = architecture
        self.name = name
        self.layers = layers
        self.embeddingSize = embeddingSize
        self.feedForwardSize = feedForwardSize
        self.heads = heads
        self.kvHeads = kvHeads
        self.headSize = headSize
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.ropeTheta = ropeTheta
        self.ropeStyle = ropeStyle
        self.ropeScaling = ropeScaling
        self.normEpsilon = normEpsilon
        self.tiedEmbeddings = tiedEmbeddings
        self.attentionBias = attentionBias
    }

    /// The head size a file gives, or if it gives none, the embedding split evenly over the heads,
    /// as llama.cpp and transformers take it. A file with no heads is broken, and must not divide by zero.
    static func headSize(_ given: Int?, embeddingSize: Int, heads: Int) throws(ModelSourceError) -> Int {
        if let given { return given }
        guard heads > 0 else { throw .invalid("the model has \(heads) attention heads") }
        return embeddingSize / heads
    }

    /// Width of the key and value projections.
    public var kvSize: Int { kvHeads * headSize }
}

/// Which dimensions RoPE rotates together.
public enum RopeStyle: String, Codable, Sendable {
    /// Pairs (2i, 2i+1): llama in GGUF, after the converter's q/k permutation.
    case interleaved
    /// Pairs (i, i + d/2): qwen2 and Hugging Face's `rotate_half`.
    case neox
}

/// Context extension of the rotary frequencies.
public struct RopeScaling: Codable, Sendable, Equatable {
    /// `linear` (positions divided by `factor`) or `llama3` (frequency-dependent, Llama 3.1+).
    public var kind: String
    public var factor: Float
    public var lowFrequencyFactor: Float?
    public var highFrequencyFactor: Float?
    public var originalContextLength: Int?

    public init(kind: String, factor: Float, lowFrequencyFactor: Float? = nil, highFrequencyFactor: Float? = nil,
                originalContextLength: Int? = nil) {
        self.kind = kind
        self.factor = factor
        self.lowFrequencyFactor = lowFrequencyFactor
        self.highFrequencyFactor = highFrequencyFactor
        self.originalContextLength = originalContextLength
    }
}

/// What the runtime needs to rebuild a model's tokenizer and chat format.
public struct TokenizerSpec: Codable, Sendable, Equatable {
    /// Byte-level BPE vocabulary, in id order.
    public var tokens: [String]
    /// Merge rules, "left right", in priority order.
    public var merges: [String]
    /// GGUF token types (1 normal, 3 control, 4 user-defined, ...), one per token.
    public var tokenTypes: [Int32]
    /// Pre-tokenizer kind: gpt2, smollm, qwen2 or llama3.
    public var preTokenizer: String
    public var bosID: Int32?
    public var eosID: Int32?
    public var addBOS: Bool
    /// The model's chat template (Jinja text), if it has one.
    public var chatTemplate: String?

    public init(tokens: [String], merges: [String], tokenTypes: [Int32], preTokenizer: String,
                bosID: Int32?, eosID: Int32?, addBOS: Bool, chatTemplate: String?) {
        self.tokens = tokens
        self.merges = merges
        self.tokenTypes = tokenTypes
        self.preTokenizer = preTokenizer
        self.bosID = bosID
        self.eosID = eosID
        self.addBOS = addBOS
        self.chatTemplate = chatTemplate
    }
}
