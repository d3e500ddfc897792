/// The fixed binary encoding that signatures cover: a domain line, then fields in a fixed order,
/// strings as a 4-byte little-endian length and their UTF-8, integers as 8-byte little-endian.
///
/// Signatures never cover JSON: it can be re-serialised (key order, number spelling, escapes)
/// without changing its meaning, so signing it would make a valid message fail or a forged one
/// pass depending on who re-encoded it. The domain line keeps a signature over one kind of
/// message from ever being passed off as one over another kind signed by the same key.
struct CanonicalBytes {
    private(set) var bytes: [UInt8]

    init(domain: String) { bytes = Array(domain.utf8) }

    mutating func append(_ text: String) {
        append(text.utf8.count, width: 4)
        bytes += Array(text.utf8)
    }

    mutating func append(_ value: Int, width: Int = 8) {
        for shift in stride(from: 0, to: width * 8, by: 8) {
            bytes.append(UInt8(truncatingIfNeeded: UInt64(bitPattern: Int64(value)) >> UInt64(shift)))
        }
    }
}
