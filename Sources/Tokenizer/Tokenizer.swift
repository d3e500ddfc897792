/// Byte-level BPE tokenizer for GGUF vocabularies with `tokenizer.ggml.model = gpt2`.
///
/// Encoding runs in three stages, each matching llama.cpp: special tokens are found first and
/// kept whole; the text between them is cut into words by the model family's `PreTokenizer`;
/// each word's UTF-8 bytes are then merged by the vocabulary's BPE rules. Decoding goes back to
/// bytes, not strings, because a single character may be spread over several tokens.
public struct Tokenizer: Sendable {
    public let preTokenizer: PreTokenizer
    /// The token that starts a sequence.
    public let bosID: Int32?
    /// The token a model emits when it is done; generation stops on it.
    public let eosID: Int32?
    /// Whether `encode` starts its output with `bosID` (GGUF `tokenizer.ggml.add_bos_token`).
    public let addBOS: Bool

    private let types: [TokenType]
    private let bytesOfToken: [[UInt8]]
    private let idByText: [String: Int32]
    private let mergeTable: MergeTable
    private let specialTokens: SpecialTokenMatcher

    /// Builds the tokenizer from GGUF metadata: `tokenizer.ggml.tokens`, `.merges`,
    /// `.token_type`, `.pre`, `.bos_token_id`, `.eos_token_id` and `.add_bos_token`.
    public init(tokens: [String], merges: [String], tokenTypes: [Int32], preTokenizer: PreTokenizer,
                bosID: Int32?, eosID: Int32?, addBOS: Bool) throws(TokenizerError) {
        guard tokens.count == tokenTypes.count else {
            throw .tokenTypeCountMismatch(tokens: tokens.count, tokenTypes: tokenTypes.count)
        }
        for (name, id) in [("BOS", bosID), ("EOS", eosID)] {
            if let id, !tokens.indices.contains(Int(id)) {
                throw .specialTokenOutOfRange(name: name, id: id)
            }
        }
        if addBOS && bosID == nil {
            throw .missingBOS
        }
        self.preTokenizer = preTokenizer
        self.bosID = bosID
        self.eosID = eosID
        self.addBOS = addBOS
        types = tokenTypes.map { TokenType(rawValue: $0) ?? .undefined }
        bytesOfToken = zip(tokens, types).map { text, type in
            switch type {
            case .normal: ByteLevel.bytes(ofTokenText: text)
            case .unknown, .control, .userDefined: Array(text.utf8)
            case .undefined, .unused, .byte: []
            }
        }
        // A text listed twice resolves to its last id, as in llama.cpp.
        idByText = Dictionary(zip(tokens, tokens.indices.lazy.map(Int32.init)), uniquingKeysWith: { $1 })
        mergeTable = try MergeTable(mergeLines: merges, idByText: idByText)
        specialTokens = SpecialTokenMatcher(tokens: tokens, types: types)
    }

    public var vocabularySize: Int { bytesOfToken.count }

    /// The ids for `text`, preceded by `bosID` when `addBOS` is set.
    ///
    /// With `parseSpecial`, control tokens (type 3) written in the text, such as `<|im_start|>`,
    /// become their single id; without it they are tokenized as ordinary text, which is what
    /// untrusted input should get. User-defined tokens (type 4) are matched either way.
    public func encode(_ text: String, parseSpecial: Bool = true) -> [Int32] {
        let scanner = WordScanner(scalars: Array(text.unicodeScalars))
        var output: [Int32] = []
        output.reserveCapacity(scanner.scalars.count / 3)
        if addBOS, let bosID {
            output.append(bosID)
        }
        var words: [Range<Int>] = []
        var bytes: [UInt8] = []
        for segment in specialTokens.segments(of: scanner.scalars, matchingControl: parseSpecial) {
            switch segment {
            case .token(let id):
                output.append(id)
            case .text(let range):
                words.removeAll(keepingCapacity: true)
                preTokenizer.pieces(of: scanner, in: range, into: &words)
                for word in words {
                    bytes.removeAll(keepingCapacity: true)
                    for scalar in scanner.scalars[word] {
                        UTF8.encode(scalar) { bytes.append($0) }
                    }
                    encodeWord(bytes, into: &output)
                }
            }
        }
        return output
    }

    /// The raw bytes a token stands for: GPT-2's byte mapping undone for normal tokens, the
    /// literal text for control, user-defined and unknown tokens, nothing for an invalid id.
    public func tokenBytes(_ id: Int32) -> [UInt8] {
        bytesOfToken.indices.contains(Int(id)) ? bytesOfToken[Int(id)] : []
    }

    /// The text of `ids`; bytes that do not form valid UTF-8 become U+FFFD.
    public func decode(_ ids: [Int32]) -> String {
        String(decoding: ids.flatMap(tokenBytes), as: UTF8.self)
    }

    /// The id of the token spelled exactly `text` in the vocabulary, e.g. "<|im_end|>".
    public func tokenID(_ text: String) -> Int32? {
        idByText[text]
    }

    /// Llama 3 vocabularies (llama.cpp's `ignore_merges`) take a word that is itself a token
    /// as is, even where the merge order would have reached a different split.
    private func encodeWord(_ bytes: [UInt8], into output: inout [Int32]) {
        if preTokenizer == .llama3, let id = idByText[ByteLevel.tokenText(of: bytes)], types[Int(id)] == .normal {
            output.append(id)
            return
        }
        mergeTable.encode(bytes, into: &output)
    }
}

/// Why a vocabulary could not be turned into a `Tokenizer`.
public enum TokenizerError: Error, Equatable, Sendable {
    case tokenTypeCountMismatch(tokens: Int, tokenTypes: Int)
    case specialTokenOutOfRange(name: String, id: Int32)
    /// `addBOS` was requested without a BOS id to add.
    case missingBOS
    /// A merge line without the space that separates its two parts.
    case malformedMerge(String)
}

/// The kinds of vocabulary entry GGUF records in `tokenizer.ggml.token_type` (llama.cpp's values).
enum TokenType: Int32, Sendable {
    case undefined = 0, normal, unknown, control, userDefined, unused, byte
}
