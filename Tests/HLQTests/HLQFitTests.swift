import Engine
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
    func hlqNeverWorseThanTheUniformBaseline(planes: Int, groupSize: Int) {
        var random = SeededRandom(seed: UInt64(planes * 1000 + groupSize))
        let rows = 16, cols = 576
        let w = random.weights(rows * cols)
        let pool = ThreadPool(threadCount: 2)
        let (hlq, uniform) = w.withUnsafeBufferPointer { w in
            (Quantizer.quantize(w, rows: rows, cols: cols, planes: planes, groupSize: groupSize, method: .hlq, pool: pool),
             Quantizer.quantize(w, rows: rows, cols: cols, planes: planes, groupSize: groupSize, method: .uniform, pool: pool))
        }
        // The anchored fit starts from the uniform grid and keeps an iterate only when its error drops,
        // so this holds group by group, not just on average.
        let (h, u) = (hlq.dequantized(), uniform.dequantized())
        for row in 0..<rows {
            for begin in stride(from: row * cols, to: (row + 1) * cols, by: groupSize) {
                let members = begin..<min(begin + groupSize, (row + 1) * cols)
                let hlqError = members.reduce(0.0) { $0 + Double((h[$1] - w[$1]) * (h[$1] - w[$1])) }
                let uniformError = members.reduce(0.0) { $0 + Double((u[$1] - w[$1]) * (u[$1] - w[$1])) }
                #expect(hlqError <= uniformError, "row \(row), column \(begin - row * cols)")
            }
        }
    }

    @Test(arguments: [2, 3, 4])
    func everyGroupStraddlingZeroKeepsZeroOnItsGrid(planes: Int) {
        var random = SeededRandom(seed: UInt64(planes))
        let rows = 8, cols = 512
        var w = random.weights(rows * cols)
        for k in stride(from: 0, to: w.count, by: 7) { w[k] = 0 }
        let q = w.withUnsafeBufferPointer {
            Quantizer.quantize($0, rows: rows, cols: cols, planes: planes, groupSize: 128, method: .hlq, pool: ThreadPool(threadCount: 1))
        }
        let d = q.dequantized()
        for row in 0..<rows {
            for group in 0..<q.groupsPerRow {
                let values = (0..<(1 << planes)).map { abs(q.value(row: row, group: group, pattern: UInt8($0))) }
                let spread = values.max()!
                // Zero up to the half-float rounding of the stored scales and midpoint (2^-11 of each).
                #expect(values.min()! <= spread / 512, "row \(row), group \(group)")
            }
        }
        let largest = d.map(abs).max()!
        for k in stride(from: 0, to: w.count, by: 7) { #expect(abs(d[k]) <= largest / 512) }
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
        let packed = OwnedLUTMatrix(PackedMatrix(q))
        var out = [Float](repeating: .nan, count: rows * cols)
        out.withUnsafeMutableBufferPointer { packed.matrix.dequantize(into: $0.baseAddress!) }
        #expect(out == q.dequantized())
        // Any run of rows alone (as finetuning expands a head): the same rows of the whole, across 32-row blocks.
        for range in [0..<1, min(5, rows / 2)..<(rows - 1), (rows - 3)..<rows] {
            var part = [Float](repeating: .nan, count: range.count * cols)
            part.withUnsafeMutableBufferPointer { packed.matrix.dequantize(rows: range, into: $0.baseAddress!) }
            #expect(part == Array(out[(range.lowerBound * cols)..<(range.upperBound * cols)]), "rows \(range)")
        }
    }
}
