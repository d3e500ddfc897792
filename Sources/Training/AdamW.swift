import Foundation

/// AdamW over a list of parameter arrays (one per trainable matrix), with decoupled weight decay.
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

    /// One update of every array in `parameters` by its gradient, at learning rate `rate`.
    public mutating func update(_ parameters: inout [[Float]], gradients: [[Float]], rate: Float) {
        step += 1
        let correction1 = 1 - pow(beta1, Float(step)), correction2 = 1 - pow(beta2, Float(step))
        for a in parameters.indices {
            let g = gradients[a]
            parameters[a].withUnsafeMutableBufferPointer { p in
                first[a].withUnsafeMutableBufferPointer { m in
                    second[a].withUnsafeMutableBufferPointer { v in
                        for i in 0..<p.count {
                            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                            let update = (m[i] / correction1) / ((v[i] / correction2).squareRoot() + epsilon)
                            p[i] -= rate * (update + weightDecay * p[i])
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
