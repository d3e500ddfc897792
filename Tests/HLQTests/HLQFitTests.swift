import HLQ
import Parallel
import Testing
import TestSupport

/// Unit and property tests of the group fit: error bounds, singular groups and determinism.
@Suite struct HLQFitTests {
    static func meanSquaredError(_ q: QuantizedMatrix, _ w: [Float]) -> Double {
        let d = q.dequantized()
        return zip(d, w).reduce(0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(w.count)
    }

    @Test(arguments: [1, 2, 3, 4], [32, 64, 128])
    func hlqNeverWorseThanItsUniformInitialisation(planes: Int, groupSize: Int) {
        var random = SeededRandom(seed: UInt64(planes * 1000 + groupSize))
        let rows = 16, cols = 576
        let w = random.weights(rows * cols)
        let pool = ThreadPool(threadCount: 2)
        let hlq = w.withUnsafeBufferPointer {
            Quantizer.quantize($0, rows: rows, cols: cols, planes: planes, groupSize: groupSize, method: .hlq, pool: pool)
        }
        // Check group by group against the initialisation, s_i = 2^i (max - min) / (2^B - 1), z = min.
        for row in 0..<rows {
            for group in 0..<hlq.groupsPerRow {
                let begin = row * cols + group * groupSize
                let slice = Array(w[begin..<min(begin + groupSize, row * cols + cols)])
                let lo = slice.min()!, hi = slice.max()!
                let step = (hi - lo) / Float((1 << planes) - 1)
                var initial = QuantizedMatrix(rows: 1, cols: slice.count, planes: planes, groupSize: groupSize)
                for i in 0..<planes { initial.scales[i] = Float16(Float(1 << i) * step) }
                initial.midpoints[0] = Float16(0.5 * (lo + hi))
                for (k, x) in slice.enumerated() {
                    initial.patterns[k] = UInt8((0..<(1 << planes)).min { a, b in
                        abs(initial.value(row: 0, group: 0, pattern: UInt8(a)) - x) < abs(initial.value(row: 0, group: 0, pattern: UInt8(b)) - x)
                    }!)
                }
                var fitted = QuantizedMatrix(rows: 1, cols: slice.count, planes: planes, groupSize: groupSize)
                fitted.patterns = Array(hlq.patterns[begin..<(begin + slice.count)])
                fitted.scales = Array(hlq.scales[((row * hlq.groupsPerRow + group) * planes)..<((row * hlq.groupsPerRow + group + 1) * planes)])
                fitted.midpoints = [hlq.midpoints[row * hlq.groupsPerRow + group]]
                #expect(Self.meanSquaredError(fitted, slice) <= Self.meanSquaredError(initial, slice))
            }
        }
    }

    @Test(arguments: [2, 3, 4])
    func hlqBeatsUniformOnTrainedLikeWeights(planes: Int) {
        var random = SeededRandom(seed: 7)
        let rows = 32, cols = 512
        let w = random.weights(rows * cols)
        let pool = ThreadPool(threadCount: 1)
        let errors = QuantizationMethod.allCases.map { method in
            w.withUnsafeBufferPointer {
                Self.meanSquaredError(Quantizer.quantize($0, rows: rows, cols: cols, planes: planes, groupSize: 128, method: method, pool: pool), w)
            }
        }
        #expect(errors[0] < errors[1], "hlq \(errors[0]) vs uniform \(errors[1])")
    }

    @Test func singularGroupsAreExactOrFinite() {
        let cols = 128
        let cases: [[Float]] = [
            [Float](repeating: 0.25, count: cols),                        // all equal
            [Float](repeating: 0, count: cols),                           // all zero
            (0..<cols).map { $0 % 2 == 0 ? -0.5 : 0.5 },                  // two values
            (0..<cols).map { $0 == 3 ? 1 : 0 },                           // one outlier
        ]
        let pool = ThreadPool(threadCount: 1)
        for w in cases {
            for planes in 1...4 {
                for method in QuantizationMethod.allCases {
                    let q = w.withUnsafeBufferPointer {
                        Quantizer.quantize($0, rows: 1, cols: cols, planes: planes, groupSize: 128, method: method, pool: pool)
                    }
                    let d = q.dequantized()
                    #expect(d.allSatisfy { $0.isFinite })
                    // Two or fewer distinct values fit exactly with any grid of two or more levels.
                    if Set(w).count <= 2 && method == .hlq {
                        #expect(zip(d, w).allSatisfy { abs($0 - $1) <= 1e-3 * max(1, abs($1)) }, "planes \(planes) \(w.prefix(4))")
                    }
                }
            }
        }
    }

    @Test func uniformGridHasAnIntegerZeroPoint() {
        var random = SeededRandom(seed: 3)
        let w = random.weights(128)
        let q = w.withUnsafeBufferPointer {
            Quantizer.quantize($0, rows: 1, cols: 128, planes: 3, groupSize: 128, method: .uniform, pool: ThreadPool(threadCount: 1))
        }
        let s = Float(q.scales[0])
        #expect(Float(q.scales[1]) == 2 * s && Float(q.scales[2]) == 4 * s)
        let zeroPoint = -(Float(q.midpoints[0]) - 3.5 * s) / s
        #expect(abs(zeroPoint - zeroPoint.rounded()) < 1e-2)
    }

    @Test func sameBytesWhateverTheThreadCount() {
        var random = SeededRandom(seed: 11)
        let rows = 45, cols = 576
        let w = random.weights(rows * cols)
        let results = [1, 2, 3].map { threads in
            w.withUnsafeBufferPointer {
                PackedMatrix(Quantizer.quantize($0, rows: rows, cols: cols, planes: 2, groupSize: 128, method: .hlq,
                                                pool: ThreadPool(threadCount: threads)))
            }
        }
        #expect(results.allSatisfy { $0.bits == results[0].bits && $0.params == results[0].params })
    }
}

/// Packing and reading back: the packed bytes stand for exactly the quantized matrix.
@Suite struct PackedMatrixTests {
    @Test(arguments: [(37, 100, 1, 32), (64, 576, 2, 128), (33, 200, 3, 64), (5, 48, 4, 32)])
    func dequantizingPackedBytesGivesTheQuantizedMatrix(shape: (Int, Int, Int, Int)) {
        let (rows, cols, planes, groupSize) = shape
        var random = SeededRandom(seed: UInt64(rows + cols))
        let w = random.weights(rows * cols)
        let q = w.withUnsafeBufferPointer {
            Quantizer.quantize($0, rows: rows, cols: cols, planes: planes, groupSize: groupSize, method: .hlq, pool: ThreadPool(threadCount: 1))
        }
        let packed = PackedMatrix(q)
        var out = [Float](repeating: .nan, count: rows * cols)
        packed.bits.withUnsafeBytes { bits in
            packed.params.withUnsafeBytes { params in
                out.withUnsafeMutableBufferPointer {
                    PackedMatrix.dequantize(bits: bits.baseAddress!, params: params.baseAddress!, rows: rows, cols: cols,
                                            planes: planes, groupSize: groupSize, into: $0.baseAddress!)
                }
            }
        }
        #expect(out == q.dequantized())
    }
}
