import ModelFile

extension QuantizationRecipe {
    /// How the output head is stored when the recipe does not say: a tied head stays the q8
    /// embedding table (nil: no tensor of its own), an untied one becomes 4-bit HLQ in groups of 64.
    ///
    /// A decode step reads the whole head, so its bytes weigh as much as a block's: Qwen2.5-Coder-1.5B's
    /// q8 head is 233 of the 623 MB a 2-bit step reads, and at 4 bits its 2-bit decode is about 1.3×
    /// faster, for +0.8–0.9% of perplexity on the 4-bit model (README, "On AVX-512 again"). A tied
    /// head cannot drop its q8 table, which the embedding lookups read, so a 4-bit copy would add
    /// bytes to the file; on SmolLM2 it also cost 17% of perplexity. `--recipe output=q8` keeps a
    /// q8 head for any model.
    public static func defaultOutput(for config: ModelConfig) -> HLQTensorType? {
        config.tiedEmbeddings ? nil : .hlq(bits: 4, groupSize: 64)
    }
}
