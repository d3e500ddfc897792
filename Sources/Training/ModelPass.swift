import Engine
import Foundation
import ModelFile
import Parallel
import Runtime

/// The whole quantized model's forward over one sequence (every block kept on a tape), its head
/// and loss, and the backward through all of it: what end-to-end tuning steps with, and what
/// scores a model the way `elutq ppl` does.
public final class ModelPass {
    public let student: StudentModel
    /// Tokens per sequence (T), at positions 0..<T.
    public let length: Int
    let pool: ThreadPool
    let pass: BlockPass
    /// The float model, run by the runtime, for distillation targets; nil when not distilling.
    private let teacher: Transformer?
    /// Per sequence seen, [T][embeddingSize]: the float model's last residual stream, so that its
    /// blocks run once per calibration sequence however many epochs and evaluations visit it
    /// (T·embeddingSize·4 bytes a sequence: 38 MB for SmolLM2's 64 of 256 tokens, less than
    /// block reconstruction's two streams of every sequence).
    private var teacherStreams: [[Int32]: [Float]] = [:]
    /// One tape per block.
    private let tapes: [BlockTape]
    private let d, vocabulary: Int
    /// Rows of the head handled at once (the logits of a tile live in `logits`).
    private static let tile = 64
    /// [embeddingSize][vocabularySize]: the head's transpose, the right operand of the logits' product.
    private let headTransposed: FloatBuffer
    /// [tile][vocabularySize]
    private let logits: FloatBuffer
    /// [vocabularySize][tile] and [embeddingSize][tile]: the backward through the head runs
    /// transposed, so that the head is held once, as `headTransposed`.
    private let logitsTransposed, headGradientTransposed: FloatBuffer
    /// [T][embeddingSize]: the final norm's output, then the gradients flowing back between blocks.
    private let normed, gradient, nextGradient: FloatBuffer
    /// [T]
    private let inverseRMS: FloatBuffer

    public init(student: StudentModel, teacher: ModelWeights?, length: Int, pool: ThreadPool) {
        self.student = student
        self.length = length
        self.pool = pool
        let c = student.config
        d = c.embeddingSize
        vocabulary = c.vocabularySize
        pass = BlockPass(config: c, length: length, pool: pool)
        self.teacher = teacher.map { Transformer(weights: $0, contextLength: length, maxBatch: Self.tile, pool: pool) }
        tapes = (0..<c.layers).map { _ in BlockTape(config: c, length: length) }
        headTransposed = FloatBuffer(c.embeddingSize * c.vocabularySize)
        student.transposeHead(into: headTransposed.pointer, pool: pool)
        logits = FloatBuffer(Self.tile * vocabulary)
        logitsTransposed = FloatBuffer(vocabulary * Self.tile)
        headGradientTransposed = FloatBuffer(d * Self.tile)
        normed = FloatBuffer(length * d)
        gradient = FloatBuffer(length * d)
        nextGradient = FloatBuffer(length * d)
        inverseRMS = FloatBuffer(length)
    }

    /// What a loss compares the model's next-token distribution with.
    public enum Target {
        /// The float model's distribution at every position: KL(teacher ‖ model).
        case teacher
        /// The next token of the sequence, at positions `scored` (each predicting the one after it).
        case nextTokens(scored: Range<Int>)
    }

    /// Mean loss per scored position of `tokens` (length T); with `computeGradient`, also the
    /// gradient of that mean, ready for `backward`.
    public func loss(_ tokens: [Int32], target: Target, computeGradient: Bool) -> Double {
        precondition(tokens.count == length)
        let first = tapes[0].input.pointer
        student.embedding.rows(tokens, into: first)
        for (index, block) in student.blocks.enumerated() {
            pass.forward(block, tape: tapes[index])
            if index + 1 < tapes.count { tapes[index + 1].input.pointer.update(from: tapes[index].output.pointer, count: length * d) }
        }
        let last = tapes[tapes.count - 1].output.pointer
        RMSNormPass.forward(last, weight: student.outputNorm, rows: length, width: d, epsilon: student.config.normEpsilon,
                            into: normed.pointer, inverseRMS: inverseRMS.pointer)
        let scored: Range<Int>
        switch target {
        case .teacher:
            precondition(teacher != nil, "distillation needs the float model")
            scored = 0..<length
        case .nextTokens(let range):
            precondition(range.lowerBound >= 0 && range.upperBound < length, "the last position has no next token")
            scored = range
        }
        let scale = 1 / Float(scored.count)
        let teacherStream = target.isTeacher ? teacherStream(tokens) : []
        var total = 0.0
        for tile in stride(from: 0, to: length, by: Self.tile) {
            let rows = min(Self.tile, length - tile)
            let teacherLogits = target.isTeacher
                ? teacherStream.withUnsafeBufferPointer { teacher!.logits(ofStream: $0.baseAddress! + tile * d, rows: rows) } : nil
            DenseProduct.multiply(normed.pointer + tile * d, lda: d, rows: rows, by: headTransposed.pointer, ldb: vocabulary,
                                  depth: d, columns: vocabulary, into: logits.pointer, ldc: vocabulary, pool: pool)
            for r in 0..<rows {
                let t = tile + r, z = logits.pointer + r * vocabulary
                guard scored.contains(t) else {
                    z.update(repeating: 0, count: vocabulary)
                    continue
                }
                FloatOps.softmax(z, count: vocabulary)
                if let teacherLogits {
                    // KL(p_teacher ‖ p_model); dL/dz = p_model − p_teacher.
                    let p = UnsafeMutablePointer(mutating: teacherLogits.baseAddress! + r * vocabulary)
                    FloatOps.softmax(p, count: vocabulary)
                    for v in 0..<vocabulary where p[v] > 0 {
                        total += Double(p[v]) * (log(Double(p[v])) - log(Double(max(z[v], .leastNormalMagnitude))))
                        z[v] -= p[v]
                    }
                } else {
                    // −log p(next); dL/dz = p_model − onehot(next).
                    let next = Int(tokens[t + 1])
                    total -= log(Double(max(z[next], .leastNormalMagnitude)))
                    z[next] -= 1
                }
                for v in 0..<vocabulary { z[v] *= scale }
            }
            if computeGradient { headBackward(rows: rows, into: nextGradient.pointer + tile * d) }
        }
        if computeGradient {
            gradient.zero()
            RMSNormPass.backward(last, weight: student.outputNorm, inverseRMS: inverseRMS.pointer, rows: length, width: d,
                                 outputGradient: nextGradient.pointer, addingInto: gradient.pointer)
        }
        return total / Double(scored.count)
    }

    /// dL/d(normed) of one tile, [rows][embeddingSize], from dL/dz in `logits`: dL/dz · head,
    /// computed as headᵀ · (dL/dz)ᵀ, split by rows of headᵀ. Each output is still summed over the
    /// vocabulary in order by one participant, so the result does not depend on the thread count.
    private func headBackward(rows: Int, into out: UnsafeMutablePointer<Float>) {
        DenseProduct.transpose(logits.pointer, ldx: vocabulary, rows: rows, cols: vocabulary,
                               into: logitsTransposed.pointer, ldt: rows)
        pool.parallelFor(d) { range in
            DenseProduct.multiply(headTransposed.pointer + range.lowerBound * vocabulary, lda: vocabulary, rows: range.count,
                                  by: logitsTransposed.pointer, ldb: rows, depth: vocabulary, columns: 0..<rows,
                                  into: headGradientTransposed.pointer + range.lowerBound * rows, ldc: rows)
        }
        DenseProduct.transpose(headGradientTransposed.pointer, ldx: rows, rows: d, cols: rows, into: out, ldt: d)
    }

    /// The float model's last residual stream over `tokens`, run once per distinct sequence, a
    /// tile of tokens at a time over its KV cache.
    private func teacherStream(_ tokens: [Int32]) -> [Float] {
        if let known = teacherStreams[tokens] { return known }
        let teacher = teacher!
        var stream = [Float](repeating: 0, count: length * d)
        for tile in stride(from: 0, to: length, by: Self.tile) {
            let rows = min(Self.tile, length - tile)
            teacher.runBlocks(tokens[tile..<(tile + rows)], at: tile)
            stream.withUnsafeMutableBufferPointer { ($0.baseAddress! + tile * d).update(from: teacher.blocks.residual, count: rows * d) }
        }
        teacherStreams[tokens] = stream
        return stream
    }

    /// The gradient of the last `loss(computeGradient: true)` with respect to every block's
    /// parameters, per block as `TrainableBlock.zeroGradients()` lays them out.
    public func backward() -> [[[Float]]] {
        var gradients = student.blocks.map { $0.zeroGradients() }
        for index in student.blocks.indices.reversed() {
            pass.backward(student.blocks[index], tape: tapes[index], outputGradient: gradient.pointer,
                          gradients: &gradients[index], inputGradient: index > 0 ? nextGradient.pointer : nil)
            if index > 0 { gradient.pointer.update(from: nextGradient.pointer, count: gradient.count) }
        }
        return gradients
    }

    /// Perplexity of `tokens` by `elutq ppl`'s rule (llama.cpp's): chunks of `length` tokens, the
    /// first replaced by `bos` when given, the second half of each chunk scored.
    public func perplexity(_ tokens: [Int32], bos: Int32?) -> Double {
        var sum = 0.0, count = 0
        for chunk in 0..<(tokens.count / length) {
            var window = Array(tokens[(chunk * length)..<((chunk + 1) * length)])
            if let bos { window[0] = bos }
            let scored = (length / 2)..<(length - 1)
            sum += loss(window, target: .nextTokens(scored: scored), computeGradient: false) * Double(scored.count)
            count += scored.count
        }
        return exp(sum / Double(count))
    }
}

extension ModelPass.Target {
    var isTeacher: Bool {
        if case .teacher = self { return true }
        return false
    }
}
