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
///
/// With `keepingZero`, a group of two or more planes whose weights straddle 0 keeps 0 exactly on
/// its grid: the first start is the uniform baseline itself (integer zero point), the second is
/// shifted onto 0, and every least-squares step solves for the scales with one pattern pinned at 0.
/// Rounding without data needs this. The free fit halves the weights' squared error, but it maps
/// the many weights near 0 to small nonzero values, and nothing corrects that error. On SmolLM2 at
/// 3 bits (GPL-3) the free fit scores 238, and the anchored fit 72, against uniform's 104. The
/// uniform grid itself shows the same thing: without its integer zero point it scores 383. GPTQ's
/// error feedback corrects this error instead, and anchoring its fit made it worse (3 bits: 24.0 →
/// 28.4).
enum HLQFit {
    /// Default cap on alternations; groups of 128 converge in a handful.
    static let defaultIterations = 20

    /// Step of the MSE-optimal uniform quantizer of a unit Gaussian with 2^B levels (Max, 1960).
    static let gaussianStep: [Float] = [0, 1.596, 0.9957, 0.5860, 0.3352]

    static func parameters(_ weights: UnsafeBufferPointer<Float>, importance: UnsafeBufferPointer<Float>? = nil,
                           planes: Int, keepingZero: Bool = false, scratch patterns: UnsafeMutableBufferPointer<UInt8>,
                           iterations: Int = defaultIterations) -> GroupParameters {
        let (lo, hi) = UniformFit.minMax(weights)
        // One plane has two values; pinning one at 0 would leave a single value for the rest.
        let anchored = keepingZero && planes >= 2 && lo <= 0 && hi >= 0
        func uniform(step: Float, midpoint: Float) -> GroupParameters {
            var scales = SIMD4<Float>.zero
            for i in 0..<planes { scales[i] = Float(1 << i) * step }
            let start = GroupParameters(scales: scales, midpoint: midpoint)
            return anchored ? start.shiftedToKeepZero(planes: planes) : start
        }
        let minMax = anchored ? UniformFit.parameters(weights, planes: planes)
                              : uniform(step: (hi - lo) / Float((1 << planes) - 1), midpoint: 0.5 * (lo + hi))
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
                    let zeroPattern = anchored ? Int(current.grid(planes: planes).nearest(0).pattern) : nil
                    current = leastSquares(statistics: statistics, planes: planes, current: current, zeroPattern: zeroPattern)
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
    ///
    /// With `zeroPattern` the grid must keep the value 0 at that pattern, so the zero is not free:
    /// z = −Σ_i s_i·p0_i, and w ≈ Σ_i s_i·(b_i − p0_i) leaves B unknowns.
    static func leastSquares(statistics: UnsafePointer<Double>, planes: Int, current: GroupParameters,
                             zeroPattern: Int? = nil) -> GroupParameters {
        let counts = statistics, sums = statistics + 16
        let n = zeroPattern == nil ? planes + 1 : planes  // unknowns: s_0 ... s_{B-1}, and z when free
        // The design value of unknown a for pattern p: bit a of p (minus bit a of p0 when anchored), 1 for z.
        func design(_ p: Int, _ a: Int) -> Double {
            guard a < planes else { return 1 }
            return Double((p >> a) & 1) - Double(zeroPattern.map { ($0 >> a) & 1 } ?? 0)
        }
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: n * n + 3 * n) { scratch in
            scratch.initialize(repeating: 0)
            let matrix = scratch.baseAddress!, rhs = matrix + n * n, fallback = rhs + n, solution = fallback + n
            for p in 0..<(1 << planes) where counts[p] > 0 {
                for a in 0..<n {
                    let da = design(p, a)
                    guard da != 0 else { continue }
                    rhs[a] += da * sums[p]
                    for b in 0..<n { matrix[a * n + b] += da * design(p, b) * counts[p] }
                }
            }
            for i in 0..<planes { fallback[i] = Double(current.scales[i]) }
            if n > planes { fallback[planes] = Double(current.zero(planes: planes)) }
            NormalEquations.solve(size: n, matrix: matrix, rhs: rhs, fallback: fallback, into: solution)
            var scales = SIMD4<Float>.zero
            var zero = n > planes ? solution[planes] : 0
            for i in 0..<planes {
                scales[i] = Float(solution[i])
                if let zeroPattern, (zeroPattern >> i) & 1 == 1 { zero -= solution[i] }
            }
            var midpoint = Float(zero)
            for i in 0..<planes { midpoint += 0.5 * scales[i] }
            return GroupParameters(scales: scales, midpoint: midpoint)
        }
    }
}
