import Engine
import ModelFile

/// The weights of one transformer block; every pointer stays valid while the owning `ModelWeights` lives.
public struct BlockWeights: @unchecked Sendable {
    /// [embeddingSize]
    public var attentionNorm: UnsafePointer<Float>
    /// [heads * headSize][embeddingSize]
    public var query: LinearWeight
    /// [kvHeads * headSize][embeddingSize]
    public var key: LinearWeight
    /// [kvHeads * headSize][embeddingSize]
    public var value: LinearWeight
    /// Biases of q, k and v (qwen2), or nil.
    public var queryBias, keyBias, valueBias: UnsafePointer<Float>?
    /// [embeddingSize][heads * headSize]
    public var attentionOutput: LinearWeight
    /// [embeddingSize]
    public var feedForwardNorm: UnsafePointer<Float>
    /// [feedForwardSize][embeddingSize]
    public var gate: LinearWeight
    /// [feedForwardSize][embeddingSize]
    public var up: LinearWeight
    /// [embeddingSize][feedForwardSize]
    public var down: LinearWeight

    public init(attentionNorm: UnsafePointer<Float>, query: LinearWeight, key: LinearWeight, value: LinearWeight,
                queryBias: UnsafePointer<Float>?, keyBias: UnsafePointer<Float>?, valueBias: UnsafePointer<Float>?,
                attentionOutput: LinearWeight, feedForwardNorm: UnsafePointer<Float>,
                gate: LinearWeight, up: LinearWeight, down: LinearWeight) {
        self.attentionNorm = attentionNorm
        self.query = query
        self.key = key
        self.value = value
        self.queryBias = queryBias
        self.keyBias = keyBias
        self.valueBias = valueBias
        self.attentionOutput = attentionOutput
        self.feedForwardNorm = feedForwardNorm
        self.gate = gate
        self.up = up
        self.down = down
    }
}

/// Token embeddings, looked up one row at a time.
public enum EmbeddingTable: @unchecked Sendable {
    /// [vocabularySize][embeddingSize]
    case f32(UnsafePointer<Float>, cols: Int)
    /// Half-float rows (raw IEEE bits).
    case f16(UnsafePointer<UInt16>, cols: Int)
    /// int8 rows with one float scale each.
    case q8(UnsafePointer<Int8>, scales: UnsafePointer<Float>, cols: Int)

    /// Writes the embedding of `token` into `out`.
    public func row(_ token: Int, into out: UnsafeMutablePointer<Float>) {
        switch self {
        case .f32(let table, let cols):
            out.update(from: table + token * cols, count: cols)
        case .f16(let table, let cols):
            let row = table + token * cols
            for i in 0..<cols { out[i] = Float(Float16(bitPattern: row[i])) }
        case .q8(let table, let scales, let cols):
            let scale = scales[token]
            let row = table + token * cols
            for i in 0..<cols { out[i] = Float(row[i]) * scale }
        }
    }
}

/// All the weights of a model, with whatever owns their memory (a mapped file or heap buffers).
public struct ModelWeights: @unchecked Sendable {
    public var config: ModelConfig
    public var embedding: EmbeddingTable
    public var blocks: [BlockWeights]
    /// [embeddingSize]
    public var outputNorm: UnsafePointer<Float>
    /// [vocabularySize][embeddingSize]; the embeddings themselves when tied.
    public var output: LinearWeight
    /// Keeps the weights' memory alive.
    public let owner: AnyObject

    public init(config: ModelConfig, embedding: EmbeddingTable, blocks: [BlockWeights], outputNorm: UnsafePointer<Float>,
                output: LinearWeight, owner: AnyObject) {
        self.config = config
        self.embedding = embedding
        self.blocks = blocks
        self.outputNorm = outputNorm
        self.output = output
        self.owner = owner
    }
}
