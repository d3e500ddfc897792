import Engine
import Testing
import TestSupport

/// The transformer's small float operations against plain loops in double precision.
@Suite struct FloatOpsTests {
    /// Widths that take the 64-column, 16-column and scalar paths, alone and together.
    @Test(arguments: [64, 128, 80, 7, 16, 1])
    func weightedSumMatchesPlainLoop(width: Int) {
        var random = SeededRandom(seed: UInt64(width))
        let count = 37, stride = width + 5
        let rows = (0..<(count * stride)).map { _ in random.normal() }
        let weights = (0..<count).map { _ in random.normal() }
        var out = [Float](repeating: .nan, count: width)
        FloatOps.weightedSum(rows: rows, stride: stride, weights: weights, count: count, width: width, into: &out)
        for c in 0..<width {
            var exact = 0.0, magnitude = 0.0
            for j in 0..<count {
                exact += Double(weights[j]) * Double(rows[j * stride + c])
                magnitude += abs(Double(weights[j]) * Double(rows[j * stride + c]))
            }
            #expect(abs(Double(out[c]) - exact) <= 1e-6 * magnitude, "column \(c)")
        }
    }
}
