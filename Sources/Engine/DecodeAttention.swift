import CLUTKernels

/// Attention of one new token's query heads over the cached keys and values (`elutq_attend`).
public enum DecodeAttention {
    /// For the `heads` query heads at `queries + h * headSize` that share the key/value head whose
    /// position j sits at `keys + j * kvStride` (and `values + j * kvStride`):
    /// out_h = softmax(scale · q_h · k_j over j < visible) · V, stored at `out + h * headSize`.
    /// `scratch` holds heads × visible floats.
    public static func attend(queries: UnsafePointer<Float>, heads: Int, headSize: Int,
                              keys: UnsafePointer<Float>, values: UnsafePointer<Float>, kvStride: Int,
                              visible: Int, scale: Float, scratch: UnsafeMutablePointer<Float>,
                              into out: UnsafeMutablePointer<Float>) {
        elutq_attend(queries, Int64(headSize), Int32(heads), Int32(headSize), keys, values, Int64(kvStride),
                     Int32(visible), scale, scratch, out, Int64(headSize))
    }
}
