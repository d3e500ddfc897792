import ModelFile

extension Tokenizer {
    /// The tokenizer a model file describes.
    public init(spec: TokenizerSpec) throws {
        guard let kind = PreTokenizer(rawValue: spec.preTokenizer) else {
            throw ModelSourceError.invalid("pre-tokenizer '\(spec.preTokenizer)' is not supported (gpt2, smollm, qwen2, llama3 are)")
        }
        try self.init(tokens: spec.tokens, merges: spec.merges, tokenTypes: spec.tokenTypes, preTokenizer: kind,
                      bosID: spec.bosID, eosID: spec.eosID, addBOS: spec.addBOS)
    }
}
