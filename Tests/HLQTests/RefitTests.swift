import HLQ
import Parallel
import Testing
import TestSupport

/// The closed-form refit: never worse, exactly the least-squares optimum up to half-float rounding,
/// and safe on degenerate rows.
@Suite struct RefitTests {
    /// Refits a copy and returns it with the reported and the measured objectives.
    static func refit(_ layer: SyntheticLayer, _ q: QuantizedMatrix, threads: Int = 2)
        -> (q: QuantizedMatrix, before: Double, after: Double, measured: Double) {
        var refitted = q
        let result = layer.weights.withUnsafeBufferPointer {
            Refit.refit(&refitted, original: $0, hessian: layer.hessian, pool: ThreadPool(threadCount: threads))
        }
        return (refitted, result.before, result.after, layer.objective(refitted))
    }

    @Test(arguments: QuantizationMethod.allCases, [2, 3, 4])
    func neverRaisesTheObjective(method: QuantizationMethod, planes: Int) {
        for seed in 1...3 {
            let layer = SyntheticLayer(rows: 16, cols: 576, seed: UInt64(40 + seed))
            for start in [layer.gptq(GPTQOptions(planes: planes, groupSize: 128, method: method)),
                          layer.rtn(planes: planes, method: method)] {
                let before = layer.objective(start)
                let r = Self.refit(layer, start)
                #expect(r.before == before, "before is exactly the layer objective")
                #expect(r.measured < before, "seed \(seed): \(r.measured) vs \(before)")
                #expect(abs(r.after - r.measured) <= 1e-5 * before, "reported after \(r.after) vs \(r.measured)")
                #expect(r.q.patterns == start.patterns, "patterns stay")
            }
        }
    }

    /// Against a Double solve of the same normal equations, built the slow way: the refit cannot
    /// beat the exact optimum, and is within half-float rounding of it.
    @Test(arguments: [2, 3])
    func reachesTheLeastSquaresOptimum(planes: Int) {
        let layer = SyntheticLayer(rows: 6, cols: 200, seed: 50)
        let start = layer.gptq(GPTQOptions(planes: planes, groupSize: 64, method: .hlq))
        let optimum = Self.exactOptimum(layer, start)
        let r = Self.refit(layer, start)
        #expect(r.measured >= optimum * (1 - 1e-6))
        #expect(r.measured <= optimum * (1 + 1e-3), "refit \(r.measured) vs optimum \(optimum)")
    }

    /// Refitting again finds nothing more to gain.
    @Test func isAFixedPoint() {
        let layer = SyntheticLayer(rows: 16, cols: 576, seed: 51)
        let once = Self.refit(layer, layer.gptq(GPTQOptions(planes: 2, groupSize: 128, method: .hlq)))
        let twice = Self.refit(layer, once.q)
        #expect(twice.measured >= once.measured * (1 - 1e-5))
    }

    @Test func sameBytesWhateverTheThreadCount() {
        let layer = SyntheticLayer(rows: 45, cols: 576, seed: 52)
        let start = layer.gptq(GPTQOptions(planes: 2, groupSize: 128, method: .hlq))
        let results = [1, 2, 3].map { Self.refit(layer, start, threads: $0).q }
        #expect(identical(results[0], results[1]) && identical(results[0], results[2]))
    }

    /// Groups of equal weights leave planes no pattern distinguishes, dead columns leave groups no
    /// input reaches, and a zero Hessian leaves nothing to fit: the refit keeps what it cannot
    /// determine and never produces a non-finite parameter.
    @Test func degenerateRows() {
        var layer = SyntheticLayer(rows: 4, cols: 256, seed: 53)
        for k in 0..<64 { layer.weights[k] = 0.01 }                      // row 0, group 0: all equal
        for c in 128..<192 {                                             // group 2 is dead
            for k in 0..<256 {
                layer.hessian.values[c * 256 + k] = 0
                layer.hessian.values[k * 256 + c] = 0
            }
        }
        let start = layer.gptq(GPTQOptions(planes: 3, groupSize: 64, method: .hlq))
        let r = Self.refit(layer, start)
        #expect(r.measured <= r.before)
        #expect(r.q.dequantized().allSatisfy { $0.isFinite })

        layer.hessian.values = [Float](repeating: 0, count: 256 * 256)
        let zero = Self.refit(layer, start)
        #expect(identical(zero.q, start) && zero.before == 0 && zero.after == 0)
    }

    /// min over all scales and midpoints of Σ_rows (w − Φθ)ᵀ H (w − Φθ), by Gaussian elimination in Double.
    static func exactOptimum(_ layer: SyntheticLayer, _ q: QuantizedMatrix) -> Double {
        let (n, planes, groups) = (layer.cols, q.planes, q.groupsPerRow)
        let m = groups * (planes + 1)
        let h = layer.hessian.values.map(Double.init)
        var total = 0.0
        for row in 0..<layer.rows {
            // phi[k][u]: feature u of column k.
            var phi = [Double](repeating: 0, count: n * m)
            for k in 0..<n {
                let g = k / q.groupSize, p = q.patterns[row * n + k]
                for b in 0..<planes { phi[k * m + g * (planes + 1) + b] = (p >> b) & 1 == 1 ? 0.5 : -0.5 }
                phi[k * m + g * (planes + 1) + planes] = 1
            }
            let w = (0..<n).map { Double(layer.weights[row * n + $0]) }
            var a = [Double](repeating: 0, count: m * m), rhs = [Double](repeating: 0, count: m)
            for k in 0..<n {
                for l in 0..<n where h[k * n + l] != 0 {
                    for u in 0..<m where phi[k * m + u] != 0 {
                        rhs[u] += phi[k * m + u] * h[k * n + l] * w[l]
                        for v in 0..<m { a[u * m + v] += phi[k * m + u] * h[k * n + l] * phi[l * m + v] }
                    }
                }
            }
            for u in 0..<m { a[u * m + u] += 1e-12 * (a[u * m + u] + 1) }  // determinate even for unused planes
            let theta = solve(a, rhs, m)
            var residual = w
            for k in 0..<n { for u in 0..<m { residual[k] -= phi[k * m + u] * theta[u] } }
            for k in 0..<n { for l in 0..<n { total += residual[k] * h[k * n + l] * residual[l] } }
        }
        return total
    }

    /// Gaussian elimination with partial pivoting.
    static func solve(_ a: [Double], _ b: [Double], _ m: Int) -> [Double] {
        var a = a, b = b
        for c in 0..<m {
            let pivot = (c..<m).max { abs(a[$0 * m + c]) < abs(a[$1 * m + c]) }!
            for k in 0..<m { a.swapAt(c * m + k, pivot * m + k) }
            b.swapAt(c, pivot)
            for r in (c + 1)..<m {
                let f = a[r * m + c] / a[c * m + c]
                for k in c..<m { a[r * m + k] -= f * a[c * m + k] }
                b[r] -= f * b[c]
            }
        }
        var x = [Double](repeating: 0, count: m)
        for r in stride(from: m - 1, through: 0, by: -1) {
            var v = b[r]
            for k in (r + 1)..<m { v -= a[r * m + k] * x[k] }
            x[r] = v / a[r * m + r]
        }
        return x
    }
}
