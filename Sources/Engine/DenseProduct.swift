import CLUTKernels
import Parallel

/// Float32 matrix products c = a·bᵀ on the dense kernel, for the training passes.
///
/// Every product a forward or backward pass needs is written in this one form (rows of `a` against
/// rows of `b`), with explicit transposes where an operand comes the other way round: the kernel
/// reads both operands along contiguous rows, which is what makes it fast.
public enum DenseProduct {
    /// c[i * ldc + j] = Σ_k a[i * lda + k] · b[j * depth + k] for i < rows and j in `columns`
    /// (rows of `b`), on the calling thread: for products inside a parallel region.
    public static func multiply(_ a: UnsafePointer<Float>, lda: Int, rows: Int,
                                byRowsOf b: UnsafePointer<Float>, columns: Range<Int>, depth: Int,
                                into c: UnsafeMutablePointer<Float>, ldc: Int) {
        if rows == 0 || columns.isEmpty { return }
        elutq_f32_gemm(b, Int32(depth), a, Int64(lda), Int32(rows), c, Int64(ldc),
                       Int32(columns.lowerBound), Int32(columns.upperBound))
    }

    /// The same for all `columns` rows of `b`, split across the pool in quads of rows (the
    /// kernel's register block), so every output is computed by one participant, in one order:
    /// the result does not depend on the thread count.
    public static func multiply(_ a: UnsafePointer<Float>, lda: Int, rows: Int,
                                byRowsOf b: UnsafePointer<Float>, columns: Int, depth: Int,
                                into c: UnsafeMutablePointer<Float>, ldc: Int, pool: ThreadPool) {
        let quads = (columns + 3) / 4
        pool.parallelFor(quads) { range in
            multiply(a, lda: lda, rows: rows, byRowsOf: b,
                     columns: (range.lowerBound * 4)..<min(columns, range.upperBound * 4), depth: depth,
                     into: c, ldc: ldc)
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
