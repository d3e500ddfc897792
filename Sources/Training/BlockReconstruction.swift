import Engine
import Foundation
import ModelFile
import Parallel
import Runtime

/// What block reconstruction did to one block, for progress and the run's report.
public struct BlockReport: Sendable {
    public var block: Int
    /// Mean relative output error over the training sequences in the first and in the last epoch.
    public var trainingLoss: (first: Double, last: Double)
    /// Mean output error over the held-out sequences before training and with the kept parameters.
    public var heldOutLoss: (before: Double, after: Double)
    public var epochsKept: Int
    public var seconds: Double
}

/// Stage one: each block's scales and midpoints (and norms, when they train) trained, in order, so that the quantized block,
/// fed the quantized stream of the blocks already tuned, reproduces the float block's output on
/// the float stream (squared error relative to each token's size, AdamW with a cosine schedule).
/// The parameters of the epoch with the lowest held-out error are kept, and training stops once
/// that error rises.
public final class BlockReconstruction {
    let student: StudentModel
    let teacher: ModelWeights
    let samples: CalibrationSamples
    let options: FinetuneOptions
    let pool: ThreadPool
    let pass: BlockPass
    private let runner: BlockRunner
    /// Per sequence (training, then held out), [T][embeddingSize]: the float model's stream and the
    /// quantized model's, entering the next block.
    private var floatStream: [[Float]]
    private var quantizedStream: [[Float]]

    public init(student: StudentModel, teacher: ModelWeights, samples: CalibrationSamples, options: FinetuneOptions,
                pool: ThreadPool) {
        self.student = student
        self.teacher = teacher
        self.samples = samples
        self.options = options
        self.pool = pool
        let c = student.config, d = c.embeddingSize
        pass = BlockPass(config: c, length: options.length, pool: pool)
        runner = BlockRunner(config: c, layers: 1, contextLength: options.length, maxBatch: options.length, pool: pool)
        let sequences = samples.training + samples.heldOut
        func embedded(_ tokens: [Int32], by table: EmbeddingTable) -> [Float] {
            var rows = [Float](repeating: 0, count: tokens.count * d)
            rows.withUnsafeMutableBufferPointer { table.rows(tokens, into: $0.baseAddress!) }
            return rows
        }
        floatStream = sequences.map { embedded($0, by: teacher.embedding) }
        quantizedStream = sequences.map { embedded($0, by: student.embedding) }
    }

    /// Moves both streams through blocks `0..<count` as they stand, without training: how a
    /// resumed run gets back to where its checkpoint was taken.
    public func skip(blocks count: Int) {
        for index in 0..<count { advance(through: index) }
    }

    /// Trains block `index`, then moves both streams past it.
    public func train(block index: Int) -> BlockReport {
        let start = Date()
        let targets = floatOutputs(of: index)
        let trainingCount = samples.training.count
        let heldOut = Array(trainingCount..<(trainingCount + samples.heldOut.count))
        let tape = BlockTape(config: student.config, length: options.length)

        var block = student.blocks[index]
        let before = meanError(block, sequences: heldOut, targets: targets, tape: tape)
        var best = (loss: before, block: block, epochs: 0)
        var optimizer = AdamW(sizes: block.parameters.map(\.count), weightDecay: options.weightDecay)
        let sizes = Array(student.stepSizes[(index * TrainableBlock.arrays)..<((index + 1) * TrainableBlock.arrays)])
        let total = options.epochs * trainingCount
        var firstEpochLoss = 0.0, lastEpochLoss = 0.0
        var random = SplitMix64(seed: options.seed &+ UInt64(index))
        for epoch in 0..<options.epochs {
            var epochLoss = 0.0
            for s in Array(0..<trainingCount).shuffled(using: &random) {
                load(quantizedStream[s], into: tape)
                pass.forward(block, tape: tape)
                let (loss, gradient) = squaredErrorGradient(tape.output, targets[s], width: student.config.embeddingSize)
                epochLoss += loss
                var gradients = block.zeroGradients()
                gradient.withUnsafeBufferPointer {
                    pass.backward(block, tape: tape, outputGradient: $0.baseAddress!, gradients: &gradients, inputGradient: nil)
                }
                var parameters = block.parameters
                optimizer.update(&parameters, gradients: gradients, sizes: sizes,
                                 rate: cosineRate(peak: options.blockLearningRate, step: optimizer.step, total: total))
                block.parameters = parameters
            }
            epochLoss /= Double(trainingCount)
            if epoch == 0 { firstEpochLoss = epochLoss }
            lastEpochLoss = epochLoss
            var rounded = block
            rounded.roundToStored()
            let loss = meanError(rounded, sequences: heldOut, targets: targets, tape: tape)
            if loss < best.loss { best = (loss, rounded, epoch + 1) } else { break }
        }
        student.blocks[index] = best.block
        advance(through: index, targets: targets)
        return BlockReport(block: index, trainingLoss: (firstEpochLoss, lastEpochLoss), heldOutLoss: (before, best.loss),
                           epochsKept: best.epochs, seconds: Date().timeIntervalSince(start))
    }

    /// The float block's output for every sequence, on the float stream, by the runtime's forward.
    private func floatOutputs(of index: Int) -> [[Float]] {
        floatStream.map { rows in
            rows.withUnsafeBufferPointer { runner.residual.update(from: $0.baseAddress!, count: $0.count) }
            runner.run(teacher.blocks[index], layer: 0, count: options.length, position: 0)
            return Array(UnsafeBufferPointer(start: runner.residual, count: rows.count))
        }
    }

    /// The float stream becomes `targets` (the float block's outputs), the quantized one goes
    /// through the block as it now stands.
    private func advance(through index: Int, targets: [[Float]]? = nil) {
        floatStream = targets ?? floatOutputs(of: index)
        let tape = BlockTape(config: student.config, length: options.length)
        for s in quantizedStream.indices {
            load(quantizedStream[s], into: tape)
            pass.forward(student.blocks[index], tape: tape)
            quantizedStream[s] = Array(UnsafeBufferPointer(start: tape.output.pointer, count: tape.output.count))
        }
    }

    private func load(_ rows: [Float], into tape: BlockTape) {
        rows.withUnsafeBufferPointer { tape.input.pointer.update(from: $0.baseAddress!, count: $0.count) }
    }

    /// Mean relative output error of `block` over `sequences`.
    private func meanError(_ block: TrainableBlock, sequences: [Int], targets: [[Float]], tape: BlockTape) -> Double {
        var sum = 0.0
        for s in sequences {
            load(quantizedStream[s], into: tape)
            pass.forward(block, tape: tape)
            sum += squaredErrorGradient(tape.output, targets[s], width: student.config.embeddingSize, gradient: false).loss
        }
        return sum / Double(max(sequences.count, 1))
    }
}

/// The block's output error: the mean over tokens of each token's squared error relative to its
/// target's mean square, ‖y_t − target_t‖² / (d · mean(target_t²)), and its gradient.
///
/// Relative per token because the residual stream is not uniform: a few tokens (the first one,
/// some punctuation) carry activations hundreds of times larger than the rest from the middle
/// blocks on, and a plain squared error is then all theirs, leaving every other token untuned.
func squaredErrorGradient(_ y: FloatBuffer, _ target: [Float], width d: Int, gradient: Bool = true)
    -> (loss: Double, gradient: [Float]) {
    let tokens = y.count / d
    var loss = 0.0
    var g = gradient ? [Float](repeating: 0, count: y.count) : []
    target.withUnsafeBufferPointer { target in
        for t in 0..<tokens {
            let out = y.pointer + t * d, goal = target.baseAddress! + t * d
            let scale = 1 / (dot(goal, goal, d) + Float.leastNormalMagnitude)
            var error: Float = 0
            for i in 0..<d {
                let e = out[i] - goal[i]
                error += e * e
                if gradient { g[t * d + i] = 2 * e * scale / Float(tokens) }
            }
            loss += Double(error * scale)
        }
    }
    return (loss / Double(tokens), g)
}
