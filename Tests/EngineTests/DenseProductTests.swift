import Engine
import Parallel
import Testing
import TestSupport

/// The row-major float product training uses, against sums in Double.
@Suite struct DenseProductTests {
    @Test(arguments: [(1, 1, 1), (7, 33, 19), (9, 70, 300), (17, 65, 513)])
    func matchesDoubleSums(rows: Int, columns: Int, depth: Int) {
        var random = SeededRandom(seed: UInt64(rows * 1000 + columns))
        let lda = depth + 3, ldb = columns + 5, ldc = columns + 2
        let a = (0..<(rows * lda)).map { _ in random.normal() }
        let b = (0..<(depth * ldb)).map { _ in random.normal() }
        let start = (0..<(rows * ldc)).map { _ in random.normal() }
        for accumulating in [false, true] {
            for threads in [1, 2] {
                var c = start
                DenseProduct.multiply(a, lda: lda, rows: rows, by: b, ldb: ldb, depth: depth, columns: columns, into: &c, ldc: ldc,
                                      accumulating: accumulating, pool: ThreadPool(threadCount: threads))
                var worst = 0.0
                for i in 0..<rows {
                    for j in 0..<ldc {
                        guard j < columns else {
                            #expect(c[i * ldc + j] == start[i * ldc + j], "a column past the product is untouched")
                            continue
                        }
                        var sum = accumulating ? Double(start[i * ldc + j]) : 0
                        for k in 0..<depth { sum += Double(a[i * lda + k]) * Double(b[k * ldb + j]) }
                        worst = max(worst, abs(sum - Double(c[i * ldc + j])) / (depth.squareRootBound + abs(sum)))
                    }
                }
                #expect(worst < 1e-5, "rows \(rows) columns \(columns) depth \(depth) accumulating \(accumulating)")
            }
        }
    }

    @Test func theThreadCountDoesNotChangeTheBits() {
        var random = SeededRandom(seed: 5)
        let (rows, columns, depth) = (20, 150, 600)
        let a = (0..<(rows * depth)).map { _ in random.normal() }, b = (0..<(depth * columns)).map { _ in random.normal() }
        var one = [Float](repeating: 0, count: rows * columns), two = one
        DenseProduct.multiply(a, lda: depth, rows: rows, by: b, ldb: columns, depth: depth, columns: columns, into: &one,
                              ldc: columns, pool: ThreadPool(threadCount: 1))
        DenseProduct.multiply(a, lda: depth, rows: rows, by: b, ldb: columns, depth: depth, columns: columns, into: &two,
                              ldc: columns, pool: ThreadPool(threadCount: 2))
        #expect(one == two)
    }

    @Test func transposeSwapsRowsAndColumns() {
        let (rows, cols) = (19, 7)
        let x = (0..<(rows * (cols + 1))).map(Float.init)
        var t = [Float](repeating: -1, count: cols * (rows + 2))
        DenseProduct.transpose(x, ldx: cols + 1, rows: rows, cols: cols, into: &t, ldt: rows + 2)
        for i in 0..<rows { for j in 0..<cols { #expect(t[j * (rows + 2) + i] == x[i * (cols + 1) + j]) } }
        #expect(t[rows] == -1, "padding of the destination is untouched")
    }
}

private extension Int {
    /// √n, the scale of a sum of n unit products' rounding error.
    var squareRootBound: Double { Double(self).squareRoot() }
}
