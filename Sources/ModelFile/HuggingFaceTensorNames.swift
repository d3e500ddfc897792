/// Hugging Face's names for the tensors of a llama or qwen2 checkpoint, and their GGUF names.
enum HuggingFaceTensorNames {
    private static let global = [
        "model.embed_tokens.weight": "token_embd.weight",
        "model.norm.weight": "output_norm.weight",
        "lm_head.weight": "output.weight",
    ]

    /// The modules of `model.layers.N`, by their GGUF names within `blk.N`.
    private static let layer = [
        "self_attn.q_proj": "attn_q",
        "self_attn.k_proj": "attn_k",
        "self_attn.v_proj": "attn_v",
        "self_attn.o_proj": "attn_output",
        "mlp.gate_proj": "ffn_gate",
        "mlp.up_proj": "ffn_up",
        "mlp.down_proj": "ffn_down",
        "input_layernorm": "attn_norm",
        "post_attention_layernorm": "ffn_norm",
    ]

    /// The GGUF name of `name` (`model.layers.3.mlp.up_proj.weight` is `blk.3.ffn_up.weight`),
    /// or nil if the tensor is not one the runtime knows.
    static func ggufName(of name: String) -> String? {
        if let known = global[name] { return known }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 5, parts[0] == "model", parts[1] == "layers",
              let index = Int(parts[2]), index >= 0, String(index) == parts[2],
              let kind = parts.last, kind == "weight" || kind == "bias",
              let module = layer[parts[3..<(parts.count - 1)].joined(separator: ".")]
        else { return nil }
        return "blk.\(index).\(module).\(kind)"
    }

    /// Buffers that some checkpoints save but that hold no weights: RoPE's inverse frequencies,
    /// which the runtime computes from the config.
    static func isIgnored(_ name: String) -> Bool {
        name.hasSuffix(".rotary_emb.inv_freq")
    }
}
