/// CRC-32C (Castagnoli), the checksum of `.hlq` files and of network transfer blocks.
///
/// Castagnoli's polynomial detects more error patterns than zlib's CRC-32 at the same cost, and
/// it is what iSCSI, ext4 and SSE4.2's `crc32` instruction use, so other tools can check our
/// files with a stock library. This is the plain software form: reflected, initial value and
/// final XOR all ones, so `checksum("123456789") == 0xE306_9283`.
///
/// Bytes are consumed eight at a time through eight 256-entry tables ("slicing-by-8"): one
/// table lookup per byte, but the eight lookups of a word are independent, so the CPU overlaps
/// them instead of waiting on each one as the byte-at-a-time loop must.
public enum CRC32C {
    /// The checksum of `bytes`, continuing from `seed`, the checksum of whatever came before.
    ///
    /// So `checksum(b, seed: checksum(a))` is the checksum of `a` followed by `b`, which lets a
    /// writer checksum a tensor part by part as it streams it out.
    public static func checksum(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        guard var p = bytes.baseAddress else { return seed }
        var remaining = bytes.count
        var crc = ~seed
        tables.withUnsafeBufferPointer { t in
            while remaining >= 8 {
                // A little-endian word holds the next byte in its low bits, as the reflected CRC wants.
                let word = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)) ^ UInt64(crc)
                crc = t[7 * 256 + Int(word & 0xFF)]
                    ^ t[6 * 256 + Int((word >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((word >> 16) & 0xFF)]
                    ^ t[4 * 256 + Int((word >> 24) & 0xFF)]
                    ^ t[3 * 256 + Int((word >> 32) & 0xFF)]
                    ^ t[2 * 256 + Int((word >> 40) & 0xFF)]
                    ^ t[1 * 256 + Int((word >> 48) & 0xFF)]
                    ^ t[Int(word >> 56)]
                p += 8
                remaining -= 8
            }
            while remaining > 0 {
                crc = t[Int((crc ^ UInt32(p.load(as: UInt8.self))) & 0xFF)] ^ (crc >> 8)
                p += 1
                remaining -= 1
            }
        }
        return ~crc
    }

    /// The checksum of a byte collection, for small inputs such as JSON text.
    public static func checksum(_ bytes: some Collection<UInt8>, seed: UInt32 = 0) -> UInt32 {
        if let crc = bytes.withContiguousStorageIfAvailable({ checksum(UnsafeRawBufferPointer($0), seed: seed) }) {
            return crc
        }
        return Array(bytes).withUnsafeBytes { checksum($0, seed: seed) }
    }

    /// Castagnoli's polynomial 0x1EDC6F41 with its bits reversed, for the reflected (LSB-first) form.
    private static let polynomial: UInt32 = 0x82F6_3B78

    /// `tables[k * 256 + b]` is the CRC of byte `b` followed by `k` zero bytes.
    ///
    /// Table 0 is the classic byte-at-a-time table; table k advances table k-1 by one more zero
    /// byte, which is how a byte eight positions from the end of a word is folded in one lookup.
    private static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ polynomial : crc >> 1 }
            tables[byte] = crc
        }
        for k in 1..<8 {
            for byte in 0..<256 {
                let previous = tables[(k - 1) * 256 + byte]
                tables[k * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()
}
