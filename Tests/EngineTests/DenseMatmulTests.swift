import Engine
import Parallel
import Testing
import TestSupport

/// The float32 (dense) products against a double-precision reference, with tails in every dimension.
@Suite struct DenseMatmulTests {
    @Test(arguments: [(1, 1, 1), (7, 33, 5), (64, 576, 4), (13, 100, 9), (4, 16, 3)])
    func matchesDoubleReference(rows: Int, cols: Int, count: Int) {
        var random = SeededRandom(seed: UInt64(rows * cols + count))
        let w = (0..<(rows * cols)).map { _ in random.normal() }
        let x = (0..<(count * cols)).map { _ in random.normal() }
        var y = [Float](repeating: .nan, count: count * rows)
        let input = LinearInput(cols: cols, capacity: count)
        input.values.update(from: x, count: x.count)
        input.invalidate(count: count)
        w.withUnsafeBufferPointer { w in
            y.withUnsafeMutableBufferPointer { y in
                LinearWeight.f32(w.baseAddress!, rows: rows, cols: cols)
                    .multiply(input, into: y.baseAddress!, ldy: rows, pool: ThreadPool(threadCount: 2))
            }
        }
        for v in 0..<count {
            for r in 0..<rows {
                var exact = 0.0, magnitude = 0.0
                for k in 0..<cols {
                    exact += Double(w[r * cols + k]) * Double(x[v * cols + k])
                    magnitude += abs(Double(w[r * cols + k]) * Double(x[v * cols + k]))
                }
                // float32 accumulation: a few ulps of the sum of magnitudes
                #expect(abs(Double(y[v * rows + r]) - exact) <= 1e-5 * magnitude + 1e-6, "row \(r) vector \(v)")
            }
        }
    }
}
