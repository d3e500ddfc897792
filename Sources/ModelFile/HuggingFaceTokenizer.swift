/// Turns a checkpoint's tokenizer files into the `TokenizerSpec` that llama.cpp's converter
/// would have written into a GGUF, so the runtime sees the same vocabulary from either source.
struct HuggingFaceTokenizer {
    var file: HuggingFaceTokenizerFile
    /// `tokenizer_config.json`, if the checkpoint has one.
    var tokenizerConfig: HuggingFaceTokenizerConfig?
    /// The template from `tokenizer_config.json`, or from `chat_template.jinja`, where
    /// `transformers` 4.50 and later save it instead.
    var chatTemplate: String?

    /// GPT-2's regex is what `ByteLevel(use_regex: true)` splits with; these are the Split
    /// patterns of Qwen2 and Llama 3, which run before a `ByteLevel` without its own regex.
    static let qwen2Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let llama3Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    /// The most tokens a checkpoint's vocabulary may have: 2 Mi, eight times the largest real
    /// ones (Gemma 3's 262 144).
    static let maxVocabularySize = 1 << 21

    /// The spec for a model whose `config.json` is `config`.
    func spec(config: HuggingFaceConfig) throws(ModelSourceError) -> TokenizerSpec {
        guard file.model.type ?? "BPE" == "BPE" else {
            throw .invalid("tokenizer.json: model type '\(file.model.type ?? "")' is not supported; only byte-level BPE is")
        }
        let (tokens, types) = try vocabulary(size: config.vocabularySize)
        let bosID = try tokenID(tokenizerConfig?.bosToken, fallback: config.bosTokenID, in: tokens)
        let eosID = try tokenID(tokenizerConfig?.eosToken, fallback: config.eosTokenID, in: tokens)
        let addBOS = tokenizerConfig?.addBOSToken
            ?? bosID.map { file.postProcessor?.prepends(tokens[Int($0)]) ?? false } ?? false
        return TokenizerSpec(
            tokens: tokens, merges: file.model.merges?.map(\.line) ?? [], tokenTypes: types,
            preTokenizer: try preTokenizerKind(), bosID: bosID, eosID: eosID, addBOS: addBOS,
            chatTemplate: chatTemplate)
    }

    /// Every token in id order with its GGUF type, as llama.cpp's converter lays them out: the
    /// vocabulary's byte-mapped texts are normal tokens (1); added tokens keep their literal text
    /// and are control tokens (3) if special, else user-defined (4); ids up to the model's
    /// vocabulary size that no token has are padding, `[PAD<id>]`, unused (5).
    func vocabulary(size: Int) throws(ModelSourceError) -> (tokens: [String], types: [Int32]) {
        // The size sets the length of the token list, so an absurd one must not reach the allocation.
        guard (0...Self.maxVocabularySize).contains(size) else {
            throw .invalid("config.json: vocab_size \(size) is not a vocabulary size (0 to \(Self.maxVocabularySize))")
        }
        let added = file.addedTokens ?? []
        let largestID = max(file.model.vocab.values.max() ?? -1, added.map(\.id).max() ?? -1)
        // Ids index an array, so a corrupt id must not be allowed to size it; real files leave
        // gaps only below the model's vocabulary size.
        guard largestID < size + file.model.vocab.count + added.count else {
            throw .invalid("tokenizer.json: token id \(largestID) is far past the \(size) tokens of the vocabulary")
        }
        let count = max(size, largestID + 1)
        var tokens = [String?](repeating: nil, count: count)
        var types = [Int32](repeating: 5, count: count)
        for (text, id) in file.model.vocab {
            guard id >= 0 else { throw .invalid("tokenizer.json: token '\(text)' has negative id \(id)") }
            if let other = tokens[id] {
                throw .invalid("tokenizer.json: tokens '\(other)' and '\(text)' have the same id \(id)")
            }
            tokens[id] = text
            types[id] = 1
        }
        for token in added {
            guard token.id >= 0 else { throw .invalid("tokenizer.json: added token '\(token.content)' has negative id \(token.id)") }
            tokens[token.id] = token.content
            types[token.id] = token.special ? 3 : 4
        }
        return (tokens.enumerated().map { id, text in text ?? "[PAD\(id)]" }, types)
    }

    /// The pre-tokenizer kind the runtime knows by name, recognized from the steps of `pre_tokenizer`.
    ///
    /// An unrecognized pipeline is an error rather than a guess: tokenizing with the wrong rules
    /// would still produce ids, just not the ones the model was trained on.
    func preTokenizerKind() throws(ModelSourceError) -> String {
        let steps = file.preTokenizer?.steps ?? []
        if let last = steps.last, last.type == "ByteLevel" {
            let byteLevelSplits = last.useRegex ?? true
            let before = steps.dropLast()
            if before.isEmpty && byteLevelSplits {
                return "gpt2"
            }
            if before.count == 1, let first = before.first {
                if byteLevelSplits && first.type == "Digits" && first.individualDigits == true {
                    return "smollm"
                }
                if !byteLevelSplits && first.type == "Split" {
                    switch first.pattern?.regex {
                    case Self.qwen2Pattern: return "qwen2"
                    case Self.llama3Pattern: return "llama3"
                    default: break
                    }
                }
            }
        }
        let described = steps.map { step in step.pattern?.regex.map { "\(step.type)(\($0))" } ?? step.type }
        throw .invalid("tokenizer.json: pre-tokenizer [\(described.joined(separator: ", "))] is not one elutq supports "
                       + "(ByteLevel as in GPT-2, SmolLM's Digits + ByteLevel, or the Qwen2 or Llama 3 Split + ByteLevel)")
    }

    /// The id of a special token named in `tokenizer_config.json`, else `config.json`'s id.
    private func tokenID(
        _ named: HuggingFaceTokenizerConfig.TokenText?, fallback: HuggingFaceTokenID?, in tokens: [String]
    ) throws(ModelSourceError) -> Int32? {
        if let text = named?.text {
            guard let id = tokens.firstIndex(of: text) else {
                throw .invalid("tokenizer_config.json names special token '\(text)', which is not in the vocabulary")
            }
            return Int32(id)
        }
        guard let id = fallback?.id else { return nil }
        guard tokens.indices.contains(id) else {
            throw .invalid("config.json: special token id \(id) is outside the vocabulary of \(tokens.count) tokens")
        }
        return Int32(id)
    }
}
