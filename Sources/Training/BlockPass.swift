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
    /// [largest cols][largest fused rows]: their transpose, for the input gradient.
    private let transposedWeights: FloatBuffer
    /// [largest fused rows][largest cols]: the weight gradient before it is reduced to parameters.
    private let weightGradient: FloatBuffer
    /// [largest cols][T] and [largest fused rows][T]: the input and the output gradient, transposed.
    private let transposedInput, transposedOutputGradient: FloatBuffer
    /// Backward activations' gradients, shaped as the tape's namesakes.
    private let dMiddle, dNormed, dAttended, dQKV, dGateUp, dHidden: FloatBuffer
    /// Per head: packed keys and values [T][headSize], their transposes and the query's and output
    /// gradient's [headSize][T], the score gradient and a transpose [T][T], and the head's key and
    /// value gradients [T][headSize].
    private let heads: [HeadScratch]

    final class HeadScratch {
        let keys, values, keysT, valuesT, queriesT, outputGradientT, scores, transposed, dKeys, dValues: FloatBuffer
        init(length: Int, headSize: Int) {
            keys = FloatBuffer(length * headSize)
            values = FloatBuffer(length * headSize)
            keysT = FloatBuffer(length * headSize)
            valuesT = FloatBuffer(length * headSize)
            queriesT = FloatBuffer(length * headSize)
            outputGradientT = FloatBuffer(length * headSize)
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
        transposedInput = FloatBuffer(cols * length)
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

    /// Dequantizes `layers` of `block` (rows stacked) into the weight scratch, and their transpose
    /// when `transposed`. Returns the stacked row count.
    @discardableResult
    private func dequantize(_ block: TrainableBlock, layers: Range<Int>, transposed: Bool) -> Int {
        let cols = block.linears[layers.lowerBound].cols
        let total = layers.reduce(0) { $0 + block.linears[$1].rows }
        var offset = 0
        for index in layers {
            let linear = block.linears[index], base = offset
            precondition(linear.cols == cols, "fused layers read the same input")
            pool.parallelFor(linear.rows) { rows in
                linear.dequantize(rows: rows, into: weights.pointer + (base + rows.lowerBound) * cols, ldo: cols,
                                  transposed: transposed ? transposedWeights.pointer + base + rows.lowerBound : nil,
                                  ldt: total)
            }
            offset += linear.rows
        }
        return total
    }

    /// out[T][rows of layers] = input[T][cols] · Wᵀ for the stacked `layers`.
    private func product(_ block: TrainableBlock, layers: Range<Int>, input: UnsafePointer<Float>,
                         into out: UnsafeMutablePointer<Float>) {
        let cols = block.linears[layers.lowerBound].cols
        let total = dequantize(block, layers: layers, transposed: false)
        DenseProduct.multiply(input, lda: cols, rows: length, byRowsOf: weights.pointer, columns: total, depth: cols,
                              into: out, ldc: total, pool: pool)
    }

    /// Causal attention with grouped key/value heads, one head per piece, keeping the probabilities.
    private func attention(_ tape: BlockTape) {
        let T = length, hs = headSize, group = config.heads / config.kvHeads
        let scale = 1 / Float(hs).squareRoot()
        let qkv = tape.qkv.pointer, width = qkvWidth
        pool.claimPieces(config.heads) { h in
            let s = heads[h], g = h / group
            let probabilities = tape.probabilities.pointer + h * T * T
            pack(qkv + q + g * hs, into: s.keys.pointer)
            DenseProduct.transpose(qkv + q + kv + g * hs, ldx: width, rows: T, cols: hs, into: s.valuesT.pointer, ldt: T)
            DenseProduct.multiply(qkv + h * hs, lda: width, rows: T, byRowsOf: s.keys.pointer, columns: 0..<T, depth: hs,
                                  into: probabilities, ldc: T)
            for i in 0..<T {
                let row = probabilities + i * T, visible = i + 1
                for j in 0..<visible { row[j] *= scale }
                FloatOps.softmax(row, count: visible)
                (row + visible).update(repeating: 0, count: T - visible)
            }
            DenseProduct.multiply(probabilities, lda: T, rows: T, byRowsOf: s.valuesT.pointer, columns: 0..<hs, depth: T,
                                  into: tape.attended.pointer + h * hs, ldc: q)
        }
    }

    /// Copies a head's T rows of `headSize` (stride qkvWidth) into contiguous rows.
    private func pack(_ source: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        for t in 0..<length { (out + t * headSize).update(from: source + t * qkvWidth, count: headSize) }
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
        normalizeBackward(tape.middle.pointer, weight: block.feedForwardNorm, inverseRMS: tape.inverseRMS2.pointer,
                          outputGradient: dNormed.pointer, addingInto: dMiddle.pointer)

        productBackward(block, layers: 3..<4, input: tape.attended.pointer, outputGradient: dMiddle.pointer,
                        gradients: &gradients, inputGradient: dAttended.pointer)
        attentionBackward(tape)
        for t in 0..<T {
            let row = dQKV.pointer + t * qkvWidth
            rope.apply(row, heads: config.heads, position: t, inverse: true)
            rope.apply(row + q, heads: config.kvHeads, position: t, inverse: true)
        }
        guard let inputGradient else {
            productBackward(block, layers: 0..<3, input: tape.normed1.pointer, outputGradient: dQKV.pointer,
                            gradients: &gradients, inputGradient: nil)
            return
        }
        productBackward(block, layers: 0..<3, input: tape.normed1.pointer, outputGradient: dQKV.pointer,
                        gradients: &gradients, inputGradient: dNormed.pointer)
        inputGradient.update(from: dMiddle.pointer, count: T * d)
        normalizeBackward(tape.input.pointer, weight: block.attentionNorm, inverseRMS: tape.inverseRMS1.pointer,
                          outputGradient: dNormed.pointer, addingInto: inputGradient)
    }

    private func normalizeBackward(_ x: UnsafePointer<Float>, weight: [Float], inverseRMS: UnsafePointer<Float>,
                                   outputGradient dy: UnsafePointer<Float>, addingInto dx: UnsafeMutablePointer<Float>) {
        RMSNormPass.backward(x, weight: weight, inverseRMS: inverseRMS, rows: length, width: d, outputGradient: dy,
                             addingInto: dx)
    }

    /// The backward of `product`: dX = dY · W into `inputGradient` (when given), and dW = dYᵀ · X
    /// reduced to each trainable layer's parameter gradient.
    private func productBackward(_ block: TrainableBlock, layers: Range<Int>, input: UnsafePointer<Float>,
                                 outputGradient dY: UnsafePointer<Float>, gradients: inout [[Float]],
                                 inputGradient: UnsafeMutablePointer<Float>?) {
        let T = length, cols = block.linears[layers.lowerBound].cols
        let total = dequantize(block, layers: layers, transposed: inputGradient != nil)
        if let inputGradient {
            DenseProduct.multiply(dY, lda: total, rows: T, byRowsOf: transposedWeights.pointer, columns: cols,
                                  depth: total, into: inputGradient, ldc: cols, pool: pool)
        }
        guard layers.contains(where: { block.linears[$0].parameterCount > 0 }) else { return }
        pool.parallelFor(2) { parts in
            for part in parts {
                if part == 0 {
                    DenseProduct.transpose(dY, ldx: total, rows: T, cols: total, into: transposedOutputGradient.pointer, ldt: T)
                } else {
                    DenseProduct.transpose(input, ldx: cols, rows: T, cols: cols, into: transposedInput.pointer, ldt: T)
                }
            }
        }
        DenseProduct.multiply(transposedOutputGradient.pointer, lda: T, rows: total, byRowsOf: transposedInput.pointer,
                              columns: cols, depth: T, into: weightGradient.pointer, ldc: cols, pool: pool)
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
            let probabilities = tape.probabilities.pointer + h * T * T
            let dOutput = dAttended.pointer + h * hs
            pack(qkv + q + kv + g * hs, into: s.values.pointer)
            DenseProduct.transpose(qkv + q + g * hs, ldx: width, rows: T, cols: hs, into: s.keysT.pointer, ldt: T)
            DenseProduct.transpose(qkv + h * hs, ldx: width, rows: T, cols: hs, into: s.queriesT.pointer, ldt: T)
            DenseProduct.transpose(dOutput, ldx: q, rows: T, cols: hs, into: s.outputGradientT.pointer, ldt: T)
            // dV = Pᵀ · dO
            DenseProduct.transpose(probabilities, ldx: T, rows: T, cols: T, into: s.transposed.pointer, ldt: T)
            DenseProduct.multiply(s.transposed.pointer, lda: T, rows: T, byRowsOf: s.outputGradientT.pointer,
                                  columns: 0..<hs, depth: T, into: s.dValues.pointer, ldc: hs)
            // dP = dO · Vᵀ, then dS in its place.
            let scores = s.scores.pointer
            DenseProduct.multiply(dOutput, lda: q, rows: T, byRowsOf: s.values.pointer, columns: 0..<T, depth: hs,
                                  into: scores, ldc: T)
            for i in 0..<T {
                let p = probabilities + i * T, dp = scores + i * T, visible = i + 1
                let r = dot(p, dp, visible)
                for j in 0..<visible { dp[j] = p[j] * (dp[j] - r) * scale }
                (dp + visible).update(repeating: 0, count: T - visible)
            }
            // dQ = dS · K, dK = dSᵀ · Q
            DenseProduct.multiply(scores, lda: T, rows: T, byRowsOf: s.keysT.pointer, columns: 0..<hs, depth: T,
                                  into: dqkv + h * hs, ldc: width)
            DenseProduct.transpose(scores, ldx: T, rows: T, cols: T, into: s.transposed.pointer, ldt: T)
            DenseProduct.multiply(s.transposed.pointer, lda: T, rows: T, byRowsOf: s.queriesT.pointer,
                                  columns: 0..<hs, depth: T, into: s.dKeys.pointer, ldc: hs)
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
