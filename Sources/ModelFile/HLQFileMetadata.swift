import Foundation

/// Everything in a `.hlq` file besides the weights: the model, its tokenizer, and how and from what it was made.
public struct HLQFileMetadata: Codable, Sendable, Equatable {
    public var config: ModelConfig
    public var tokenizer: TokenizerSpec
    public var recipe: QuantizationRecipe
    /// SHA-256 of the source model file, as 64 lowercase hex digits: which weights these were made from.
    public var sourceSHA256: String
    /// The tool that wrote the file and its version, such as "elutq 0.1.0".
    public var creator: String
    /// When the file was written; stored as ISO 8601 text, so to the second.
    public var created: Date

    public init(config: ModelConfig, tokenizer: TokenizerSpec, recipe: QuantizationRecipe,
                sourceSHA256: String, creator: String, created: Date) {
        self.config = config
        self.tokenizer = tokenizer
        self.recipe = recipe
        self.sourceSHA256 = sourceSHA256
        self.creator = creator
        self.created = created
    }
}
