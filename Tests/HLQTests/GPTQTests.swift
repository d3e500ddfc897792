import Foundation
@testable import HLQ
import Parallel
import Testing
import TestSupport

/// A synthetic linear layer: trained-like weights with outliers, and calibration inputs like a
/// transformer's, columns correlated through a few shared factors, uneven scales, one outlier channel.
struct SyntheticLayer {
    let rows: Int
    let cols: Int
    var weights: [Float]
    var hessian: Hessian

    init(rows: Int, cols: Int, samples: Int = 512, seed: UInt64, pool: ThreadPool = ThreadPool(threadCount: 2)) {
        self.rows = rows
        self.cols = cols
        var random = SeededRandom(seed: seed)
        weights = random.weights(rows * cols)
        let inputs = Self.inputs(samples: samples, cols: cols, seed: seed &+ 1000)
        hessian = inputs.withUnsafeBufferPointer { Hessian(inputs: $0, cols: cols, pool: pool) }
    }

    /// Inputs [samples][cols]: eight shared factors plus noise, log-normal column scales, channel 7 × 20.
    static func inputs(samples: Int, cols: Int, seed: UInt64) -> [Float] {
        var random = SeededRandom(seed: seed)
        let factors = 8
        let loadings = (0..<(factors * cols)).map { _ in 0.4 * random.normal() }
        let scales = (0..<cols).map { c in exp(0.5 * random.normal()) * (c == 7 ? 20 : 1) }
        var x = [Float](repeating: 0, count: samples * cols)
        for s in 0..<samples {
            let f = (0..<factors).map { _ in random.normal() }
            for c in 0..<cols {
                var v = 0.5 * random.normal()
                for k in 0..<factors { v += f[k] * loadings[k * cols + c] }
                x[s * cols + c] = v * scales[c]
            }
        }
        return x
    }

    func gptq(_ options: GPTQOptions, pool: ThreadPool = ThreadPool(threadCount: 2)) -> QuantizedMatrix {
        weights.withUnsafeBufferPointer {
            GPTQ.quantize($0, rows: rows, cols: cols, hessian: hessian, options: options, pool: pool)
        }
    }

    func rtn(planes: Int, groupSize: Int = 128, method: QuantizationMethod) -> QuantizedMatrix {
        weights.withUnsafeBufferPointer {
            Quantizer.quantize($0, rows: rows, cols: cols, planes: planes, groupSize: groupSize, method: method,
                               pool: ThreadPool(threadCount: 2))
        }
    }

    func objective(_ q: QuantizedMatrix) -> Double {
        weights.withUnsafeBufferPointer {
            LayerObjective.error(original: $0, quantized: q, hessian: hessian, pool: ThreadPool(threadCount: 2))
        }
    }
}

/// Two quantizations are the same bytes.
func identical(_ a: QuantizedMatrix, _ b: QuantizedMatrix) -> Bool {
    a.patterns == b.patterns && a.scales == b.scales && a.midpoints == b.midpoints
}

/// GPTQ against rounding to nearest, against a textbook implementation, and its edge cases.
@Suite struct GPTQTests {
    @Test(arguments: QuantizationMethod.allCases, [2, 3, 4])
    func neverWorseThanRoundingToNearest(method: QuantizationMethod, planes: Int) {
        let layer = SyntheticLayer(rows: 48, cols: 576, seed: UInt64(planes * 10 + (method == .hlq ? 1 : 2)))
        let gptq = layer.objective(layer.gptq(GPTQOptions(planes: planes, groupSize: 128, method: method)))
        let rtn = layer.objective(layer.rtn(planes: planes, method: method))
        #expect(gptq < rtn, "\(method) B\(planes): gptq \(gptq) vs rtn \(rtn)")
    }

    @Test(arguments: [2, 3, 4])
    func hlqWithTheUniformGridIsNeverWorseThanUniformGPTQ(planes: Int) {
        for seed in 1...5 {
            let layer = SyntheticLayer(rows: 32, cols: 320, seed: UInt64(100 + seed))
            let hlq = layer.objective(layer.gptq(GPTQOptions(planes: planes, groupSize: 64, method: .hlq)))
            let uniform = layer.objective(layer.gptq(GPTQOptions(planes: planes, groupSize: 64, method: .uniform)))
            #expect(hlq <= uniform * (1 + 1e-6), "seed \(seed) B\(planes): hlq \(hlq) vs uniform \(uniform)")
        }
    }

    /// The inverse-free form (targets through the factor of the reversed Hessian) against GPTQ as
    /// published: U = chol(H⁻¹) upper, and after each column w[j] -= (w[c] - q) / U[c][c] * U[c][j].
    @Test(arguments: [QuantizationMethod.hlq, .uniform])
    func matchesTextbookGPTQ(method: QuantizationMethod) {
        let layer = SyntheticLayer(rows: 12, cols: 160, samples: 400, seed: 77)
        let options = GPTQOptions(planes: 2, groupSize: 64, method: method, blockSize: 48)
        let q = layer.gptq(options)
        let reference = TextbookGPTQ.quantize(layer, options)
        let same = zip(q.patterns, reference.patterns).filter { $0 == $1 }.count
        #expect(Double(same) >= 0.98 * Double(q.patterns.count), "\(same) of \(q.patterns.count) patterns agree")
        let ours = layer.objective(q), theirs = layer.objective(reference)
        #expect(abs(ours - theirs) <= 0.01 * theirs, "objective \(ours) vs textbook \(theirs)")
    }

    @Test func lazyBatchSizeDoesNotChangeTheResult() {
        let layer = SyntheticLayer(rows: 24, cols: 576, seed: 5)
        let results = [16, 128, 576].map { layer.gptq(GPTQOptions(planes: 2, groupSize: 128, method: .hlq, blockSize: $0)) }
        let objectives = results.map(layer.objective)
        for (q, objective) in zip(results, objectives).dropFirst() {
            let same = zip(q.patterns, results[0].patterns).filter { $0 == $1 }.count
            #expect(Double(same) >= 0.99 * Double(q.patterns.count))
            #expect(abs(objective - objectives[0]) <= 1e-3 * objectives[0])
        }
    }

    @Test func groupsLongerOrShorterThanABatch() {
        let layer = SyntheticLayer(rows: 16, cols: 576, seed: 6)
        for (groupSize, blockSize) in [(256, 128), (32, 128), (128, 96)] {
            let options = GPTQOptions(planes: 3, groupSize: groupSize, method: .hlq, blockSize: blockSize)
            #expect(layer.objective(layer.gptq(options)) < layer.objective(layer.rtn(planes: 3, groupSize: groupSize, method: .hlq)))
        }
    }

    @Test func sameBytesWhateverTheThreadCount() {
        let layer = SyntheticLayer(rows: 45, cols: 576, seed: 9)
        for actOrder in [false, true] {
            let options = GPTQOptions(planes: 2, groupSize: 128, method: .hlq, actOrder: actOrder)
            let results = [1, 2, 3].map { layer.gptq(options, pool: ThreadPool(threadCount: $0)) }
            #expect(identical(results[0], results[1]) && identical(results[0], results[2]))
        }
    }

    /// Rows are independent: a one-row matrix is quantized exactly as that row of a larger one.
    @Test func oneRowMatrixIsThatRowOfALargerOne() {
        let layer = SyntheticLayer(rows: 5, cols: 576, seed: 10)
        let options = GPTQOptions(planes: 2, groupSize: 128, method: .hlq)
        let all = layer.gptq(options)
        let one = SyntheticLayer(copying: layer, rows: 3..<4).gptq(options)
        #expect(one.patterns == Array(all.patterns[(3 * 576)..<(4 * 576)]))
        #expect(one.scales == Array(all.scales[(3 * all.groupsPerRow * 2)..<(4 * all.groupsPerRow * 2)]))
        #expect(one.midpoints == Array(all.midpoints[(3 * all.groupsPerRow)..<(4 * all.groupsPerRow)]))
    }

    /// Columns with no input never matter: their weights do not change anything else, and GPTQ
    /// still beats rounding to nearest on the live ones.
    @Test func deadColumnsAreIgnored() {
        var layer = SyntheticLayer(rows: 16, cols: 256, seed: 11)
        let dead = [0, 7, 100, 101, 255]
        for c in dead {
            for k in 0..<256 {
                layer.hessian.values[c * 256 + k] = 0
                layer.hessian.values[k * 256 + c] = 0
            }
        }
        let options = GPTQOptions(planes: 2, groupSize: 64, method: .hlq)
        let q = layer.gptq(options)
        var changed = layer
        for r in 0..<16 { for c in dead { changed.weights[r * 256 + c] = Float(r + c) } }
        #expect(identical(q, changed.gptq(options)))
        #expect(layer.objective(q) < layer.objective(layer.rtn(planes: 2, groupSize: 64, method: .hlq)))
    }

    /// Fewer samples than columns: H is singular, and the dampening alone makes it factor.
    @Test func singularHessian() {
        let layer = SyntheticLayer(rows: 16, cols: 192, samples: 40, seed: 12)
        let q = layer.gptq(GPTQOptions(planes: 2, groupSize: 64, method: .hlq))
        #expect(layer.objective(q) < layer.objective(layer.rtn(planes: 2, groupSize: 64, method: .hlq)))
    }

    /// A Hessian that is not positive semi-definite (no real inputs make one) fails to factor even
    /// with more dampening; GPTQ then falls back to rounding its targets without feedback.
    @Test func indefiniteHessianFallsBack() {
        var layer = SyntheticLayer(rows: 8, cols: 128, seed: 13)
        for i in 0..<128 { for j in 0..<128 { layer.hessian.values[i * 128 + j] = i == j ? (i % 2 == 0 ? 1 : 0.5) : -3 } }
        let q = layer.gptq(GPTQOptions(planes: 2, groupSize: 64, method: .hlq))
        #expect(q.dequantized().allSatisfy { $0.isFinite })
    }

    @Test func allZeroHessian() {
        var layer = SyntheticLayer(rows: 4, cols: 128, seed: 14)
        layer.hessian.values = [Float](repeating: 0, count: 128 * 128)
        let q = layer.gptq(GPTQOptions(planes: 2, groupSize: 128, method: .hlq))
        #expect(q.dequantized().allSatisfy { $0.isFinite && abs($0) < 1e-3 })
        #expect(layer.objective(q) == 0)
    }
}

extension SyntheticLayer {
    /// Some rows of another layer, with its Hessian.
    init(copying layer: SyntheticLayer, rows: Range<Int>) {
        self.rows = rows.count
        cols = layer.cols
        weights = Array(layer.weights[(rows.lowerBound * layer.cols)..<(rows.upperBound * layer.cols)])
        hessian = layer.hessian
    }
}

/// GPTQ as the paper writes it, in Double, column by column with no lazy batches, for comparison.
enum TextbookGPTQ {
    static func quantize(_ layer: SyntheticLayer, _ options: GPTQOptions) -> QuantizedMatrix {
        let n = layer.cols
        var h = layer.hessian.values.map(Double.init)
        let mean = (0..<n).reduce(0.0) { $0 + h[$1 * n + $1] } / Double(n)
        for i in 0..<n { h[i * n + i] += options.dampening * mean }
        let u = upperCholesky(inverse(h, n), n)
        var q = QuantizedMatrix(rows: layer.rows, cols: n, planes: options.planes, groupSize: options.groupSize)
        var patterns = [UInt8](repeating: 0, count: options.groupSize)
        for row in 0..<layer.rows {
            var w = (0..<n).map { Double(layer.weights[row * n + $0]) }
            var grid = GroupParameters(scales: .zero, midpoint: 0).grid(planes: options.planes)
            for c in 0..<n {
                let group = c / options.groupSize
                if c % options.groupSize == 0 {
                    let columns = c..<min(c + options.groupSize, n)
                    let targets = columns.map { Float(w[$0]) }
                    let costs = columns.map { Float(1 / (u[$0 * n + $0] * u[$0 * n + $0])) }
                    let chosen = targets.withUnsafeBufferPointer { t in
                        costs.withUnsafeBufferPointer { cost in
                            patterns.withUnsafeMutableBufferPointer { p in
                                let scratch = UnsafeMutableBufferPointer(rebasing: p[0..<t.count])
                                let uniform = UniformFit.parameters(t, planes: options.planes)
                                guard options.method == .hlq else { return uniform }
                                let hlq = HLQFit.parameters(t, importance: cost, planes: options.planes, scratch: scratch)
                                let hlqCost = hlq.grid(planes: options.planes).assign(t, importance: cost, into: scratch)
                                let uniformCost = uniform.grid(planes: options.planes).assign(t, importance: cost, into: scratch)
                                return uniformCost < hlqCost ? uniform : hlq
                            }
                        }
                    }
                    grid = chosen.grid(planes: options.planes)
                    let stored = row * q.groupsPerRow + group
                    for i in 0..<options.planes { q.scales[stored * options.planes + i] = Float16(chosen.scales[i]) }
                    q.midpoints[stored] = Float16(chosen.midpoint)
                }
                let (pattern, value) = grid.nearest(Float(w[c]))
                q.patterns[row * n + c] = pattern
                let error = (w[c] - Double(value)) / u[c * n + c]
                for j in (c + 1)..<n { w[j] -= error * u[c * n + j] }
            }
        }
        return q
    }

    /// Gauss-Jordan inverse of a symmetric positive definite matrix.
    static func inverse(_ a: [Double], _ n: Int) -> [Double] {
        var m = a, inv = [Double](repeating: 0, count: n * n)
        for i in 0..<n { inv[i * n + i] = 1 }
        for c in 0..<n {
            let pivot = m[c * n + c]
            for k in 0..<n {
                m[c * n + k] /= pivot
                inv[c * n + k] /= pivot
            }
            for r in 0..<n where r != c {
                let f = m[r * n + c]
                for k in 0..<n {
                    m[r * n + k] -= f * m[c * n + k]
                    inv[r * n + k] -= f * inv[c * n + k]
                }
            }
        }
        return inv
    }

    /// U upper triangular with a = UᵀU.
    static func upperCholesky(_ a: [Double], _ n: Int) -> [Double] {
        var u = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            var d = a[i * n + i]
            for k in 0..<i { d -= u[k * n + i] * u[k * n + i] }
            u[i * n + i] = d.squareRoot()
            for j in (i + 1)..<n {
                var v = a[i * n + j]
                for k in 0..<i { v -= u[k * n + i] * u[k * n + j] }
                u[i * n + j] = v / u[i * n + i]
            }
        }
        return u
    }
}
