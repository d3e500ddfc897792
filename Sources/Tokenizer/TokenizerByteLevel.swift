/// GPT-2's reversible mapping between the 256 byte values and printable characters.
///
/// Byte-level BPE vocabularies store every token as text, yet a token may hold any byte:
/// a space, a control byte, or half of a multi-byte UTF-8 character. GPT-2 made such tokens
/// storable by giving each byte a visible stand-in: printable Latin-1 bytes stand for
/// themselves, and the remaining 68 (controls, space, DEL, NBSP, soft hyphen) are moved to
/// U+0100 and up, in byte order. That is why a leading space shows up as "Ġ" (U+0120) in
/// GGUF token lists.
enum ByteLevel {
    /// The stand-in character for each byte value.
    static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var nextShifted: UInt32 = 256
        for byte in 0..<256 {
            if standsForItself(UInt8(byte)) {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                table[byte] = Unicode.Scalar(nextShifted)!
                nextShifted += 1
            }
        }
        return table
    }()

    /// The byte behind each stand-in, indexed by scalar value (all stand-ins are below U+0144).
    private static let byteForScalarValue: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in scalarForByte.enumerated() {
            table[Int(scalar.value)] = Int16(byte)
        }
        return table
    }()

    /// The byte a stand-in character encodes, or nil for characters outside the mapping.
    private static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = Int(scalar.value)
        guard value < byteForScalarValue.count, byteForScalarValue[value] >= 0 else { return nil }
        return UInt8(byteForScalarValue[value])
    }

    /// The raw bytes of a vocabulary entry written in stand-in characters.
    ///
    /// A character outside the mapping cannot come from GPT-2's scheme, so it is kept as its
    /// own UTF-8 rather than dropped: a malformed vocabulary then still decodes to readable text.
    static func bytes(ofTokenText text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if let byte = byte(for: scalar) {
                bytes.append(byte)
            } else {
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
        return bytes
    }

    /// The vocabulary spelling of raw bytes, i.e. the inverse of `bytes(ofTokenText:)`.
    static func tokenText(of bytes: some Sequence<UInt8>) -> String {
        var text = String.UnicodeScalarView()
        for byte in bytes {
            text.append(scalarForByte[Int(byte)])
        }
        return String(text)
    }

    private static func standsForItself(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }
}
