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

    /// Asks for the first `positions` cached keys and values of a layer (`kvSize` floats each) to
    /// be brought into L2 while other work runs (`elutq_prefetch_l2`).
    ///
    /// A decode step streams the weights through the caches between one layer's attention and the
    /// next, so the cache comes from memory in short strided runs, one per key/value head, and
    /// attention's loads wait on them. Asked for before the layer's q/k/v products, the cache
    /// arrives while they run; where a layer's cache outgrows L2, what L2 evicts goes to L3 (a
    /// victim cache on these AMD cores), still closer than memory. See the README ("one thread
    /// asks for a layer's whole cache early") for what it saves, and why only one thread does it.
    public static func prefetch(keys: UnsafePointer<Float>, values: UnsafePointer<Float>, positions: Int, kvSize: Int) {
        let bytes = Int64(positions * kvSize * MemoryLayout<Float>.size)
        elutq_prefetch_l2(keys, bytes)
        elutq_prefetch_l2(values, bytes)
    }
}
