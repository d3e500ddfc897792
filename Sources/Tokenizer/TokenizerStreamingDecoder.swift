/// Streams text while never splitting a UTF-8 character across chunks.
///
/// Byte-level tokens often carry only part of a character (an emoji can take four tokens), so
/// decoding each token on its own would print replacement characters. This decoder holds back
/// a trailing incomplete character until the tokens that finish it arrive. Holding back is
/// always safe; it only ever emits bytes that end on a character boundary, so the chunks
/// concatenate to exactly what `Tokenizer.decode` gives for all ids at once.
public struct StreamingDecoder: Sendable {
    private let tokenizer: Tokenizer
    private var pending: [UInt8] = []

    public init(tokenizer: Tokenizer) {
        self.tokenizer = tokenizer
    }

    /// Adds one token and returns the text that is now complete, possibly "".
    public mutating func push(_ id: Int32) -> String {
        pending.append(contentsOf: tokenizer.tokenBytes(id))
        let ready = pending.count - Self.incompleteSuffixLength(of: pending)
        let text = String(decoding: pending[..<ready], as: UTF8.self)
        pending.removeFirst(ready)
        return text
    }

    /// Returns whatever is still held back, with U+FFFD for a character the stream never finished.
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// How many trailing bytes form the start of a multi-byte character still missing bytes.
    ///
    /// Looks back past at most three continuation bytes (10xxxxxx) for a lead byte; if the lead
    /// announces more bytes than follow it, those bytes wait. Anything else (ASCII, a complete
    /// character, stray continuation bytes) can be emitted, as a decoder reading the whole
    /// stream would treat it the same way.
    private static func incompleteSuffixLength(of bytes: [UInt8]) -> Int {
        var start = bytes.count
        while start > 0 && bytes.count - start < 3 && bytes[start - 1] & 0xC0 == 0x80 {
            start -= 1
        }
        guard start > 0 else { return 0 }
        let lead = bytes[start - 1]
        let needed = switch lead {
        case 0xC0...0xDF: 2
        case 0xE0...0xEF: 3
        case 0xF0...0xF7: 4
        default: 0
        }
        let present = bytes.count - (start - 1)
        return present < needed ? present : 0
    }
}
