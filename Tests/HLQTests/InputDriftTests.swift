import HLQ
import Parallel
import Testing
import TestSupport

/// The drift correction: the drift product (and the Hessian measured beside it) against plain
/// Double sums, and the corrected weights as the least-squares optimum of the asymmetric objective
/// Σ_s (w·x_f − ŵ·x)².
@Suite struct InputDriftTests {
    /// Inputs as calibration sees them (x) and as the float model does (x + δ), [samples][cols].
    static func inputPair(samples: Int, cols: Int, seed: UInt64) -> (x: [Float], floatX: [Float]) {
        let x = SyntheticLayer.inputs(samples: samples, cols: cols, seed: seed)
        var random = SeededRandom(seed: seed + 1)
        // Drift correlated with the inputs, as error passed on by earlier layers is.
        let floatX = x.enumerated().map { i, v in v * (1 + 0.1 * random.normal()) + 0.05 * random.normal() + 0.02 * x[(i + 1) % x.count] }
        return (x, floatX)
    }

    @Test(arguments: [1, 2])
    func driftIsTwiceXTransposeDelta(threads: Int) throws {
        let cols = 150, samples = 600  // not a whole number of chunks
        let (x, floatX) = Self.inputPair(samples: samples, cols: cols, seed: 3)
        var accumulator = HessianAccumulator(cols: cols, measuringDrift: true)
        x.withUnsafeBufferPointer { x in
            floatX.withUnsafeBufferPointer { accumulator.add(x, floatInputs: $0, pool: ThreadPool(threadCount: threads)) }
        }
        var reference = [Double](repeating: 0, count: cols * cols)
        for s in 0..<samples {
            for j in 0..<cols {
                let xj = Double(x[s * cols + j])
                for i in 0..<cols { reference[j * cols + i] += 2 * xj * Double(floatX[s * cols + i] - x[s * cols + i]) }
            }
        }
        #expect(GPTQHessianTests.relativeDifference(try #require(accumulator.drift).values, reference) < 1e-4)
        // The Hessian measured alongside is the plain one.
        #expect(GPTQHessianTests.relativeDifference(accumulator.hessian.values, GPTQHessianTests.reference(x, cols: cols)) < 1e-5)
    }

    /// Undamped, w* zeroes the gradient of Σ_s (w·x_f − ŵ·x)², and so beats w itself on it; a
    /// fraction of the correction is that fraction of w* − w.
    @Test func correctedWeightsMinimiseTheAsymmetricObjective() throws {
        let cols = 96, samples = 800, rows = 5
        let pool = ThreadPool(threadCount: 2)
        let (x, floatX) = Self.inputPair(samples: samples, cols: cols, seed: 8)
        var random = SeededRandom(seed: 9)
        let w = random.weights(rows * cols)
        let hessian = x.withUnsafeBufferPointer { Hessian(inputs: $0, cols: cols, pool: pool) }
        var accumulator = HessianAccumulator(cols: cols, measuringDrift: true)
        x.withUnsafeBufferPointer { x in floatX.withUnsafeBufferPointer { accumulator.add(x, floatInputs: $0, pool: pool) } }
        let drift = try #require(accumulator.drift)
        let corrected = try #require(w.withUnsafeBufferPointer {
            drift.correcting($0, rows: rows, hessian: hessian, fraction: 1, dampening: 0, pool: pool)
        })
        // A fraction α applies α of the same correction.
        let halfway = try #require(w.withUnsafeBufferPointer {
            drift.correcting($0, rows: rows, hessian: hessian, fraction: 0.5, dampening: 0, pool: pool)
        })
        let worstHalfwayError = w.indices.map { i -> Float in
            let applied = halfway[i] - w[i], full = corrected[i] - w[i]
            return abs(applied - 0.5 * full) / (abs(corrected[i]) + 1e-3)
        }.max()!
        #expect(worstHalfwayError <= 1e-6)
        func objective(_ candidate: [Float], row r: Int) -> Double {
            (0..<samples).map { s in
                let target = (0..<cols).map { Double(w[r * cols + $0]) * Double(floatX[s * cols + $0]) }.reduce(0, +)
                let output = (0..<cols).map { Double(candidate[r * cols + $0]) * Double(x[s * cols + $0]) }.reduce(0, +)
                return (target - output) * (target - output)
            }.reduce(0, +)
        }
        for r in 0..<rows {
            let before = objective(w, row: r), after = objective(corrected, row: r)
            #expect(after < 0.9 * before, "row \(r): \(after) vs \(before)")
            // The gradient 2 Σ_s (ŵ·x − w·x_f) x, relative to the same sum's terms.
            var gradient = [Double](repeating: 0, count: cols), scale = 0.0
            for s in 0..<samples {
                var residual = 0.0
                for c in 0..<cols { residual += Double(corrected[r * cols + c]) * Double(x[s * cols + c]) - Double(w[r * cols + c]) * Double(floatX[s * cols + c]) }
                for c in 0..<cols { gradient[c] += residual * Double(x[s * cols + c]); scale += abs(residual * Double(x[s * cols + c])) }
            }
            #expect(gradient.map(abs).max()! < 1e-3 * scale / Double(cols), "row \(r)")
        }
    }
}
