import HLQ
import Parallel
import Testing
import TestSupport

/// The Hessian accumulator and the layer objective against plain Double sums.
@Suite struct GPTQHessianTests {
    /// 2 XᵀX in Double, the slow way.
    static func reference(_ x: [Float], cols: Int) -> [Double] {
        let samples = x.count / cols
        var h = [Double](repeating: 0, count: cols * cols)
        for s in 0..<samples {
            for i in 0..<cols {
                let xi = Double(x[s * cols + i])
                for j in 0..<cols { h[i * cols + j] += 2 * xi * Double(x[s * cols + j]) }
            }
        }
        return h
    }

    /// Largest |a - b| relative to the largest |b|.
    static func relativeDifference(_ a: [Float], _ b: [Double]) -> Double {
        let scale = b.map(abs).max()!
        return zip(a, b).map { abs(Double($0) - $1) }.max()! / scale
    }

    @Test(arguments: [1, 2])
    func accumulatorMatchesTwiceXTransposeX(threads: Int) {
        // 200 columns: not a whole number of 128-wide strips; 700 samples: more than one chunk.
        let cols = 200
        let x = SyntheticLayer.inputs(samples: 700, cols: cols, seed: 1)
        let h = x.withUnsafeBufferPointer { Hessian(inputs: $0, cols: cols, pool: ThreadPool(threadCount: threads)) }
        #expect(h.sampleCount == 700)
        #expect(Self.relativeDifference(h.values, Self.reference(x, cols: cols)) < 1e-5)
        #expect((0..<cols).allSatisfy { i in (0..<cols).allSatisfy { h.values[i * cols + $0] == h.values[$0 * cols + i] } })
    }

    /// The ridge adds the same fraction of the mean diagonal to every diagonal entry, and nothing else.
    @Test func dampenedAddsToTheDiagonalOnly() {
        let cols = 40
        let x = SyntheticLayer.inputs(samples: 100, cols: cols, seed: 3)
        let h = x.withUnsafeBufferPointer { Hessian(inputs: $0, cols: cols, pool: ThreadPool(threadCount: 1)) }
        let meanDiagonal = (0..<cols).reduce(0.0) { $0 + Double(h.values[$1 * cols + $1]) } / Double(cols)
        let d = h.dampened(by: 0.03)
        for i in 0..<cols {
            for j in 0..<cols {
                let added = Double(d.values[i * cols + j]) - Double(h.values[i * cols + j])
                #expect(abs(added - (i == j ? 0.03 * meanDiagonal : 0)) <= 1e-6 * meanDiagonal, "(\(i), \(j))")
            }
        }
        #expect(h.dampened(by: 0).values == h.values)
    }

    @Test func batchesAddUp() {
        let cols = 96
        let x = SyntheticLayer.inputs(samples: 650, cols: cols, seed: 2)
        let pool = ThreadPool(threadCount: 2)
        var accumulator = HessianAccumulator(cols: cols)
        var start = 0
        for batch in [1, 37, 0, 540, 72] {
            x.withUnsafeBufferPointer { accumulator.add(UnsafeBufferPointer(rebasing: $0[(start * cols)..<((start + batch) * cols)]), pool: pool) }
            start += batch
        }
        let h = accumulator.hessian
        #expect(h.sampleCount == 650)
        #expect(Self.relativeDifference(h.values, Self.reference(x, cols: cols)) < 1e-5)
    }

    @Test func layerObjectiveIsTheQuadraticForm() {
        let layer = SyntheticLayer(rows: 7, cols: 160, seed: 3)
        let q = layer.rtn(planes: 2, groupSize: 32, method: .hlq)
        let d = q.dequantized()
        var expected = 0.0
        for r in 0..<layer.rows {
            for i in 0..<layer.cols {
                let ei = Double(layer.weights[r * 160 + i] - d[r * 160 + i])
                for j in 0..<layer.cols {
                    expected += ei * Double(layer.hessian.values[i * 160 + j]) * Double(layer.weights[r * 160 + j] - d[r * 160 + j])
                }
            }
        }
        #expect(abs(layer.objective(q) - expected) <= 1e-5 * expected)
    }
}
