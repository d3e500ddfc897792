import Engine
import Foundation
import ModelFile
import Parallel
import Runtime

/// Stage two: every block's scales and midpoints trained together on the whole model's output,
/// either towards the float model's next-token distribution (distillation) or towards the text's
/// next tokens. One sequence per AdamW step, cosine schedule over all epochs.
public final class EndToEndTuning {
    let student: StudentModel
    let samples: CalibrationSamples
    let options: FinetuneOptions
    let pool: ThreadPool
    let pass: BlockPass
    /// The float model, run by the runtime, for the distillation targets; nil for next-token loss.
    private let teacher: Transformer?
    /// One tape per block: the whole forward is kept for the backward.
    private let tapes: [BlockTape]
    private let d, vocabulary, length: Int
    /// Rows of the head handled at once (the logits of a tile live in `logits`).
    private static let tile = 64
    /// [embeddingSize][vocabularySize]: the head's transpose, the right operand of the logits' product.
    private let headTransposed: FloatBuffer
    /// [tile][vocabularySize]
    private let logits: FloatBuffer
    /// [T][embeddingSize]: the final norm's output, and the gradients flowing back between blocks.
    private let normed, gradient, nextGradient: FloatBuffer
    /// [T]
    private let inverseRMS: FloatBuffer
    public var optimizer: AdamW
    /// Sequences seen so far; the schedule and the order of each epoch follow from it.
    public private(set) var step = 0
    public var totalSteps: Int { options.epochs * samples.training.count }

    public init(student: StudentModel, teacher: ModelWeights?, samples: CalibrationSamples, options: FinetuneOptions,
                pool: ThreadPool) {
        self.student = student
        self.samples = samples
        self.options = options
        self.pool = pool
        let c = student.config
        d = c.embeddingSize
        vocabulary = c.vocabularySize
        length = options.length
        pass = BlockPass(config: c, length: length, pool: pool)
        self.teacher = teacher.map { Transformer(weights: $0, contextLength: options.length, maxBatch: Self.tile, pool: pool) }
        tapes = (0..<c.layers).map { _ in BlockTape(config: c, length: options.length) }
        let transposed = FloatBuffer(c.embeddingSize * c.vocabularySize)
        student.head.withUnsafeBufferPointer { head in
            let (d, vocabulary) = (c.embeddingSize, c.vocabularySize)
            pool.parallelFor(d) { columns in
                DenseProduct.transpose(head.baseAddress! + columns.lowerBound, ldx: d, rows: vocabulary,
                                       cols: columns.count, into: transposed.pointer + columns.lowerBound * vocabulary,
                                       ldt: vocabulary)
            }
        }
        headTransposed = transposed
        logits = FloatBuffer(Self.tile * vocabulary)
        normed = FloatBuffer(length * d)
        gradient = FloatBuffer(length * d)
        nextGradient = FloatBuffer(length * d)
        inverseRMS = FloatBuffer(length)
        optimizer = AdamW(sizes: student.blocks.flatMap { $0.linears.map(\.parameterCount) }, weightDecay: options.weightDecay)
    }

    /// Continues from a checkpoint's step and optimiser state.
    public func restore(step: Int, optimizer: AdamW) {
        self.step = step
        self.optimizer = optimizer
    }

    /// The training sequence of step `step`: each epoch visits all of them in its own seeded order.
    func sequence(at step: Int) -> [Int32] {
        let count = samples.training.count, epoch = step / count
        var random = SplitMix64(seed: options.seed &+ 0x5EED &+ UInt64(epoch))
        return samples.training[Array(0..<count).shuffled(using: &random)[step % count]]
    }

    /// One optimiser step on the next sequence; returns its loss (mean per scored token).
    @discardableResult
    public func trainStep() -> Double {
        let tokens = sequence(at: step)
        let loss = forwardAndLoss(tokens, computeGradient: true)
        var gradients = student.blocks.map { $0.zeroGradients() }
        for index in student.blocks.indices.reversed() {
            pass.backward(student.blocks[index], tape: tapes[index], outputGradient: gradient.pointer,
                          gradients: &gradients[index], inputGradient: index > 0 ? nextGradient.pointer : nil)
            if index > 0 { gradient.pointer.update(from: nextGradient.pointer, count: gradient.count) }
        }
        var parameters = student.blocks.flatMap(\.parameters)
        optimizer.update(&parameters, gradients: gradients.flatMap { $0 },
                         rate: cosineRate(peak: options.endToEndLearningRate, step: step, total: totalSteps))
        let layers = TrainableBlock.layers.count
        for index in student.blocks.indices {
            student.blocks[index].parameters = Array(parameters[(index * layers)..<((index + 1) * layers)])
        }
        step += 1
        return loss
    }

    /// Mean loss over the held-out sequences with the parameters rounded as a file stores them.
    public func heldOutLoss() -> Double {
        let saved = student.blocks
        for i in student.blocks.indices { student.blocks[i].roundToStored() }
        defer { student.blocks = saved }
        let losses = samples.heldOut.map { forwardAndLoss($0, computeGradient: false) }
        return losses.reduce(0, +) / Double(max(losses.count, 1))
    }

    /// The student's forward through every block (kept on the tapes), then the head and the loss
    /// tile by tile; with `computeGradient`, dL/d(last block's output) is left in `gradient`.
    private func forwardAndLoss(_ tokens: [Int32], computeGradient: Bool) -> Double {
        let first = tapes[0].input.pointer
        student.embedding.withUnsafeBufferPointer { e in
            for (t, token) in tokens.enumerated() { (first + t * d).update(from: e.baseAddress! + Int(token) * d, count: d) }
        }
        for (index, block) in student.blocks.enumerated() {
            pass.forward(block, tape: tapes[index])
            if index + 1 < tapes.count { tapes[index + 1].input.pointer.update(from: tapes[index].output.pointer, count: length * d) }
        }
        let last = tapes[tapes.count - 1].output.pointer
        RMSNormPass.forward(last, weight: student.outputNorm, rows: length, width: d, epsilon: student.config.normEpsilon,
                            into: normed.pointer, inverseRMS: inverseRMS.pointer)
        // Positions scored: every one against the teacher's distribution, or all but the last
        // against the next token.
        let scored = options.objective == .distillation && teacher != nil ? length : length - 1
        var total = 0.0
        var tile = 0
        while tile < length {
            let rows = min(Self.tile, length - tile)
            let teacherLogits = teacher?.forward(tokens[tile..<(tile + rows)], at: tile, logitRows: 0..<rows)
            DenseProduct.multiply(normed.pointer + tile * d, lda: d, rows: rows, by: headTransposed.pointer, ldb: vocabulary,
                                  depth: d, columns: vocabulary, into: logits.pointer, ldc: vocabulary, pool: pool)
            for r in 0..<rows {
                let t = tile + r, z = logits.pointer + r * vocabulary
                FloatOps.softmax(z, count: vocabulary)
                if let teacherLogits, options.objective == .distillation {
                    // KL(p_teacher ‖ p_student); dL/dz = p_student − p_teacher.
                    let target = UnsafeMutablePointer(mutating: teacherLogits.baseAddress! + r * vocabulary)
                    FloatOps.softmax(target, count: vocabulary)
                    var kl = 0.0
                    for v in 0..<vocabulary where target[v] > 0 {
                        kl += Double(target[v]) * (log(Double(target[v])) - log(Double(max(z[v], .leastNormalMagnitude))))
                        z[v] -= target[v]
                    }
                    total += kl
                } else if t < length - 1 {
                    let next = Int(tokens[t + 1])
                    total -= log(Double(max(z[next], .leastNormalMagnitude)))
                    z[next] -= 1
                } else {
                    z.update(repeating: 0, count: vocabulary)
                }
                if computeGradient {
                    let scale = 1 / Float(scored)
                    for v in 0..<vocabulary { z[v] *= scale }
                }
            }
            if computeGradient {
                student.head.withUnsafeBufferPointer { head in
                    DenseProduct.multiply(logits.pointer, lda: vocabulary, rows: rows, by: head.baseAddress!, ldb: d,
                                          depth: vocabulary, columns: d, into: nextGradient.pointer + tile * d, ldc: d, pool: pool)
                }
            }
            tile += rows
        }
        if computeGradient {
            // Back through the final norm: nextGradient holds dL/d(normed).
            gradient.zero()
            RMSNormPass.backward(last, weight: student.outputNorm, inverseRMS: inverseRMS.pointer, rows: length, width: d,
                                 outputGradient: nextGradient.pointer, addingInto: gradient.pointer)
        }
        return total / Double(scored)
    }
}
