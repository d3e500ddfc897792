/// The row order llama.cpp's converter gives a llama checkpoint's q and k projections, so that
/// RoPE can rotate interleaved pairs.
///
/// Hugging Face's llama rotates dimension i of each head together with dimension i + d/2
/// (`rotate_half`), while GGUF's llama rotates 2i with 2i + 1. llama.cpp's `convert_hf_to_gguf.py`
/// reconciles them by reordering the rows (output features) of q and k within each head: viewed
/// as `[heads, 2, d/2, cols]`, the two middle axes swap, so GGUF row `h·d + 2i + j` is Hugging
/// Face row `h·d + j·d/2 + i`. A bias, one value per row, moves the same way. q is permuted by
/// the number of attention heads, k by the number of key-value heads.
///
/// Importing with this order makes a safetensors llama identical to its GGUF conversion, so the
/// runtime has one convention (`RopeStyle.interleaved`) for llama whatever the source. qwen2 is
/// converted without a permutation and uses `RopeStyle.neox` instead.
public struct HuggingFaceRopePermutation: Sendable, Equatable {
    /// The heads the rows divide into.
    public let heads: Int
    /// Rows of the whole projection: heads × head size.
    public let rows: Int

    /// The permutation of `rows` rows in `heads` heads; each head must have an even number of rows.
    public init(heads: Int, rows: Int) throws(ModelSourceError) {
        guard heads > 0, rows >= 0, rows % (2 * heads) == 0 else {
            throw .invalid("\(rows) rows cannot be split into \(heads) heads of an even size for the RoPE permutation")
        }
        self.heads = heads
        self.rows = rows
    }

    /// The Hugging Face row that GGUF row `row` holds.
    public func sourceRow(of row: Int) -> Int {
        let headSize = rows / heads
        let headStart = row - row % headSize, withinHead = row % headSize
        return headStart + (withinHead % 2) * (headSize / 2) + withinHead / 2
    }
}
