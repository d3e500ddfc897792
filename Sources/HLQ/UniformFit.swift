/// The baseline: uniform asymmetric min-max rounding with an integer zero point.
enum UniformFit {
    /// Grid step `(max - min) / (2^B - 1)`, zero point `round(-min / step)` clamped to the grid;
    /// the scales are `2^i * step` with the step rounded to a half first, so the grid stays uniform.
    static func parameters(_ weights: UnsafeBufferPointer<Float>, planes: Int) -> GroupParameters {
        let (lo, hi) = minMax(weights)
        let levels = Float((1 << planes) - 1)
        let step = Float(Float16((hi - lo) / levels))
        guard step > 0 else { return GroupParameters(scales: .zero, midpoint: lo) }
        let zeroPoint = min(max((-lo / step).rounded(), 0), levels)
        var scales = SIMD4<Float>.zero
        for i in 0..<planes { scales[i] = Float(1 << i) * step }
        return GroupParameters(scales: scales, midpoint: (levels / 2 - zeroPoint) * step)
    }

    static func minMax(_ weights: UnsafeBufferPointer<Float>) -> (Float, Float) {
        var lo = Float.infinity, hi = -Float.infinity
        for w in weights {
            lo = min(lo, w)
            hi = max(hi, w)
        }
        return (lo, hi)
    }
}
