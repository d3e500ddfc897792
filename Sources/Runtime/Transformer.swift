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
    /// Where `elutq bench --profile` has the passes' time recorded; nil records nothing.
    public var profile: StepProfile? {
        get { blocks.profile }
        set { blocks.profile = newValue }
    }
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
        precondition(logitRows.lowerBound >= 0 && logitRows.upperBound <= tokens.count)
        runBlocks(tokens, at: position)
        return logits(ofStream: blocks.residual + logitRows.lowerBound * config.embeddingSize, rows: logitRows.count)
    }

    /// Runs `tokens` at positions `position...` through the blocks only; their last residual
    /// stream is then in `blocks.residual`, [tokens.count][embeddingSize], until the next call.
    public func runBlocks(_ tokens: ArraySlice<Int32>, at position: Int) {
        precondition(!tokens.isEmpty && tokens.count <= maxBatch, "1...maxBatch tokens per call")
        StepProfile.measure(profile, .elementwise) { weights.embedding.rows(tokens, into: blocks.residual) }
        for (layer, block) in weights.blocks.enumerated() {
            blocks.run(block, layer: layer, count: tokens.count, position: position)
        }
    }

    /// The final norm and the head over `rows` (at most `maxBatch`) rows of a last residual stream
    /// ([rows][embeddingSize]): `rows` rows of `vocabularySize` logits, valid until the next call.
    public func logits(ofStream stream: UnsafePointer<Float>, rows: Int) -> UnsafeBufferPointer<Float> {
        precondition(rows <= maxBatch)
        let width = config.embeddingSize
        if rows == 0 { return UnsafeBufferPointer(start: logits, count: 0) }
        StepProfile.measure(profile, .elementwise) {
            for i in 0..<rows {
                FloatOps.rmsNorm(stream + i * width, weight: weights.outputNorm, count: width, epsilon: config.normEpsilon,
                                 into: headInput.values + i * width)
            }
        }
        headInput.invalidate(count: rows)
        weights.output.multiply(headInput, into: logits, ldy: config.vocabularySize, pool: pool, profile: profile, as: .outputHead)
        return UnsafeBufferPointer(start: logits, count: rows * config.vocabularySize)
    }
}
