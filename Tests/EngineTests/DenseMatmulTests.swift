import CLUTKernels
import Engine
import HLQ
import Parallel
import Testing
import TestSupport

/// The dense products (f32, f16, q8) against a double-precision reference of the same stored
/// values, with tails in every dimension; q8's integer paths against each other.
@Suite struct DenseMatmulTests {
    enum Storage: CaseIterable { case f32, f16, q8 }

    static let shapes = [(1, 1, 1), (7, 33, 5), (64, 576, 4), (13, 100, 9), (4, 16, 3)]

    @Test(arguments: Storage.allCases, shapes)
    func matchesDoubleReference(storage: Storage, shape: (Int, Int, Int)) {
        let (rows, cols, count) = shape
        var random = SeededRandom(seed: UInt64(rows * cols + count))
        var w = (0..<(rows * cols)).map { _ in random.normal() }
        let halves = w.map { Float16($0).bitPattern }
        let (q8, scales) = w.withUnsafeBufferPointer { RowQuantizer.q8($0, rows: rows, cols: cols) }
        switch storage {  // the reference uses exactly the values stored
        case .f32: break
        case .f16: w = halves.map { Float(Float16(bitPattern: $0)) }
        case .q8: w = (0..<(rows * cols)).map { Float(q8[$0]) * scales[$0 / cols] }
        }
        let x = (0..<(count * cols)).map { _ in random.normal() }
        let y = multiply(storage: storage, w: w, halves: halves, q8: q8, scales: scales, x: x, shape: shape, isa: .best)
        // q8 multiplies int16 copies of the inputs: each is off by at most half its vector's step.
        var inputSteps = [Float](repeating: 0, count: count)
        if storage == .q8 {
            var copy = [Int16](repeating: 0, count: count * cols)
            elutq_quantize_int16(x, Int64(cols), Int32(cols), Int32(count), &copy, &inputSteps)
        }
        for v in 0..<count {
            for r in 0..<rows {
                var exact = 0.0, magnitude = 0.0, weightSum = 0.0
                for k in 0..<cols {
                    exact += Double(w[r * cols + k]) * Double(x[v * cols + k])
                    magnitude += abs(Double(w[r * cols + k]) * Double(x[v * cols + k]))
                    weightSum += abs(Double(w[r * cols + k]))
                }
                // float32 accumulation: a few ulps of the sum of magnitudes
                let bound = 1e-5 * magnitude + 1e-6 + weightSum * Double(inputSteps[v]) / 2
                #expect(abs(Double(y[v * rows + r]) - exact) <= bound, "\(storage) row \(r) vector \(v)")
            }
        }
    }

    /// Every q8 path sums exactly in integers, so they agree to the bit.
    @Test(arguments: shapes)
    func q8PathsAgreeBitForBit(shape: (Int, Int, Int)) {
        let (rows, cols, count) = shape
        var random = SeededRandom(seed: UInt64(3 * rows + cols + count))
        let w = (0..<(rows * cols)).map { _ in random.normal() }
        let (q8, scales) = w.withUnsafeBufferPointer { RowQuantizer.q8($0, rows: rows, cols: cols) }
        let x = (0..<(count * cols)).map { _ in 10 * random.normal() }
        let scalar = multiply(storage: .q8, w: w, halves: [], q8: q8, scales: scales, x: x, shape: shape, isa: .scalar)
        for isa in KernelISATests.simdPaths {
            let y = multiply(storage: .q8, w: w, halves: [], q8: q8, scales: scales, x: x, shape: shape, isa: isa)
            #expect(y.map(\.bitPattern) == scalar.map(\.bitPattern), "\(isa.name) differs from scalar")
        }
    }

    /// y = W x through `LinearWeight` for one storage kind, on path `isa` (f32 and f16 choose their own).
    private func multiply(storage: Storage, w: [Float], halves: [UInt16], q8: [Int8], scales: [Float], x: [Float],
                          shape: (Int, Int, Int), isa: KernelISA) -> [Float] {
        let (rows, cols, count) = shape
        var y = [Float](repeating: .nan, count: count * rows)
        let input = LinearInput(cols: cols, capacity: count)
        input.values.update(from: x, count: x.count)
        input.invalidate(count: count)
        let pool = ThreadPool(threadCount: 2)
        w.withUnsafeBufferPointer { w in
            halves.withUnsafeBufferPointer { halves in
                q8.withUnsafeBufferPointer { q8 in
                    scales.withUnsafeBufferPointer { scales in
                        let weight: LinearWeight = switch storage {
                        case .f32: .f32(w.baseAddress!, rows: rows, cols: cols)
                        case .f16: .f16(halves.baseAddress!, rows: rows, cols: cols)
                        case .q8: .q8(q8.baseAddress!, scales: scales.baseAddress!, rows: rows, cols: cols)
                        }
                        y.withUnsafeMutableBufferPointer { weight.multiply(input, into: $0.baseAddress!, ldy: rows, pool: pool, isa: isa) }
                    }
                }
            }
        }
        return y
    }
}
