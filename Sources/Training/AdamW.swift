import Foundation

/// How far a step may move each parameter of one array, as a multiple of the learning rate: one
/// size for every run of `stride` parameters (an HLQ group's scales and midpoint share one).
///
/// Adam moves every parameter by about the learning rate whatever its gradient's magnitude, so an
/// absolute rate means different things for different models: SmolLM2-135M's 2-bit group scales
/// are about 0.28, Qwen2.5-Coder-1.5B's about 0.024, and a rate that tunes one moves the other's
/// weights by a tenth in a step. With each group's own size as the unit, the rate is a fraction of
/// the group, and one rate suits every model.
public struct StepSizes: Sendable, Equatable {
    /// One size per run of `stride` parameters.
    public var values: [Float]
    /// Parameters that share a size (an HLQ group's scales and midpoint; a whole norm).
    public var stride: Int

    public init(values: [Float], stride: Int) {
        precondition(stride > 0)
        self.values = values
        self.stride = stride
    }

    /// One size for the whole array `parameters`: their mean magnitude (1 when they are all 0,
    /// so that the rate is then absolute).
    public init(meanMagnitudeOf parameters: [Float]) {
        let mean = parameters.isEmpty ? 0 : parameters.reduce(0) { $0 + abs($1) } / Float(parameters.count)
        self.init(values: [mean > 0 ? mean : 1], stride: max(parameters.count, 1))
    }
}

/// AdamW over a list of parameter arrays (one per trainable matrix), with decoupled weight decay;
/// each array's steps are scaled by its `StepSizes`.
public struct AdamW: Sendable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Float
    /// Steps taken so far.
    public private(set) var step = 0
    /// First and second moment estimates, laid out as the parameters.
    public private(set) var first: [[Float]]
    public private(set) var second: [[Float]]

    /// State for parameter arrays of `sizes`.
    public init(sizes: [Int], weightDecay: Float) {
        self.weightDecay = weightDecay
        first = sizes.map { [Float](repeating: 0, count: $0) }
        second = first
    }

    /// Restores a saved state.
    public init(step: Int, first: [[Float]], second: [[Float]], weightDecay: Float) {
        self.weightDecay = weightDecay
        self.step = step
        self.first = first
        self.second = second
    }

    /// One update of every array in `parameters` by its gradient, at learning rate `rate` times
    /// the parameter's step size in `sizes` (laid out as `parameters`).
    public mutating func update(_ parameters: inout [[Float]], gradients: [[Float]], sizes: [StepSizes], rate: Float) {
        precondition(sizes.count == parameters.count, "a step size for every array")
        step += 1
        let correction1 = 1 - pow(beta1, Float(step)), correction2 = 1 - pow(beta2, Float(step))
        for a in parameters.indices {
            let g = gradients[a], stride = sizes[a].stride
            precondition(parameters[a].isEmpty || sizes[a].values.count * stride >= parameters[a].count, "a step size for every run")
            parameters[a].withUnsafeMutableBufferPointer { p in
                first[a].withUnsafeMutableBufferPointer { m in
                    second[a].withUnsafeMutableBufferPointer { v in
                        for (run, size) in sizes[a].values.enumerated() where run * stride < p.count {
                            let step = rate * size
                            for i in (run * stride)..<min((run + 1) * stride, p.count) {
                                m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                                let update = (m[i] / correction1) / ((v[i] / correction2).squareRoot() + epsilon)
                                p[i] -= step * (update + weightDecay * p[i])
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The learning rate at `step` of `total`: a cosine from `peak` down to a tenth of it.
public func cosineRate(peak: Float, step: Int, total: Int) -> Float {
    let progress = total > 1 ? Float(step) / Float(total - 1) : 0
    return peak * (0.1 + 0.45 * (1 + cos(Float.pi * min(progress, 1))))
}
