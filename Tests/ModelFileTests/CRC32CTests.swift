import ModelFile
import Testing
import TestSupport

/// The table-driven checksum against published vectors and a bit-by-bit reference.
@Suite struct CRC32CTests {
    /// Bit by bit, straight from the definition: the reference the table-driven code must match.
    private func reference(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        var crc = ~seed
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    /// The check value of the CRC catalogue, and the iSCSI vectors of RFC 3720, appendix B.4.
    @Test func knownVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map(UInt8.init)) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).reversed().map(UInt8.init)) == 0x113F_DB5C)
    }

    @Test func matchesTheBitwiseReference() {
        var random = SeededRandom(seed: 7)
        let data = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &random) }
        data.withUnsafeBytes { all in
            // Every length up to 70 and every start within a word: all head and tail cases of the 8-byte loop.
            for start in 0..<8 {
                for length in 0..<70 {
                    let slice = UnsafeRawBufferPointer(rebasing: all[start..<start + length])
                    #expect(CRC32C.checksum(slice) == reference(Array(slice)), "start \(start), length \(length)")
                }
            }
            #expect(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: all[3...])) == reference(Array(data[3...])))
        }
    }

    @Test func seedContinuesAChecksum() {
        var random = SeededRandom(seed: 8)
        let data = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &random) }
        for split in [0, 1, 7, 8, 9, 500, 1000] {
            let first = CRC32C.checksum(data[..<split])
            #expect(CRC32C.checksum(data[split...], seed: first) == CRC32C.checksum(data), "split at \(split)")
            #expect(CRC32C.checksum(data[split...], seed: first) == reference(Array(data[split...]), seed: first))
        }
    }
}
