import ModelFile

extension QuantizationRecipe {
    /// The recipe `quantize` starts from for `config`: the precisions given, and the defaults for
    /// the embeddings (q8) and the head (`defaultOutput`) where none is given.
    public init(for config: ModelConfig, method: Method, bits: Int, groupSize: Int, overrides: [String: HLQTensorType] = [:],
                embedding: HLQTensorType? = nil, output: HLQTensorType? = nil) {
        self.init(method: method, bits: bits, groupSize: groupSize, overrides: overrides, embedding: embedding ?? .q8,
                  output: output ?? Self.defaultOutput(for: config), averageBitsPerWeight: 0)
    }

    /// How the output head is stored when the recipe does not say: a tied head stays the q8
    /// embedding table (nil: no tensor of its own), an untied one becomes 4 bit planes in groups
    /// of 64, fitted by the recipe's method (HLQ unless `--method uniform`).
    ///
    /// A decode step reads the whole head, so its bytes weigh as much as a block's: Qwen2.5-Coder-1.5B's
    /// q8 head is 233 of the 622.9 MB a 2-bit step reads, 542.1 MB with this head, for +0.8–0.9%
    /// of perplexity on the 4-bit model (README, "On AVX-512 again"). A tied head cannot drop its
    /// q8 table, which the embedding lookups read, so a 4-bit copy would add bytes to the file; on
    /// SmolLM2 it also cost 17% of perplexity at g128 and 8% at g32. `--recipe output=q8` keeps a
    /// q8 head for any model.
    public static func defaultOutput(for config: ModelConfig) -> HLQTensorType? {
        config.tiedEmbeddings ? nil : .hlq(bits: 4, groupSize: 64)
    }
}
