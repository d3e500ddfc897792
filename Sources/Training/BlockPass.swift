import Engine
import Foundation
import HLQ
import ModelFile
import Parallel
import Runtime

/// The forward and backward passes of one transformer block over one sequence, with the scratch
/// memory they share; the forward computes what the runtime's `BlockRunner` computes, in float.
///
/// Linear layers that read the same input run as one product (q, k and v; gate and up), their
/// dense weights dequantized from the current parameters into scratch just before use, so no
/// layer's float copy outlives its product. Every product goes through `DenseProduct`.
public final class BlockPass: @unchecked Sendable {
    public let config: ModelConfig
    /// Tokens per sequence (T).
    public let length: Int
    public let pool: ThreadPool
    private let rope: RotaryEmbedding
    private let d, q, kv, f, headSize: Int
    /// Width of the fused q/k/v output.
    private var qkvWidth: Int { q + 2 * kv }

    /// [largest fused rows][largest cols]: a fused product's dense weights.
    private let weights: FloatBuffer
    /// [largest cols][largest fused rows]: their transpose, the forward's right operand.
    private let transposedWeights: FloatBuffer
    /// [largest fused rows][largest cols]: the weight gradient before it is reduced to parameters.
    private let weightGradient: FloatBuffer
    /// [largest fused rows][T]: the output gradient, transposed.
    private let transposedOutputGradient: FloatBuffer
    /// Backward activations' gradients, shaped as the tape's namesakes.
    private let dMiddle, dNormed, dAttended, dQKV, dGateUp, dHidden: FloatBuffer
    /// Per head: scratch of its attention.
    private let heads: [HeadScratch]
    /// Query rows per causal slice of attention's products: a slice's later keys are all masked.
    private static let causalSlice = 64

    final class HeadScratch {
        /// [headSize][T]: the head's keys and values, transposed.
        let keysT, valuesT: FloatBuffer
        /// [T][T]: the score gradient, and a transpose of it or of the probabilities.
        let scores, transposed: FloatBuffer
        /// [T][headSize]: this query head's share of its key/value head's gradients.
        let dKeys, dValues: FloatBuffer
        init(length: Int, headSize: Int) {
            keysT = FloatBuffer(length * headSize)
            valuesT = FloatBuffer(length * headSize)
            scores = FloatBuffer(length * length)
            transposed = FloatBuffer(length * length)
            dKeys = FloatBuffer(length * headSize)
            dValues = FloatBuffer(length * headSize)
        }
    }

    public init(config c: ModelConfig, length: Int, pool: ThreadPool) {
        config = c
        self.length = length
        self.pool = pool
        rope = RotaryEmbedding(config: c, positions: length)
        d = c.embeddingSize
        q = c.heads * c.headSize
        kv = c.kvSize
        f = c.feedForwardSize
        headSize = c.headSize
        let fusedRows = max(q + 2 * kv, 2 * f, d), cols = max(d, q, f)
        weights = FloatBuffer(fusedRows * cols)
        transposedWeights = FloatBuffer(fusedRows * cols)
        weightGradient = FloatBuffer(fusedRows * cols)
        transposedOutputGradient = FloatBuffer(fusedRows * length)
        dMiddle = FloatBuffer(length * d)
        dNormed = FloatBuffer(length * d)
        dAttended = FloatBuffer(length * q)
        dQKV = FloatBuffer(length * (q + 2 * kv))
        dGateUp = FloatBuffer(length * 2 * f)
        dHidden = FloatBuffer(length * f)
        heads = (0..<c.heads).map { _ in HeadScratch(length: length, headSize: c.headSize) }
    }

    // MARK: Forward

    /// Runs `block` on `tape.input`, filling the rest of the tape; the result is `tape.output`.
    public func forward(_ block: TrainableBlock, tape: BlockTape) {
        precondition(tape.length == length)
        let T = length, x = tape.input.pointer
        normalize(x, weight: block.attentionNorm, into: tape.normed1.pointer, inverseRMS: tape.inverseRMS1.pointer)
        product(block, layers: 0..<3, input: tape.normed1.pointer, into: tape.qkv.pointer)
        for t in 0..<T {
            let row = tape.qkv.pointer + t * qkvWidth
            if let bias = block.queryBias { add(bias, to: row) }
            if let bias = block.keyBias { add(bias, to: row + q) }
            if let bias = block.valueBias { add(bias, to: row + q + kv) }
            rope.apply(row, heads: config.heads, position: t)
            rope.apply(row + q, heads: config.kvHeads, position: t)
        }
        attention(tape)
        product(block, layers: 3..<4, input: tape.attended.pointer, into: tape.middle.pointer)
        FloatOps.add(tape.middle.pointer, x, count: T * d)

        normalize(tape.middle.pointer, weight: block.feedForwardNorm, into: tape.normed2.pointer,
                  inverseRMS: tape.inverseRMS2.pointer)
        product(block, layers: 4..<6, input: tape.normed2.pointer, into: tape.gateUp.pointer)
        for t in 0..<T {
            let gate = tape.gateUp.pointer + t * 2 * f, hidden = tape.hidden.pointer + t * f
            hidden.update(from: gate, count: f)
            FloatOps.swiglu(hidden, gate + f, count: f)
        }
        product(block, layers: 6..<7, input: tape.hidden.pointer, into: tape.output.pointer)
        FloatOps.add(tape.output.pointer, tape.middle.pointer, count: T * d)
    }

    private func normalize(_ x: UnsafePointer<Float>, weight: [Float], into out: UnsafeMutablePointer<Float>,
                           inverseRMS: UnsafeMutablePointer<Float>) {
        RMSNormPass.forward(x, weight: weight, rows: length, width: d, epsilon: config.normEpsilon, into: out,
                            inverseRMS: inverseRMS)
    }

    private func add(_ bias: [Float], to row: UnsafeMutablePointer<Float>) {
        bias.withUnsafeBufferPointer { FloatOps.add(row, $0.baseAddress!, count: $0.count) }
    }

    /// Dequantizes `layers` of `block`, rows stacked, into the weight scratch ([total][cols]);
    /// returns the stacked row count.
    @discardableResult
    private func dequantize(_ block: TrainableBlock, layers: Range<Int>) -> Int {
        let cols = block.linears[layers.lowerBound].cols
        var offset = 0
        for index in layers {
            let linear = block.linears[index], base = offset
            precondition(linear.cols == cols, "fused layers read the same input")
            pool.parallelFor(linear.rows) { rows in
                linear.dequantize(rows: rows, into: weights.pointer + (base + rows.lowerBound) * cols, ldo: cols)
            }
            offset += linear.rows
        }
        return offset
    }

    /// out[T][rows of layers] = input[T][cols] · Wᵀ for the stacked `layers`.
    private func product(_ block: TrainableBlock, layers: Range<Int>, input: UnsafePointer<Float>,
                         into out: UnsafeMutablePointer<Float>) {
        let cols = block.linears[layers.lowerBound].cols
        let total = dequantize(block, layers: layers)
        let (w, t) = (weights.pointer, transposedWeights.pointer)
        pool.parallelFor(cols) { columns in
            DenseProduct.transpose(w + columns.lowerBound, ldx: cols, rows: total, cols: columns.count,
                                   into: t + columns.lowerBound * total, ldt: total)
        }
        DenseProduct.multiply(input, lda: cols, rows: length, by: t, ldb: total, depth: cols, columns: total,
                              into: out, ldc: total, pool: pool)
    }

    /// Causal attention with grouped key/value heads, one head per piece, keeping the probabilities.
    /// Products run in slices of query rows, each over the keys its rows can see.
    private func attention(_ tape: BlockTape) {
        let T = length, hs = headSize, group = config.heads / config.kvHeads
        let scale = 1 / Float(hs).squareRoot()
        let qkv = tape.qkv.pointer, width = qkvWidth
        pool.claimPieces(config.heads) { h in
            let s = heads[h], g = h / group
            let probabilities = tape.probabilities.pointer + h * T * T
            DenseProduct.transpose(qkv + q + g * hs, ldx: width, rows: T, cols: hs, into: s.keysT.pointer, ldt: T)
            for first in stride(from: 0, to: T, by: Self.causalSlice) {
                let rows = min(Self.causalSlice, T - first), visible = first + rows
                // scores = q · kᵀ over the keys up to the slice's last row
                DenseProduct.multiply(qkv + first * width + h * hs, lda: width, rows: rows, by: s.keysT.pointer, ldb: T,
                                      depth: hs, columns: 0..<visible, into: probabilities + first * T, ldc: T)
                for i in first..<visible {
                    let row = probabilities + i * T, seen = i + 1
                    for j in 0..<seen { row[j] *= scale }
                    FloatOps.softmax(row, count: seen)
                    (row + seen).update(repeating: 0, count: T - seen)
                }
                // out = p · v
                DenseProduct.multiply(probabilities + first * T, lda: T, rows: rows, by: qkv + q + kv + g * hs, ldb: width,
                                      depth: visible, columns: 0..<hs, into: tape.attended.pointer + first * q + h * hs, ldc: q)
            }
        }
    }

    // MARK: Backward

    /// Given dL/d(output) in `outputGradient` ([T][embeddingSize]), adds the parameter gradients
    /// of `block` to `gradients` (laid out as `block.zeroGradients()`) and, when `inputGradient`
    /// is given, writes dL/d(input) there. `tape` must hold this block's forward.
    public func backward(_ block: TrainableBlock, tape: BlockTape, outputGradient: UnsafePointer<Float>,
                         gradients: inout [[Float]], inputGradient: UnsafeMutablePointer<Float>?) {
        let T = length
        dMiddle.pointer.update(from: outputGradient, count: T * d)
        productBackward(block, layers: 6..<7, input: tape.hidden.pointer, outputGradient: outputGradient,
                        gradients: &gradients, inputGradient: dHidden.pointer)
        for t in 0..<T {
            let gate = tape.gateUp.pointer + t * 2 * f, dGate = dGateUp.pointer + t * 2 * f
            let dh = dHidden.pointer + t * f
            for i in 0..<f {
                let g = gate[i], u = gate[f + i], sigmoid = 1 / (1 + exp(-g))
                dGate[f + i] = dh[i] * g * sigmoid
                dGate[i] = dh[i] * u * sigmoid * (1 + g * (1 - sigmoid))
            }
        }
        productBackward(block, layers: 4..<6, input: tape.normed2.pointer, outputGradient: dGateUp.pointer,
                        gradients: &gradients, inputGradient: dNormed.pointer)
        gradients[TrainableBlock.feedForwardNormArray].withUnsafeMutableBufferPointer { dw in
            normalizeBackward(tape.middle.pointer, weight: block.feedForwardNorm, inverseRMS: tape.inverseRMS2.pointer,
                              outputGradient: dNormed.pointer, addingInto: dMiddle.pointer, weightGradient: dw.isEmpty ? nil : dw.baseAddress)
        }

        productBackward(block, layers: 3..<4, input: tape.attended.pointer, outputGradient: dMiddle.pointer,
                        gradients: &gradients, inputGradient: dAttended.pointer)
        attentionBackward(tape)
        for t in 0..<T {
            let row = dQKV.pointer + t * qkvWidth
            rope.apply(row, heads: config.heads, position: t, inverse: true)
            rope.apply(row + q, heads: config.kvHeads, position: t, inverse: true)
        }
        guard inputGradient != nil || block.trainsNorms else {
            productBackward(block, layers: 0..<3, input: tape.normed1.pointer, outputGradient: dQKV.pointer,
                            gradients: &gradients, inputGradient: nil)
            return
        }
        productBackward(block, layers: 0..<3, input: tape.normed1.pointer, outputGradient: dQKV.pointer,
                        gradients: &gradients, inputGradient: dNormed.pointer)
        // Without an input gradient to return, dMiddle is dead here and only absorbs the norm's dx.
        let dx = inputGradient ?? dMiddle.pointer
        if inputGradient != nil { dx.update(from: dMiddle.pointer, count: T * d) }
        gradients[TrainableBlock.attentionNormArray].withUnsafeMutableBufferPointer { dw in
            normalizeBackward(tape.input.pointer, weight: block.attentionNorm, inverseRMS: tape.inverseRMS1.pointer,
                              outputGradient: dNormed.pointer, addingInto: dx, weightGradient: dw.isEmpty ? nil : dw.baseAddress)
        }
    }

    /// Norm backward over the sequence; `weightGradient` nil (an empty array's) when the norm is frozen.
    private func normalizeBackward(_ x: UnsafePointer<Float>, weight: [Float], inverseRMS: UnsafePointer<Float>,
                                   outputGradient dy: UnsafePointer<Float>, addingInto dx: UnsafeMutablePointer<Float>,
                                   weightGradient: UnsafeMutablePointer<Float>?) {
        RMSNormPass.backward(x, weight: weight, inverseRMS: inverseRMS, rows: length, width: d, outputGradient: dy,
                             addingInto: dx, weightGradient: weightGradient)
    }

    /// The backward of `product`: dX = dY · W into `inputGradient` (when given), and dW = dYᵀ · X
    /// reduced to each trainable layer's parameter gradient.
    private func productBackward(_ block: TrainableBlock, layers: Range<Int>, input: UnsafePointer<Float>,
                                 outputGradient dY: UnsafePointer<Float>, gradients: inout [[Float]],
                                 inputGradient: UnsafeMutablePointer<Float>?) {
        let T = length, cols = block.linears[layers.lowerBound].cols
        let total = layers.reduce(0) { $0 + block.linears[$1].rows }
        if let inputGradient {
            dequantize(block, layers: layers)
            DenseProduct.multiply(dY, lda: total, rows: T, by: weights.pointer, ldb: cols, depth: total, columns: cols,
                                  into: inputGradient, ldc: cols, pool: pool)
        }
        guard layers.contains(where: { block.linears[$0].parameterCount > 0 }) else { return }
        let dYT = transposedOutputGradient.pointer
        pool.parallelFor(total) { columns in
            DenseProduct.transpose(dY + columns.lowerBound, ldx: total, rows: T, cols: columns.count,
                                   into: dYT + columns.lowerBound * T, ldt: T)
        }
        DenseProduct.multiply(dYT, lda: T, rows: total, by: input, ldb: cols, depth: T, columns: cols,
                              into: weightGradient.pointer, ldc: cols, pool: pool)
        var offset = 0
        for index in layers {
            let linear = block.linears[index], base = offset
            offset += linear.rows
            guard case .hlq(let matrix) = linear else { continue }
            gradients[index].withUnsafeMutableBufferPointer { g in
                let g = g.baseAddress!
                pool.parallelFor(matrix.rows) { rows in
                    matrix.accumulateGradient(rows: rows, weightGradient: weightGradient.pointer + (base + rows.lowerBound) * cols,
                                              ldg: cols, into: g)
                }
            }
        }
    }

    /// Attention's backward, one head per piece: dP = dO·Vᵀ, dS = P ⊙ (dP − Σ P·dP)·scale,
    /// dQ = dS·K, dK = dSᵀ·Q, dV = Pᵀ·dO; the heads sharing a key/value head add their dK, dV.
    private func attentionBackward(_ tape: BlockTape) {
        let T = length, hs = headSize, group = config.heads / config.kvHeads
        let scale = 1 / Float(hs).squareRoot()
        let qkv = tape.qkv.pointer, width = qkvWidth, dqkv = dQKV.pointer
        pool.claimPieces(config.heads) { h in
            let s = heads[h], g = h / group
            let probabilities = tape.probabilities.pointer + h * T * T, scores = s.scores.pointer
            let dOutput = dAttended.pointer + h * hs
            let keys = qkv + q + g * hs, values = keys + kv, queries = qkv + h * hs
            DenseProduct.transpose(values, ldx: width, rows: T, cols: hs, into: s.valuesT.pointer, ldt: T)
            for first in stride(from: 0, to: T, by: Self.causalSlice) {
                let rows = min(Self.causalSlice, T - first), visible = first + rows
                // dP = dO · vᵀ over the visible keys, then dS in its place
                DenseProduct.multiply(dOutput + first * q, lda: q, rows: rows, by: s.valuesT.pointer, ldb: T, depth: hs,
                                      columns: 0..<visible, into: scores + first * T, ldc: T)
                for i in first..<visible {
                    let p = probabilities + i * T, dp = scores + i * T, seen = i + 1
                    let r = dot(p, dp, seen)
                    for j in 0..<seen { dp[j] = p[j] * (dp[j] - r) * scale }
                    (dp + seen).update(repeating: 0, count: T - seen)
                }
                // dQ = dS · k
                DenseProduct.multiply(scores + first * T, lda: T, rows: rows, by: keys, ldb: width, depth: visible,
                                      columns: 0..<hs, into: dqkv + first * width + h * hs, ldc: width)
            }
            // dK = dSᵀ · q, dV = Pᵀ · dO
            DenseProduct.transpose(scores, ldx: T, rows: T, cols: T, into: s.transposed.pointer, ldt: T)
            DenseProduct.multiply(s.transposed.pointer, lda: T, rows: T, by: queries, ldb: width, depth: T,
                                  columns: 0..<hs, into: s.dKeys.pointer, ldc: hs)
            DenseProduct.transpose(probabilities, ldx: T, rows: T, cols: T, into: s.transposed.pointer, ldt: T)
            DenseProduct.multiply(s.transposed.pointer, lda: T, rows: T, by: dOutput, ldb: q, depth: T,
                                  columns: 0..<hs, into: s.dValues.pointer, ldc: hs)
        }
        for g in 0..<config.kvHeads {
            for t in 0..<T {
                let dk = dqkv + t * width + q + g * hs, dv = dk + kv
                dk.update(repeating: 0, count: hs)
                dv.update(repeating: 0, count: hs)
                for h in (g * group)..<((g + 1) * group) {
                    FloatOps.add(dk, heads[h].dKeys.pointer + t * hs, count: hs)
                    FloatOps.add(dv, heads[h].dValues.pointer + t * hs, count: hs)
                }
            }
        }
    }
}
