import CLUTKernels
import Parallel

/// Streams calibration inputs into a `Hessian`: each batch's XᵀX by the float GEMM, summed in Double.
///
/// The product is symmetric, so only its lower triangle is formed, one GEMM per strip of up to 128
/// rows, the rows shared out among the threads by area. Inputs go through in chunks of 512 rows, transposed
/// so that the product is dot products along the samples; a strip's 128 columns of a chunk (256 KB)
/// stay in L2 while the rest stream past. A float dot product of 512 terms is far more accurate than
/// GPTQ needs, and the running sum across chunks and batches is Double, so long runs do not drift.
public struct HessianAccumulator: Sendable {
    public let cols: Int
    /// Input rows added so far.
    public private(set) var sampleCount = 0
    /// Σ XᵀX so far: the lower triangle of [cols][cols] (the upper one stays zero).
    private var sum: [Double]

    private static let chunkRows = 512
    private static let strip = 128

    public init(cols: Int) {
        precondition(cols > 0)
        self.cols = cols
        sum = [Double](repeating: 0, count: cols * cols)
    }

    /// Adds a batch of input rows, [samples][cols].
    public mutating func add(_ inputs: UnsafeBufferPointer<Float>, pool: ThreadPool) {
        precondition(inputs.count % cols == 0, "inputs must be whole rows of cols values")
        let samples = inputs.count / cols
        guard samples > 0 else { return }
        let cols = self.cols, strip = Self.strip
        var transposed = [Float](repeating: 0, count: cols * Self.chunkRows)
        for chunkStart in stride(from: 0, to: samples, by: Self.chunkRows) {
            let m = min(Self.chunkRows, samples - chunkStart)
            transposeRows(inputs.baseAddress! + chunkStart * cols, rows: m, cols: cols, into: &transposed, pool: pool)
            sum.withUnsafeMutableBufferPointer { sum in
                transposed.withUnsafeBufferPointer { transposed in
                    let t = transposed.baseAddress!, total = sum.baseAddress!
                    // The lower triangle of tᵀt, in strips of rows, the rows shared out among the threads by area.
                    pool.run { participant in
                        let rows = LowerTriangle.share(rows: cols, participant: participant, participants: pool.threadCount)
                        let product = UnsafeMutablePointer<Float>.allocate(capacity: strip * cols)
                        defer { product.deallocate() }
                        for first in stride(from: rows.lowerBound, to: rows.upperBound, by: strip) {
                            let rowCount = min(strip, rows.upperBound - first), colCount = first + rowCount
                            // product[i][j] = Σ_s t[first + i][s] t[j][s] for j < colCount
                            elutq_f32_gemm(t, Int32(m), t + first * m, Int64(m), Int32(rowCount),
                                           product, Int64(colCount), 0, Int32(colCount))
                            for i in 0..<rowCount {
                                let row = total + (first + i) * cols, p = product + i * colCount
                                for j in 0...(first + i) { row[j] += Double(p[j]) }
                            }
                        }
                    }
                }
            }
        }
        sampleCount += samples
    }

    /// `H = 2 XᵀX` over everything added so far, as the full symmetric matrix.
    public var hessian: Hessian {
        var values = [Float](repeating: 0, count: cols * cols)
        for i in 0..<cols {
            for j in 0...i {
                let h = Float(2 * sum[i * cols + j])
                values[i * cols + j] = h
                values[j * cols + i] = h
            }
        }
        return Hessian(cols: cols, values: values, sampleCount: sampleCount)
    }
}

/// t[c][s] = x[s][c] for `rows` samples of `cols` values, into `t` ([cols][rows]), 16 samples at
/// a time so that each column's writes fill whole cache lines (one sample at a time, every write missed).
func transposeRows(_ x: UnsafePointer<Float>, rows m: Int, cols: Int, into t: inout [Float], pool: ThreadPool) {
    t.withUnsafeMutableBufferPointer { t in
        let t = t.baseAddress!
        pool.parallelFor(cols) { columns in
            for s0 in stride(from: 0, to: m, by: 16) {
                let source = x + s0 * cols
                for c in columns {
                    for s in 0..<min(16, m - s0) { t[c * m + s0 + s] = source[s * cols + c] }
                }
            }
        }
    }
}
