import CLUTKernels
import Parallel

/// Float32 matrix products c = a·b in plain row-major form, for the training passes and for
/// attention's probabilities times the cached values.
///
/// Every product a forward or backward pass needs is written in this one form, with an explicit
/// transpose where an operand comes the other way round; the kernel keeps output rows in
/// registers and streams rows of `b`, which is what makes it fast.
public enum DenseProduct {
    /// c[i * ldc + j] (+)= Σ_k a[i * lda + k] · b[k * ldb + j] for i < rows, j in `columns`,
    /// k < depth, on the calling thread: for products inside a parallel region.
    public static func multiply(_ a: UnsafePointer<Float>, lda: Int, rows: Int, by b: UnsafePointer<Float>, ldb: Int,
                                depth: Int, columns: Range<Int>, into c: UnsafeMutablePointer<Float>, ldc: Int,
                                accumulating: Bool = false) {
        if rows == 0 || columns.isEmpty { return }
        elutq_f32_gemm_nn(a, Int64(lda), Int32(rows), b, Int64(ldb), Int32(depth), c, Int64(ldc),
                          Int32(columns.lowerBound), Int32(columns.upperBound), accumulating ? 1 : 0)
    }

    /// The same for columns `0..<columns`, split across the pool in strips of 32 (the kernel's
    /// register width), so every output is computed by one participant in one order: the result
    /// does not depend on the thread count.
    public static func multiply(_ a: UnsafePointer<Float>, lda: Int, rows: Int, by b: UnsafePointer<Float>, ldb: Int,
                                depth: Int, columns: Int, into c: UnsafeMutablePointer<Float>, ldc: Int,
                                accumulating: Bool = false, pool: ThreadPool) {
        let strips = (columns + 31) / 32
        pool.parallelFor(strips) { range in
            multiply(a, lda: lda, rows: rows, by: b, ldb: ldb, depth: depth,
                     columns: (range.lowerBound * 32)..<min(columns, range.upperBound * 32), into: c, ldc: ldc,
                     accumulating: accumulating)
        }
    }

    /// t[j * ldt + i] = x[i * ldx + j] for i < rows, j < cols, 16 rows at a time so each
    /// destination row is written in whole cache lines.
    public static func transpose(_ x: UnsafePointer<Float>, ldx: Int, rows: Int, cols: Int,
                                 into t: UnsafeMutablePointer<Float>, ldt: Int) {
        for i0 in stride(from: 0, to: rows, by: 16) {
            let block = min(16, rows - i0)
            for j in 0..<cols {
                let column = t + j * ldt + i0, source = x + i0 * ldx + j
                for i in 0..<block { column[i] = source[i * ldx] }
            }
        }
    }
}
