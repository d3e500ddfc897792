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

    /// The rows of a float, half-float or q8 matrix as a table; nil for an HLQ one (its rows are
    /// not stored one after another).
    public init?(_ matrix: LinearWeight) {
        switch matrix {
        case .f32(let w, _, let cols): self = .f32(w, cols: cols)
        case .f16(let w, _, let cols): self = .f16(w, cols: cols)
        case .q8(let w, let scales, _, let cols): self = .q8(w, scales: scales, cols: cols)
        case .lut: return nil
        }
    }

    /// Writes the embeddings of `tokens` into `out`, [tokens.count][cols].
    public func rows(_ tokens: some Sequence<Int32>, into out: UnsafeMutablePointer<Float>) {
        for (t, token) in tokens.enumerated() { row(Int(token), into: out + t * cols) }
    }

    /// Floats per row.
    public var cols: Int {
        switch self {
        case .f32(_, let cols), .f16(_, let cols), .q8(_, _, let cols): cols
        }
    }

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

extension ModelWeights {
    /// Bytes of matrices one decode step reads: every block's seven and the output head. (The
    /// embedding lookup reads one row; norms and biases are vectors.)
    public var streamedBytesPerToken: Int {
        blocks.reduce(output.streamedBytes) { total, block in
            total + [block.query, block.key, block.value, block.attentionOutput, block.gate, block.up, block.down]
                .reduce(0) { $0 + $1.streamedBytes }
        }
    }
}

/// Where a loader finds each kind of tensor; `assemble` walks a block's tensors the same way for every format.
struct TensorLookup {
    /// A float vector of `count` values (norm weights, biases).
    var vector: (_ name: String, _ count: Int) throws -> UnsafePointer<Float>
    /// Whether the file has a tensor (optional biases).
    var contains: (_ name: String) -> Bool
    /// A matrix of `rows` outputs by `cols` inputs, in whatever precision it is stored.
    var linear: (_ name: String, _ rows: Int, _ cols: Int) throws -> LinearWeight
}

extension BlockWeights {
    /// Block `index` of a model, its tensors named as GGUF names them.
    static func assemble(_ index: Int, config: ModelConfig, from lookup: TensorLookup) throws -> BlockWeights {
        let d = config.embeddingSize, q = config.heads * config.headSize, kv = config.kvSize, f = config.feedForwardSize
        let p = "blk.\(index)."
        func bias(_ name: String, _ count: Int) throws -> UnsafePointer<Float>? {
            lookup.contains(p + name) ? try lookup.vector(p + name, count) : nil
        }
        return BlockWeights(
            attentionNorm: try lookup.vector(p + "attn_norm.weight", d),
            query: try lookup.linear(p + "attn_q.weight", q, d),
            key: try lookup.linear(p + "attn_k.weight", kv, d),
            value: try lookup.linear(p + "attn_v.weight", kv, d),
            queryBias: try bias("attn_q.bias", q),
            keyBias: try bias("attn_k.bias", kv),
            valueBias: try bias("attn_v.bias", kv),
            attentionOutput: try lookup.linear(p + "attn_output.weight", d, q),
            feedForwardNorm: try lookup.vector(p + "ffn_norm.weight", d),
            gate: try lookup.linear(p + "ffn_gate.weight", f, d),
            up: try lookup.linear(p + "ffn_up.weight", f, d),
            down: try lookup.linear(p + "ffn_down.weight", d, f))
    }
}
