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
    /// be brought into L2 while other work runs, without waiting for them.
    ///
    /// A decode step streams the weights through the caches between one layer's attention and the
    /// next, so the cache comes from memory in short strided runs whose loads wait on it; asked for
    /// before the layer's q/k/v products, it arrives while they run. One-thread SmolLM2 2-bit decode
    /// (`elutq bench --threads 1 --profile`, interleaved runs): attention 0.31–0.36 → 0.18–0.22 ms
    /// a step at tg128, 2.2–3.2 → 1.3–1.8 at tg1024 and 5.5–6.4 → 3.0–3.4 at tg2000, where a
    /// layer's cache outgrows L2 (capped at a quarter of L2, it gained less there). Only for a
    /// thread that then reads it all: each core has its own L2.
    public static func prefetch(keys: UnsafePointer<Float>, values: UnsafePointer<Float>, positions: Int, kvSize: Int) {
        let bytes = Int64(positions * kvSize * MemoryLayout<Float>.size)
        elutq_prefetch_l2(keys, bytes)
        elutq_prefetch_l2(values, bytes)
    }
}
