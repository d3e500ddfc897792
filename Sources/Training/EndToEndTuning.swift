import Foundation
import Parallel
import Runtime

/// Stage two: every block's scales and midpoints (and norms, when they train) trained together on the whole model's output,
/// either towards the float model's next-token distribution (distillation) or towards the text's
/// next tokens. One sequence per AdamW step, cosine schedule over all epochs; the parameters with
/// the lowest held-out loss (measured before the first step and after every epoch) are kept, so
/// a model already close to the float one is never made worse.
public final class EndToEndTuning {
    let model: ModelPass
    let samples: CalibrationSamples
    let options: FinetuneOptions
    public var optimizer: AdamW
    /// Sequences seen so far; the schedule and the order of each epoch follow from it.
    public private(set) var step = 0
    /// The parameters (as `StudentModel.parameters`) with the lowest held-out loss yet.
    public private(set) var best: HeldOutBest?
    public var totalSteps: Int { options.epochs * samples.training.count }
    private var student: StudentModel { model.student }

    public init(student: StudentModel, teacher: ModelWeights?, samples: CalibrationSamples, options: FinetuneOptions,
                pool: ThreadPool) {
        model = ModelPass(student: student, teacher: options.objective == .distillation ? teacher : nil,
                          length: options.length, pool: pool)
        self.samples = samples
        self.options = options
        optimizer = AdamW(sizes: student.parameters.map(\.count), weightDecay: options.weightDecay)
    }

    /// Continues from a checkpoint's step, optimiser state and best parameters.
    public func restore(step: Int, optimizer: AdamW, best: HeldOutBest) {
        self.step = step
        self.optimizer = optimizer
        self.best = best
    }

    /// Measures the held-out loss of the parameters as they stand and keeps them if it is the
    /// lowest yet; returns the loss.
    @discardableResult
    public func measureHeldOut() -> Double {
        let loss = heldOutLoss()
        // The first measurement is always kept; a NaN never replaces a number.
        if best == nil || loss < best!.loss { best = HeldOutBest(loss: loss, parameters: student.parameters) }
        return loss
    }

    /// Puts the best parameters back into the model.
    public func keepBest() {
        if let best { student.parameters = best.parameters }
    }

    /// What the loss compares with: the float model's distribution, or the next tokens.
    private var target: ModelPass.Target {
        options.objective == .distillation ? .teacher : .nextTokens(scored: 0..<(options.length - 1))
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
        let loss = model.loss(sequence(at: step), target: target, computeGradient: true)
        let gradients = model.backward()
        var parameters = student.parameters
        optimizer.update(&parameters, gradients: gradients.flatMap { $0 }, sizes: student.stepSizes,
                         rate: cosineRate(peak: options.endToEndLearningRate, step: step, total: totalSteps))
        student.parameters = parameters
        step += 1
        return loss
    }

    /// Mean loss over the held-out sequences with the parameters rounded as a file stores them.
    func heldOutLoss() -> Double {
        let saved = student.blocks
        for i in student.blocks.indices { student.blocks[i].roundToStored() }
        defer { student.blocks = saved }
        let losses = samples.heldOut.map { model.loss($0, target: target, computeGradient: false) }
        return losses.reduce(0, +) / Double(max(losses.count, 1))
    }
}

/// Parameters of a whole model and the held-out loss they scored.
public struct HeldOutBest: Sendable {
    public var loss: Double
    /// Laid out as `StudentModel.parameters`.
    public var parameters: [[Float]]
}
