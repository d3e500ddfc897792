/// The ELUTQ paper's alternating fit of one group's free per-plane scales and zero.
///
/// Start from uniform min-max (s_i = 2^i (max - min) / (2^B - 1), z = min); then alternate
/// (1) nearest-pattern assignment and (2) the closed-form least-squares solve for (s, z) with the
/// patterns fixed. Each iterate is rounded to the stored half floats and judged by its real error;
/// the best one is kept, so the result is never worse than the initialisation.
///
/// The alternation only finds a local optimum, and from min-max one outlier can hold the grid wide
/// open. So it also runs from a second start, the Lloyd-Max uniform step for a Gaussian of the
/// group's spread, centred on its mean, and keeps whichever run ends lower.
///
/// With `importance`, every step minimises the weighted error Σ_k importance_k (w_k − ŵ_k)² instead.
enum HLQFit {
    /// Default cap on alternations; groups of 128 converge in a handful.
    static let defaultIterations = 20

    /// Step of the MSE-optimal uniform quantizer of a unit Gaussian with 2^B levels (Max, 1960).
    static let gaussianStep: [Float] = [0, 1.596, 0.9957, 0.5860, 0.3352]

    static func parameters(_ weights: UnsafeBufferPointer<Float>, importance: UnsafeBufferPointer<Float>? = nil,
                           planes: Int, scratch patterns: UnsafeMutableBufferPointer<UInt8>,
                           iterations: Int = defaultIterations) -> GroupParameters {
        func uniform(step: Float, midpoint: Float) -> GroupParameters {
            var scales = SIMD4<Float>.zero
            for i in 0..<planes { scales[i] = Float(1 << i) * step }
            return GroupParameters(scales: scales, midpoint: midpoint)
        }
        let (lo, hi) = UniformFit.minMax(weights)
        let minMax = uniform(step: (hi - lo) / Float((1 << planes) - 1), midpoint: 0.5 * (lo + hi))
        var sum: Float = 0, squares: Float = 0
        for w in weights {
            sum += w
            squares += w * w
        }
        let mean = sum / Float(weights.count)
        let spread = max(squares / Float(weights.count) - mean * mean, 0).squareRoot()
        let gaussian = uniform(step: gaussianStep[planes] * spread, midpoint: mean)
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: 32) { statistics in
            let statistics = statistics.baseAddress!
            func alternate(from start: GroupParameters) -> (GroupParameters, Double) {
                var current = start, best = start
                var bestError = current.grid(planes: planes).assign(weights, importance: importance, into: patterns,
                                                                    statistics: statistics)
                var previousError = bestError
                for _ in 0..<iterations where bestError > 0 {
                    current = leastSquares(statistics: statistics, planes: planes, current: current)
                    let error = current.grid(planes: planes).assign(weights, importance: importance, into: patterns,
                                                                    statistics: statistics)
                    if error < bestError {
                        best = current
                        bestError = error
                    }
                    if error >= previousError * (1 - 1e-9) { break }
                    previousError = error
                }
                return (best, bestError)
            }
            let fromMinMax = alternate(from: minMax)
            let fromSpread = alternate(from: gaussian)
            return fromSpread.1 < fromMinMax.1 ? fromSpread.0 : fromMinMax.0
        }
    }

    /// Step 2: with the patterns fixed, w ≈ Σ_i s_i b_i + z is linear in (s, z). The normal equations
    /// only need each pattern's count and weight sum (`statistics`, as `GroupGrid.assign` gathers
    /// them), so they cost 2^B accumulators per group.
    static func leastSquares(statistics: UnsafePointer<Double>, planes: Int, current: GroupParameters) -> GroupParameters {
        let counts = statistics, sums = statistics + 16
        let n = planes + 1  // unknowns: s_0 ... s_{B-1}, z
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: n * n + 3 * n) { scratch in
            scratch.initialize(repeating: 0)
            let matrix = scratch.baseAddress!, rhs = matrix + n * n, fallback = rhs + n, solution = fallback + n
            for p in 0..<(1 << planes) where counts[p] > 0 {
                for a in 0..<n where a == planes || (p >> a) & 1 == 1 {
                    rhs[a] += sums[p]
                    for b in 0..<n where b == planes || (p >> b) & 1 == 1 {
                        matrix[a * n + b] += counts[p]
                    }
                }
            }
            for i in 0..<planes { fallback[i] = Double(current.scales[i]) }
            fallback[planes] = Double(current.zero(planes: planes))
            NormalEquations.solve(size: n, matrix: matrix, rhs: rhs, fallback: fallback, into: solution)
            var scales = SIMD4<Float>.zero
            var midpoint = Float(solution[planes])
            for i in 0..<planes {
                scales[i] = Float(solution[i])
                midpoint += 0.5 * scales[i]
            }
            return GroupParameters(scales: scales, midpoint: midpoint)
        }
    }
}
