@testable import Tokenizer

/// The tokenizer on arbitrary bytes. The first byte picks the pre-tokenizer and whether control
/// tokens are parsed; the rest, as text (invalid UTF-8 becomes U+FFFD, as it does in a prompt),
/// must encode to ids that decode to exactly that text, and, streamed token by token, to the
/// same text again. The rest read as token ids (any, valid or not) must stream to what
/// `decode` gives for them all at once, as `StreamingDecoder` promises.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let tokenizer = tokenizers[Int(bytes[0] & 3)]
    let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
    let ids = tokenizer.encode(text, parseSpecial: bytes[0] & 4 != 0)
    precondition(tokenizer.decode(ids) == text, "encoding does not decode to the text")
    precondition(streamed(ids, tokenizer) == text, "streaming does not decode to the text")

    let anyIDs = stride(from: 1, to: size - 3, by: 4).map { offset in
        Int32(bitPattern: UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24)
    }
    precondition(streamed(anyIDs, tokenizer) == tokenizer.decode(anyIDs), "streaming differs from decoding at once")
    return 0
}

/// The text a `StreamingDecoder` releases for `ids`, flushed at the end.
func streamed(_ ids: [Int32], _ tokenizer: Tokenizer) -> String {
    var decoder = StreamingDecoder(tokenizer: tokenizer)
    return ids.map { decoder.push($0) }.joined() + decoder.flush()
}

/// A small byte-level vocabulary under each pre-tokenizer: all 256 bytes, merges that build a
/// few English words with and without a leading space, control tokens and one user-defined
/// token (matched whether or not control tokens are parsed).
let tokenizers: [Tokenizer] = [Tokenizer.PreTokenizer.gpt2, .smollm, .qwen2, .llama3].map { kind in
    let bytes = (0...255).map { ByteLevel.tokenText(of: [UInt8($0)]) }
    var merges: [String] = []
    var words: [String] = []
    for word in ["the", "Ġthe", "Ġand", "ing", "Ġ123", "ĠĠ"] {
        var built = String(word.first!)
        for character in word.dropFirst() {
            merges.append("\(built) \(character)")
            built.append(character)
            words.append(built)
        }
    }
    let special = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<tool>"]
    let tokens = bytes + words + special
    let types = [Int32](repeating: 1, count: bytes.count + words.count) + [3, 3, 3, 4]
    return try! Tokenizer(tokens: tokens, merges: merges, tokenTypes: types, preTokenizer: kind,
                          bosID: Int32(tokens.count - 2), eosID: Int32(tokens.count - 3), addBOS: false)
}
