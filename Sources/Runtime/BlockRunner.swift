import Engine
import Foundation
import ModelFile
import Parallel

/// Runs transformer blocks over a residual stream and their KV cache: the part of a forward pass
/// that calibration also needs on its own, one block at a time.
///
/// Every linear layer goes through `LinearWeight`, so the same code runs HLQ models on the LUT
/// kernels (GEMM for a batch, GEMV for one token) and float models on the reference path. The
/// matrix products and attention are split across the thread pool; the rest is elementwise.
public final class BlockRunner: @unchecked Sendable {
    public let config: ModelConfig
    /// Blocks the KV cache has room for.
    public let layers: Int
    /// Positions the KV cache holds.
    public let contextLength: Int
    /// Tokens per forward call.
    public let maxBatch: Int
    public let pool: ThreadPool
    /// Where `elutq bench --profile` has the passes' time recorded, by kind of work; nil records nothing.
    public var profile: StepProfile?
    private let rope: RotaryEmbedding

    private let embeddingSize, querySize, kvSize, feedForwardSize: Int
    /// [layers][contextLength][kvSize]
    private let keys, values: UnsafeMutablePointer<Float>
    /// [maxBatch][embeddingSize]: the residual stream, which callers fill and read between blocks.
    public let residual: UnsafeMutablePointer<Float>
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
    /// [threads][scoreRows][contextLength]: attention scores, a tile of query rows (or, decoding,
    /// the query heads of one key/value head) per participant.
    private let scores: UnsafeMutablePointer<Float>
    private let scoreRows: Int
    /// [threads][contextLength * headSize]: one key/value head's keys, packed for the GEMM, per
    /// participant.
    private let packed: UnsafeMutablePointer<Float>
    /// Queries per batched-attention work item.
    private static let attentionTile = 32

    /// Buffers for `maxBatch` tokens and a KV cache of `layers` blocks by `contextLength` positions.
    public init(config c: ModelConfig, layers: Int, contextLength: Int, maxBatch: Int, pool: ThreadPool) {
        self.config = c
        self.layers = layers
        self.contextLength = contextLength
        self.maxBatch = maxBatch
        self.pool = pool
        rope = RotaryEmbedding(config: c, positions: contextLength)
        embeddingSize = c.embeddingSize
        querySize = c.heads * c.headSize
        kvSize = c.kvSize
        feedForwardSize = c.feedForwardSize
        keys = .allocate(capacity: layers * contextLength * c.kvSize)
        values = .allocate(capacity: layers * contextLength * c.kvSize)
        residual = .allocate(capacity: maxBatch * c.embeddingSize)
        attentionInput = LinearInput(cols: c.embeddingSize, capacity: maxBatch)
        queries = .allocate(capacity: maxBatch * querySize)
        attentionResult = LinearInput(cols: querySize, capacity: maxBatch)
        projected = .allocate(capacity: maxBatch * c.embeddingSize)
        feedForwardInput = LinearInput(cols: c.embeddingSize, capacity: maxBatch)
        ups = .allocate(capacity: maxBatch * c.feedForwardSize)
        downInput = LinearInput(cols: c.feedForwardSize, capacity: maxBatch)
        scoreRows = max(Self.attentionTile, c.heads / c.kvHeads)
        scores = .allocate(capacity: pool.threadCount * scoreRows * contextLength)
        packed = .allocate(capacity: pool.threadCount * contextLength * c.headSize)
    }

    deinit {
        for buffer in [keys, values, residual, queries, projected, ups, scores, packed] { buffer.deallocate() }
    }

    /// Bytes of the KV cache (keys and values, all layers, the whole context).
    public var kvCacheBytes: Int { 2 * layers * contextLength * kvSize * MemoryLayout<Float>.size }

    /// Where a linear layer's input can be observed: q, k and v share one, as do gate and up.
    public enum InputSite: Sendable, CaseIterable {
        case attention, attentionOutput, feedForward, down
    }

    /// Runs `block` on the first `count` rows of `residual` at positions `position...`, keeping its
    /// keys and values in cache layer `layer`. `observe` sees each linear input before it is used,
    /// which is how calibration collects its Hessians; such a run is for the inputs alone, so it
    /// skips the down projection, whose output no observer sees, and leaves `residual` as it stands
    /// after attention.
    public func run(_ block: BlockWeights, layer: Int, count: Int, position: Int,
                    observe: ((InputSite, LinearInput) -> Void)? = nil) {
        precondition(count > 0 && count <= maxBatch, "a block runs 1...\(maxBatch) tokens")
        precondition(position >= 0 && position + count <= contextLength, "positions past the context")
        precondition(layer < layers)
        attention(block, layer: layer, count: count, position: position, observe: observe)
        feedForward(block, count: count, observe: observe)
    }

    private func attention(_ block: BlockWeights, layer: Int, count: Int, position: Int,
                           observe: ((InputSite, LinearInput) -> Void)?) {
        let layerKeys = keys + layer * contextLength * kvSize, layerValues = values + layer * contextLength * kvSize
        // One thread reads this layer's whole cache in attention below: ask for it now, so it
        // arrives during the q/k/v products (with more threads, each reads part, into its own L2).
        // Issuing the requests is attention's work in the profile.
        if count == 1 && pool.threadCount == 1 {
            StepProfile.measure(profile, .attention) {
                DecodeAttention.prefetch(keys: layerKeys, values: layerValues, positions: position, kvSize: kvSize)
            }
        }
        normalize(count: count, weight: block.attentionNorm, into: attentionInput)
        attentionInput.invalidate(count: count)
        observe?(.attention, attentionInput)
        // New keys and values go straight into the cache at their positions.
        let newKeys = layerKeys + position * kvSize, newValues = layerValues + position * kvSize
        LinearWeight.multiply([(block.query, queries, querySize), (block.key, newKeys, kvSize), (block.value, newValues, kvSize)],
                              input: attentionInput, pool: pool, profile: profile)
        elementwise(count: count) { tokens in
            for t in tokens {
                if let bias = block.queryBias { FloatOps.add(queries + t * querySize, bias, count: querySize) }
                if let bias = block.keyBias { FloatOps.add(newKeys + t * kvSize, bias, count: kvSize) }
                if let bias = block.valueBias { FloatOps.add(newValues + t * kvSize, bias, count: kvSize) }
                rope.apply(queries + t * querySize, heads: config.heads, position: position + t)
                rope.apply(newKeys + t * kvSize, heads: config.kvHeads, position: position + t)
            }
        }
        StepProfile.measure(profile, .attention) {
            if count > 1 {
                batchedAttention(layerKeys, layerValues, count: count, position: position)
            } else {
                singleAttention(layerKeys, layerValues, count: count, position: position)
            }
        }
        attentionResult.invalidate(count: count)
        observe?(.attentionOutput, attentionResult)
        block.attentionOutput.multiply(attentionResult, into: projected, ldy: embeddingSize, pool: pool, profile: profile)
        addToResidual(count: count)
    }

    /// Elementwise work over `count` tokens, split by tokens across the pool (a tenth of a long
    /// prefill on one thread); a single token stays on the calling thread.
    private func elementwise(count: Int, _ body: (Range<Int>) -> Void) {
        StepProfile.measure(profile, .elementwise) { pool.parallelFor(count, body) }
    }

    /// The block's RMS norm of each token's residual stream, into `input`.
    private func normalize(count: Int, weight: UnsafePointer<Float>, into input: LinearInput) {
        elementwise(count: count) { tokens in
            for t in tokens {
                FloatOps.rmsNorm(residual + t * embeddingSize, weight: weight, count: embeddingSize,
                                 epsilon: config.normEpsilon, into: input.values + t * embeddingSize)
            }
        }
    }

    /// residual += projected for `count` tokens.
    private func addToResidual(count: Int) {
        elementwise(count: count) { tokens in
            FloatOps.add(residual + tokens.lowerBound * embeddingSize, projected + tokens.lowerBound * embeddingSize,
                         count: tokens.count * embeddingSize)
        }
    }

    /// Causal attention with grouped key/value heads for decoding, where one query reads each key
    /// once anyway: each work item is a token and some query heads of one key/value head, run by
    /// `DecodeAttention`, so a cached key or value is read once for all the item's heads.
    private func singleAttention(_ layerKeys: UnsafePointer<Float>, _ layerValues: UnsafePointer<Float>,
                                 count: Int, position: Int) {
        let headSize = config.headSize, kvHeads = config.kvHeads, group = config.heads / kvHeads
        let scale = 1 / Float(headSize).squareRoot()
        let participants = pool.threadCount
        let heads = Self.headsPerItem(group: group, pairs: count * kvHeads, threads: participants)
        let itemsPerGroup = group / heads, itemsPerToken = kvHeads * itemsPerGroup, items = count * itemsPerToken
        let out = attentionResult.values
        pool.run { participant in
            let row = scores + participant * scoreRows * contextLength  // [heads][visible]
            for item in stride(from: participant, to: items, by: participants) {
                let t = item / itemsPerToken, kvHead = item % itemsPerToken / itemsPerGroup
                let firstHead = kvHead * group + item % itemsPerGroup * heads
                let kvOffset = kvHead * headSize
                DecodeAttention.attend(queries: queries + t * querySize + firstHead * headSize, heads: heads,
                                       headSize: headSize, keys: layerKeys + kvOffset, values: layerValues + kvOffset,
                                       kvStride: kvSize, visible: position + t + 1, scale: scale, scratch: row,
                                       into: out + t * querySize + firstHead * headSize)
            }
        }
    }

    /// Query heads per decode work item: the largest divisor of the group (the whole group, ideally:
    /// one pass over the cache per group) whose items still split evenly among the threads,
    /// otherwise one head, for the finest split.
    static func headsPerItem(group: Int, pairs: Int, threads: Int) -> Int {
        for heads in stride(from: group, through: 2, by: -1) where group % heads == 0 && pairs * (group / heads) % threads == 0 {
            return heads
        }
        return 1
    }

    /// Causal attention for a batch of queries as two float GEMMs per (key/value head, tile of
    /// queries): scores = Q Kᵀ over the keys up to the tile's last position, then the softmaxed
    /// scores (zero past each query's own position) times V. The head's keys are packed first,
    /// because that GEMM reads them along contiguous rows; the values are read in place from the
    /// cache by the row-major product (`DenseProduct`), which takes their stride (transposing them
    /// for each tile, as before, took a fifth of a 512-token prefill's attention). Against a dot
    /// product and a scaled add per (query, key) pair this made calibration's forward passes, 512
    /// tokens at a time, markedly faster.
    private func batchedAttention(_ layerKeys: UnsafePointer<Float>, _ layerValues: UnsafePointer<Float>,
                                  count: Int, position: Int) {
        let headSize = config.headSize, group = config.heads / config.kvHeads, tile = Self.attentionTile
        let scale = 1 / Float(headSize).squareRoot()
        let tiles = (count + tile - 1) / tile, items = config.kvHeads * tiles
        let participants = pool.threadCount
        let out = attentionResult.values
        pool.run { participant in
            let tileScores = scores + participant * scoreRows * contextLength
            let packedKeys = packed + participant * contextLength * headSize
            // The largest tiles (the last, which see the most keys) first, dealt round-robin.
            for item in stride(from: participant, to: items, by: participants) {
                let kvHead = item % config.kvHeads, first = (tiles - 1 - item / config.kvHeads) * tile
                let rows = min(tile, count - first), keyCount = position + first + rows
                let kvOffset = kvHead * headSize
                for j in 0..<keyCount {
                    (packedKeys + j * headSize).update(from: layerKeys + j * kvSize + kvOffset, count: headSize)
                }
                for h in (kvHead * group)..<((kvHead + 1) * group) {
                    // tileScores[i][j] = q_{first+i} · k_j
                    FloatMatmul.multiply(packedKeys, cols: headSize, queries + first * querySize + h * headSize,
                                         ldx: querySize, count: rows, into: tileScores, ldy: keyCount, rows: 0..<keyCount)
                    for i in 0..<rows {
                        let row = tileScores + i * keyCount, visible = position + first + i + 1
                        for j in 0..<visible { row[j] *= scale }
                        FloatOps.softmax(row, count: visible)
                        (row + visible).update(repeating: 0, count: keyCount - visible)
                    }
                    // out[first+i][h] = Σ_j p[i][j] v_j
                    DenseProduct.multiply(tileScores, lda: keyCount, rows: rows, by: layerValues + kvOffset, ldb: kvSize,
                                          depth: keyCount, columns: 0..<headSize, into: out + first * querySize + h * headSize,
                                          ldc: querySize)
                }
            }
        }
    }

    private func feedForward(_ block: BlockWeights, count: Int, observe: ((InputSite, LinearInput) -> Void)?) {
        normalize(count: count, weight: block.feedForwardNorm, into: feedForwardInput)
        feedForwardInput.invalidate(count: count)
        observe?(.feedForward, feedForwardInput)
        LinearWeight.multiply([(block.gate, downInput.values, feedForwardSize), (block.up, ups, feedForwardSize)],
                              input: feedForwardInput, pool: pool, profile: profile)
        elementwise(count: count) { tokens in
            let first = tokens.lowerBound * feedForwardSize
            FloatOps.swiglu(downInput.values + first, ups + first, count: tokens.count * feedForwardSize)
        }
        downInput.invalidate(count: count)
        if let observe {
            observe(.down, downInput)
            return
        }
        block.down.multiply(downInput, into: projected, ldy: embeddingSize, pool: pool, profile: profile)
        addToResidual(count: count)
    }
}
