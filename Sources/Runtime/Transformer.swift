import Engine
import Foundation
import ModelFile
import Parallel

/// A model's forward pass over its KV cache: a batch of tokens at once for prefill, one for decode.
///
/// Every linear layer goes through `LinearWeight`, so the same code runs HLQ models on the LUT
/// kernels (GEMM for a batch, GEMV for one token) and GGUF models on the float path. The matrix
/// products and attention are split across the thread pool; the rest of a step is elementwise.
public final class Transformer: @unchecked Sendable {
    public let weights: ModelWeights
    public let config: ModelConfig
    /// Positions the KV cache holds.
    public let contextLength: Int
    /// Tokens per forward call.
    public let maxBatch: Int
    public let pool: ThreadPool
    private let rope: RotaryEmbedding

    private let embeddingSize, querySize, kvSize, feedForwardSize, vocabularySize: Int
    /// [layers][contextLength][kvSize]
    private let keys, values: UnsafeMutablePointer<Float>
    /// [maxBatch][embeddingSize]: the residual stream.
    private let residual: UnsafeMutablePointer<Float>
    /// [maxBatch][embeddingSize]: normalised input of q, k and v.
    private let attentionInput: LinearInput
    /// [maxBatch][heads * headSize]
    private let queries: UnsafeMutablePointer<Float>
    /// [maxBatch][heads * headSize]: attention's output, input of the output projection.
    private let attentionResult: LinearInput
    /// [maxBatch][embeddingSize]: a projection's output before it joins the residual.
    private let projected: UnsafeMutablePointer<Float>
    /// [maxBatch][embeddingSize]: normalised input of gate and up.
    private let feedForwardInput: LinearInput
    /// [maxBatch][feedForwardSize]: up's output.
    private let ups: UnsafeMutablePointer<Float>
    /// [maxBatch][feedForwardSize]: gate's output, turned into SwiGLU in place, input of down.
    private let downInput: LinearInput
    /// [maxBatch][embeddingSize]: normalised input of the output head.
    private let headInput: LinearInput
    /// [maxBatch][vocabularySize]
    private let logits: UnsafeMutablePointer<Float>
    /// [threads][contextLength]: attention scores, one row per participant.
    private let scores: UnsafeMutablePointer<Float>

    public init(weights: ModelWeights, contextLength: Int, maxBatch: Int = 64, pool: ThreadPool) {
        let c = weights.config
        self.weights = weights
        self.config = c
        self.contextLength = contextLength
        self.maxBatch = maxBatch
        self.pool = pool
        rope = RotaryEmbedding(config: c, positions: contextLength)
        embeddingSize = c.embeddingSize
        querySize = c.heads * c.headSize
        kvSize = c.kvSize
        feedForwardSize = c.feedForwardSize
        vocabularySize = c.vocabularySize
        keys = .allocate(capacity: c.layers * contextLength * c.kvSize)
        values = .allocate(capacity: c.layers * contextLength * c.kvSize)
        residual = .allocate(capacity: maxBatch * c.embeddingSize)
        attentionInput = LinearInput(cols: c.embeddingSize, capacity: maxBatch)
        queries = .allocate(capacity: maxBatch * querySize)
        attentionResult = LinearInput(cols: querySize, capacity: maxBatch)
        projected = .allocate(capacity: maxBatch * c.embeddingSize)
        feedForwardInput = LinearInput(cols: c.embeddingSize, capacity: maxBatch)
        ups = .allocate(capacity: maxBatch * c.feedForwardSize)
        downInput = LinearInput(cols: c.feedForwardSize, capacity: maxBatch)
        headInput = LinearInput(cols: c.embeddingSize, capacity: maxBatch)
        logits = .allocate(capacity: maxBatch * c.vocabularySize)
        scores = .allocate(capacity: pool.threadCount * contextLength)
    }

    deinit {
        for buffer in [keys, values, residual, queries, projected, ups, logits, scores] { buffer.deallocate() }
    }

    /// Bytes of the KV cache (keys and values, all layers, the whole context).
    public var kvCacheBytes: Int { 2 * config.layers * contextLength * kvSize * MemoryLayout<Float>.size }

    /// Runs `tokens` at positions `position...` through the model, writing their keys and values into
    /// the cache, and returns the logits of the tokens in `logitRows` (indices into `tokens`),
    /// `logitRows.count` rows of `vocabularySize`, valid until the next call.
    public func forward(_ tokens: ArraySlice<Int32>, at position: Int, logitRows: Range<Int>) -> UnsafeBufferPointer<Float> {
        let count = tokens.count
        precondition(count > 0 && count <= maxBatch, "a forward pass takes 1...\(maxBatch) tokens")
        precondition(position >= 0 && position + count <= contextLength, "positions past the context")
        precondition(logitRows.lowerBound >= 0 && logitRows.upperBound <= count)
        for (t, token) in tokens.enumerated() {
            weights.embedding.row(Int(token), into: residual + t * embeddingSize)
        }
        for (layer, block) in weights.blocks.enumerated() {
            attention(block, layer: layer, count: count, position: position)
            feedForward(block, count: count)
        }
        if logitRows.isEmpty { return UnsafeBufferPointer(start: logits, count: 0) }
        for (i, t) in logitRows.enumerated() {
            FloatOps.rmsNorm(residual + t * embeddingSize, weight: weights.outputNorm, count: embeddingSize,
                             epsilon: config.normEpsilon, into: headInput.values + i * embeddingSize)
        }
        headInput.invalidate(count: logitRows.count)
        weights.output.multiply(headInput, into: logits, ldy: vocabularySize, pool: pool)
        return UnsafeBufferPointer(start: logits, count: logitRows.count * vocabularySize)
    }

    private func attention(_ block: BlockWeights, layer: Int, count: Int, position: Int) {
        for t in 0..<count {
            FloatOps.rmsNorm(residual + t * embeddingSize, weight: block.attentionNorm, count: embeddingSize,
                             epsilon: config.normEpsilon, into: attentionInput.values + t * embeddingSize)
        }
        attentionInput.invalidate(count: count)
        // New keys and values go straight into the cache at their positions.
        let layerKeys = keys + layer * contextLength * kvSize, layerValues = values + layer * contextLength * kvSize
        let newKeys = layerKeys + position * kvSize, newValues = layerValues + position * kvSize
        block.query.multiply(attentionInput, into: queries, ldy: querySize, pool: pool)
        block.key.multiply(attentionInput, into: newKeys, ldy: kvSize, pool: pool)
        block.value.multiply(attentionInput, into: newValues, ldy: kvSize, pool: pool)
        for t in 0..<count {
            if let bias = block.queryBias { FloatOps.add(queries + t * querySize, bias, count: querySize) }
            if let bias = block.keyBias { FloatOps.add(newKeys + t * kvSize, bias, count: kvSize) }
            if let bias = block.valueBias { FloatOps.add(newValues + t * kvSize, bias, count: kvSize) }
            rope.apply(queries + t * querySize, heads: config.heads, position: position + t)
            rope.apply(newKeys + t * kvSize, heads: config.kvHeads, position: position + t)
        }

        // Causal attention with grouped key/value heads, each (token, head) pair on one participant.
        let heads = config.heads, headSize = config.headSize, group = config.heads / config.kvHeads
        let scale = 1 / Float(headSize).squareRoot()
        let items = count * heads
        let participants = pool.threadCount
        let out = attentionResult.values
        pool.run { participant in
            let row = scores + participant * contextLength
            for item in stride(from: participant, to: items, by: participants) {
                let t = item / heads, h = item % heads
                let q = queries + t * querySize + h * headSize
                let kvOffset = (h / group) * headSize
                let visible = position + t + 1
                for j in 0..<visible {
                    row[j] = FloatOps.dot(q, layerKeys + j * kvSize + kvOffset, count: headSize) * scale
                }
                FloatOps.softmax(row, count: visible)
                let o = out + t * querySize + h * headSize
                o.update(repeating: 0, count: headSize)
                for j in 0..<visible {
                    FloatOps.addScaled(o, layerValues + j * kvSize + kvOffset, row[j], count: headSize)
                }
            }
        }
        attentionResult.invalidate(count: count)
        block.attentionOutput.multiply(attentionResult, into: projected, ldy: embeddingSize, pool: pool)
        FloatOps.add(residual, projected, count: count * embeddingSize)
    }

    private func feedForward(_ block: BlockWeights, count: Int) {
        for t in 0..<count {
            FloatOps.rmsNorm(residual + t * embeddingSize, weight: block.feedForwardNorm, count: embeddingSize,
                             epsilon: config.normEpsilon, into: feedForwardInput.values + t * embeddingSize)
        }
        feedForwardInput.invalidate(count: count)
        block.gate.multiply(feedForwardInput, into: downInput.values, ldy: feedForwardSize, pool: pool)
        block.up.multiply(feedForwardInput, into: ups, ldy: feedForwardSize, pool: pool)
        FloatOps.swiglu(downInput.values, ups, count: count * feedForwardSize)
        downInput.invalidate(count: count)
        block.down.multiply(downInput, into: projected, ldy: embeddingSize, pool: pool)
        FloatOps.add(residual, projected, count: count * embeddingSize)
    }
}
