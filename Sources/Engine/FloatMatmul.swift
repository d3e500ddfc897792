import CLUTKernels

/// Products of a float32 matrix with float vectors on the dense C kernel, for operands that are
/// activations rather than stored weights: attention's scores (Q Kᵀ) for a batch of queries.
/// Weights go through `LinearWeight`, which picks the kernel for their precision.
public enum FloatMatmul {
    /// y[v * ldy + r] = Σ_k w[r * cols + k] · x[v * ldx + k] for the rows `rows` of `w` and the
    /// `count` vectors of `x`, on the calling thread.
    public static func multiply(_ w: UnsafePointer<Float>, cols: Int, _ x: UnsafePointer<Float>, ldx: Int, count: Int,
                                into y: UnsafeMutablePointer<Float>, ldy: Int, rows: Range<Int>) {
        elutq_f32_gemm(w, Int32(cols), x, Int64(ldx), Int32(count), y, Int64(ldy), Int32(rows.lowerBound), Int32(rows.upperBound))
    }
}
