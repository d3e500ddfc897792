import Engine
import ModelFile
import Parallel

/// A whole model's forward pass: embeddings, the blocks over their KV cache, and the output head.
///
/// A batch of tokens at once for prefill (the engine's GEMM), one token for decode (GEMV).
public final class Transformer: @unchecked Sendable {
    public let weights: ModelWeights
    public var config: ModelConfig { weights.config }
    public let blocks: BlockRunner
    public var contextLength: Int { blocks.contextLength }
    /// Tokens per forward call.
    public var maxBatch: Int { blocks.maxBatch }
    public var pool: ThreadPool { blocks.pool }
    /// [maxBatch][embeddingSize]: normalised input of the output head.
    private let headInput: LinearInput
    /// [maxBatch][vocabularySize]; pages are touched only as rows are used.
    private let logits: UnsafeMutablePointer<Float>

    public init(weights: ModelWeights, contextLength: Int, maxBatch: Int = 64, pool: ThreadPool) {
        self.weights = weights
        let c = weights.config
        blocks = BlockRunner(config: c, layers: c.layers, contextLength: contextLength, maxBatch: maxBatch, pool: pool)
        headInput = LinearInput(cols: c.embeddingSize, capacity: maxBatch)
        logits = .allocate(capacity: maxBatch * c.vocabularySize)
    }

    deinit { logits.deallocate() }

    /// Bytes of the KV cache (keys and values, all layers, the whole context).
    public var kvCacheBytes: Int { blocks.kvCacheBytes }

    /// Runs `tokens` at positions `position...` through the model, writing their keys and values into
    /// the cache, and returns the logits of the tokens in `logitRows` (indices into `tokens`),
    /// `logitRows.count` rows of `vocabularySize`, valid until the next call.
    public func forward(_ tokens: ArraySlice<Int32>, at position: Int, logitRows: Range<Int>) -> UnsafeBufferPointer<Float> {
        let count = tokens.count, width = config.embeddingSize, vocabulary = config.vocabularySize
        precondition(logitRows.lowerBound >= 0 && logitRows.upperBound <= count)
        for (t, token) in tokens.enumerated() {
            weights.embedding.row(Int(token), into: blocks.residual + t * width)
        }
        for (layer, block) in weights.blocks.enumerated() {
            blocks.run(block, layer: layer, count: count, position: position)
        }
        if logitRows.isEmpty { return UnsafeBufferPointer(start: logits, count: 0) }
        for (i, t) in logitRows.enumerated() {
            FloatOps.rmsNorm(blocks.residual + t * width, weight: weights.outputNorm, count: width,
                             epsilon: config.normEpsilon, into: headInput.values + i * width)
        }
        headInput.invalidate(count: logitRows.count)
        weights.output.multiply(headInput, into: logits, ldy: vocabulary, pool: pool)
        return UnsafeBufferPointer(start: logits, count: logitRows.count * vocabulary)
    }
}
