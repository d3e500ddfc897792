/// The linear layers of a transformer block, named as GGUF names them.
///
/// Quantization recipes choose precision per kind, and reports group matrices by it.
public enum LinearLayer: String, CaseIterable, Codable, Sendable {
    case query = "attn_q"
    case key = "attn_k"
    case value = "attn_v"
    case attentionOutput = "attn_output"
    case gate = "ffn_gate"
    case up = "ffn_up"
    case down = "ffn_down"
    /// The output head (`output.weight`), when it is not tied to the embeddings.
    case outputHead = "output"

    /// The layer a GGUF tensor name such as `blk.3.attn_q.weight` or `output.weight` refers to.
    public init?(tensorName: String) {
        let parts = tensorName.split(separator: ".")
        if parts == ["output", "weight"] {
            self = .outputHead
        } else if parts.count == 4, parts[0] == "blk", Int(parts[1]) != nil, parts[3] == "weight",
                  let layer = LinearLayer(rawValue: String(parts[2])), layer != .outputHead {
            self = layer
        } else {
            return nil
        }
    }

    /// Attention projections, as opposed to the feed-forward ones.
    public var isAttention: Bool { [.query, .key, .value, .attentionOutput].contains(self) }
}
