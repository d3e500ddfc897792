import Parallel

/// The input Hessian of one linear layer, `H = 2 XᵀX` over calibration inputs `X` [samples][cols].
///
/// For a row `w` of the layer, `(w − ŵ)ᵀ H (w − ŵ)` is twice the summed squared change of that
/// output over the calibration samples, the quantity GPTQ and the refit minimise. `H` is a sum,
/// not a mean, so layers calibrated on the same tokens have comparable objectives; divide by
/// `sampleCount` for a per-sample figure.
public struct Hessian: Sendable {
    public let cols: Int
    /// [cols][cols], symmetric, row-major. Float: GPTQ's factorisation and every product with H
    /// run in float (as the reference GPTQ does), with sums that need it taken in Double.
    public var values: [Float]
    /// How many input rows went into the sum.
    public var sampleCount: Int

    public init(cols: Int, values: [Float], sampleCount: Int) {
        precondition(values.count == cols * cols, "a Hessian has cols × cols values")
        self.cols = cols
        self.values = values
        self.sampleCount = sampleCount
    }

    /// `2 XᵀX` for inputs given all at once ([samples][cols]); see `HessianAccumulator` to stream them.
    public init(inputs: UnsafeBufferPointer<Float>, cols: Int, pool: ThreadPool) {
        var accumulator = HessianAccumulator(cols: cols)
        accumulator.add(inputs, pool: pool)
        self = accumulator.hessian
    }

    /// `H + fraction · mean(diag H) · I`: the ridge that keeps a fit from leaning on directions the
    /// calibration inputs barely visit.
    public func dampened(by fraction: Double) -> Hessian {
        guard fraction > 0 else { return self }
        var copy = self
        var trace = 0.0
        for i in 0..<cols { trace += Double(values[i * cols + i]) }
        let added = Float(fraction * trace / Double(max(cols, 1)))
        for i in 0..<cols { copy.values[i * cols + i] += added }
        return copy
    }
}
