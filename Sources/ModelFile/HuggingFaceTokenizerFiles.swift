/// The parts of a `tokenizer.json` (the `tokenizers` library's format) that a byte-level BPE needs.
struct HuggingFaceTokenizerFile: Decodable {
    var model: Model
    /// Tokens added after training; their ids may lie past the model's vocabulary.
    var addedTokens: [AddedToken]?
    var preTokenizer: PreTokenizer?
    var postProcessor: PostProcessor?

    enum CodingKeys: String, CodingKey {
        case model
        case addedTokens = "added_tokens"
        case preTokenizer = "pre_tokenizer"
        case postProcessor = "post_processor"
    }

    struct Model: Decodable {
        /// `BPE` for the vocabularies elutq runs.
        var type: String?
        /// Token text (GPT-2's byte-to-character mapping of its bytes) to id.
        var vocab: [String: Int]
        var merges: [Merge]?
    }

    /// A merge rule, which `tokenizers` writes as `"a b"` before version 0.20 and as `["a", "b"]` since.
    struct Merge: Decodable {
        /// The rule as GGUF stores it: the two parts separated by a space.
        var line: String

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let line = try? container.decode(String.self) {
                self.line = line
                return
            }
            let parts = try container.decode([String].self)
            guard parts.count == 2 else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "a merge of \(parts.count) parts instead of 2")
            }
            line = parts.joined(separator: " ")
        }
    }

    struct AddedToken: Decodable {
        var id: Int
        /// The token's literal text, not byte-mapped like the vocabulary's.
        var content: String
        /// Special tokens (`<|im_end|>`) are control tokens; others are user-defined vocabulary.
        var special: Bool
    }

    /// One pre-tokenizer step, or a `Sequence` of them.
    struct PreTokenizer: Decodable {
        var type: String
        var pretokenizers: [PreTokenizer]?
        /// `Digits`: each digit is a word of its own.
        var individualDigits: Bool?
        /// `ByteLevel`: split with GPT-2's regex before mapping bytes (the default).
        var useRegex: Bool?
        /// `Split`: the pattern the text is cut with.
        var pattern: Pattern?

        enum CodingKeys: String, CodingKey {
            case type, pretokenizers, pattern
            case individualDigits = "individual_digits"
            case useRegex = "use_regex"
        }

        struct Pattern: Decodable {
            var regex: String?
            enum CodingKeys: String, CodingKey { case regex = "Regex" }
        }

        /// The steps in order, nested sequences flattened.
        var steps: [PreTokenizer] {
            type == "Sequence" ? (pretokenizers ?? []).flatMap(\.steps) : [self]
        }
    }

    /// What `tokenizers` adds around an encoded text; only a leading special token (BOS) matters here.
    struct PostProcessor: Decodable {
        var type: String
        /// `TemplateProcessing`: the template for a single text, such as `<|begin_of_text|> $A`.
        var single: [TemplatePiece]?
        /// `Sequence`: the processors it runs.
        var processors: [PostProcessor]?

        struct TemplatePiece: Decodable {
            var specialToken: SpecialToken?
            enum CodingKeys: String, CodingKey { case specialToken = "SpecialToken" }
            struct SpecialToken: Decodable { var id: String }
        }

        /// Whether every encoding starts with the special token `text`.
        func prepends(_ text: String) -> Bool {
            switch type {
            case "TemplateProcessing": single?.first?.specialToken?.id == text
            case "Sequence": processors?.contains { $0.prepends(text) } ?? false
            default: false
            }
        }
    }
}

/// The parts of a `tokenizer_config.json` (from `transformers`) that the runtime needs.
struct HuggingFaceTokenizerConfig: Decodable {
    var bosToken: TokenText?
    var eosToken: TokenText?
    var addBOSToken: Bool?
    var chatTemplate: ChatTemplate?

    enum CodingKeys: String, CodingKey {
        case bosToken = "bos_token"
        case eosToken = "eos_token"
        case addBOSToken = "add_bos_token"
        case chatTemplate = "chat_template"
    }

    /// A special token, written as its text or as an object whose `content` is the text.
    struct TokenText: Decodable {
        var text: String

        init(from decoder: any Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                self.text = text
            } else {
                text = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .content)
            }
        }

        enum CodingKeys: String, CodingKey { case content }
    }

    /// The chat template: one Jinja text, or a list of named ones of which `default` is the chat format.
    struct ChatTemplate: Decodable {
        var text: String?

        init(from decoder: any Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                self.text = text
            } else {
                text = try decoder.singleValueContainer().decode([Named].self).first { $0.name == "default" }?.template
            }
        }

        struct Named: Decodable {
            var name: String
            var template: String
        }
    }
}
