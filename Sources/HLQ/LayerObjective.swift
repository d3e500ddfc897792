import CLUTKernels
import Parallel

/// The calibration objective of a quantized layer, Σ_rows (w − ŵ)ᵀ H (w − ŵ): twice the summed
/// squared error of the layer's outputs over the calibration inputs.
public enum LayerObjective {
    /// The objective of `quantized` against the float `original` ([rows][cols]). The refit's
    /// `before` is computed with the same residuals, products and sums, so the two agree exactly.
    public static func error(original: UnsafeBufferPointer<Float>, quantized q: QuantizedMatrix, hessian: Hessian,
                             pool: ThreadPool) -> Double {
        precondition(original.count == q.rows * q.cols, "original must hold rows * cols values")
        precondition(hessian.cols == q.cols, "the Hessian must have one row and column per weight column")
        var errors = [Double](repeating: 0, count: q.rows)
        errors.withUnsafeMutableBufferPointer { errors in
            hessian.values.withUnsafeBufferPointer { h in
                pool.parallelFor(q.rows) { share in
                    let residual = UnsafeMutablePointer<Float>.allocate(capacity: chunkRows * q.cols * 2)
                    defer { residual.deallocate() }
                    let product = residual + chunkRows * q.cols
                    for chunk in stride(from: share.lowerBound, to: share.upperBound, by: chunkRows) {
                        let rows = chunk..<min(chunk + chunkRows, share.upperBound)
                        residuals(original: original.baseAddress!, quantized: q, hessian: h.baseAddress!, rows: rows,
                                  residual: residual, product: product)
                        for (i, row) in rows.enumerated() {
                            errors[row] = quadratic(residual + i * q.cols, product + i * q.cols, q.cols)
                        }
                    }
                }
            }
        }
        return errors.reduce(0, +)
    }

    /// Rows at a time in the products with H: their residuals (about 6 KB a row) stay in L2
    /// while H streams past once per chunk.
    static let chunkRows = 64

    /// residual[i] = w − ŵ of the i-th of `rows`, and product[i] = H residual[i]; both [rows.count][cols].
    static func residuals(original: UnsafePointer<Float>, quantized q: QuantizedMatrix, hessian: UnsafePointer<Float>,
                          rows: Range<Int>, residual: UnsafeMutablePointer<Float>, product: UnsafeMutablePointer<Float>) {
        let cols = q.cols
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { values in
            for (i, row) in rows.enumerated() {
                for group in 0..<q.groupsPerRow {
                    for p in 0..<(1 << q.planes) { values[p] = q.value(row: row, group: group, pattern: UInt8(p)) }
                    for k in (group * q.groupSize)..<min((group + 1) * q.groupSize, cols) {
                        residual[i * cols + k] = original[row * cols + k] - values[Int(q.patterns[row * cols + k])]
                    }
                }
            }
        }
        // product[i][k] = Σ_l H[k][l] residual[i][l]  (H is symmetric)
        elutq_f32_gemm(hessian, Int32(cols), residual, Int64(cols), Int32(rows.count), product, Int64(cols), 0, Int32(cols))
    }

    /// Σ_k a[k] b[k], accumulated in Double.
    static func quadratic(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Double {
        var sum = 0.0
        for k in 0..<count { sum += Double(a[k]) * Double(b[k]) }
        return sum
    }
}
