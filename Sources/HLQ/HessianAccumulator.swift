import CLUTKernels
import Parallel

/// Streams calibration inputs into a `Hessian`: each batch's XᵀX by the float GEMM, summed in Double;
/// and, when it is also given the float model's inputs, into the `InputDrift` beside it.
///
/// The product is symmetric, so only its lower triangle is formed, one GEMM per strip of up to 128
/// rows, the rows shared out among the threads by area. Inputs go through in chunks of 512 rows, transposed
/// so that the product is dot products along the samples; a strip's 128 columns of a chunk (256 KB)
/// stay in L2 while the rest stream past. A float dot product of 512 terms is far more accurate than
/// GPTQ needs, and the running sum across chunks and batches is Double, so long runs do not drift.
/// The drift product Xᵀ(X_f − X) reuses each chunk's transposed inputs; it is not symmetric, so it
/// is formed whole.
public struct HessianAccumulator: Sendable {
    public let cols: Int
    /// Input rows added so far.
    public private(set) var sampleCount = 0
    /// Σ XᵀX so far: the lower triangle of [cols][cols] (the upper one stays zero).
    private var sum: [Double]
    /// Σ_s x_s[j] δ_s[i] so far at [j][i], δ = x_f − x, when measuring drift.
    private var driftSum: [Double]?

    private static let chunkRows = 512
    private static let strip = 128

    /// With `measuringDrift`, every `add` must also give the float model's inputs.
    public init(cols: Int, measuringDrift: Bool = false) {
        precondition(cols > 0)
        self.cols = cols
        sum = [Double](repeating: 0, count: cols * cols)
        driftSum = measuringDrift ? sum : nil
    }

    /// Adds a batch of input rows, [samples][cols], and with them the float model's inputs for the
    /// same samples when measuring drift.
    public mutating func add(_ inputs: UnsafeBufferPointer<Float>, floatInputs: UnsafeBufferPointer<Float>? = nil,
                             pool: ThreadPool) {
        precondition(inputs.count % cols == 0, "inputs must be whole rows of cols values")
        precondition((floatInputs != nil) == (driftSum != nil), "float inputs go with measuringDrift, and only with it")
        precondition(floatInputs.map { $0.count == inputs.count } ?? true, "float inputs must match the inputs")
        let samples = inputs.count / cols
        guard samples > 0 else { return }
        let cols = self.cols
        var transposed = [Float](repeating: 0, count: cols * Self.chunkRows)
        var transposedDrift = floatInputs == nil ? [] : transposed
        for chunkStart in stride(from: 0, to: samples, by: Self.chunkRows) {
            let m = min(Self.chunkRows, samples - chunkStart)
            transposeRows(inputs.baseAddress! + chunkStart * cols, rows: m, cols: cols, into: &transposed, pool: pool)
            transposed.withUnsafeBufferPointer { transposed in
                let t = transposed.baseAddress!
                sum.withUnsafeMutableBufferPointer {
                    Self.addProducts(rows: t, columns: t, samples: m, cols: cols, lowerOnly: true, into: $0.baseAddress!, pool: pool)
                }
                guard let floatInputs else { return }
                transposeRows(floatInputs.baseAddress! + chunkStart * cols, rows: m, cols: cols, into: &transposedDrift, pool: pool)
                for k in 0..<(cols * m) { transposedDrift[k] -= t[k] }
                transposedDrift.withUnsafeBufferPointer { d in
                    driftSum!.withUnsafeMutableBufferPointer {
                        Self.addProducts(rows: t, columns: d.baseAddress!, samples: m, cols: cols, lowerOnly: false,
                                         into: $0.baseAddress!, pool: pool)
                    }
                }
            }
        }
        sampleCount += samples
    }

    /// total[i][j] += Σ_s rows[i][s] · columns[j][s] over `samples` values per row ([cols][samples]
    /// each), for every j or, with `lowerOnly`, for j ≤ i; in strips of rows, shared out among the
    /// threads by area.
    private static func addProducts(rows: UnsafePointer<Float>, columns: UnsafePointer<Float>, samples m: Int, cols: Int,
                                    lowerOnly: Bool, into total: UnsafeMutablePointer<Double>, pool: ThreadPool) {
        pool.run { participant in
            let share = lowerOnly
                ? LowerTriangle.share(rows: cols, participant: participant, participants: pool.threadCount)
                : ThreadPool.share(of: cols, participant: participant, participants: pool.threadCount)
            let product = UnsafeMutablePointer<Float>.allocate(capacity: strip * cols)
            defer { product.deallocate() }
            for first in stride(from: share.lowerBound, to: share.upperBound, by: strip) {
                let rowCount = min(strip, share.upperBound - first), colCount = lowerOnly ? first + rowCount : cols
                // product[i][j] = Σ_s rows[first + i][s] columns[j][s] for j < colCount
                elutq_f32_gemm(columns, Int32(m), rows + first * m, Int64(m), Int32(rowCount),
                               product, Int64(colCount), 0, Int32(colCount))
                for i in 0..<rowCount {
                    let row = total + (first + i) * cols, p = product + i * colCount
                    for j in 0..<(lowerOnly ? first + i + 1 : cols) { row[j] += Double(p[j]) }
                }
            }
        }
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

    /// D = 2 Σ δxᵀ over everything added so far, or nil when not measuring drift.
    public var drift: InputDrift? {
        driftSum.map { InputDrift(cols: cols, values: $0.map { Float(2 * $0) }) }
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
