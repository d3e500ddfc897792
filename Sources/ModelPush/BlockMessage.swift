import ModelFile

/// One block of a pushed file as a binary MQTT payload: a 24-byte header, then the data.
///
///     0   4  magic "EQB1"
///     4   8  transfer: the first 8 bytes of the file's SHA-256
///     12  4  block index, u32 little-endian
///     16  4  data length, u32 little-endian
///     20  4  CRC-32C of the data, u32 little-endian
///     24     data
///
/// Binary, because base64 in JSON would add a third to every byte and a pass to encode and
/// decode it. The transfer tag lets a device drop blocks of a push it is not receiving.
public struct BlockMessage: Sendable, Equatable {
    public var transfer: [UInt8]
    public var index: Int
    public var crc32c: UInt32
    public var data: ArraySlice<UInt8>

    public static let headerSize = 24
    static let magic = Array("EQB1".utf8)

    public init(transfer: [UInt8], index: Int, crc32c: UInt32, data: ArraySlice<UInt8>) {
        self.transfer = transfer
        self.index = index
        self.crc32c = crc32c
        self.data = data
    }

    /// The transfer tag of a file with this SHA-256 (hex).
    public static func transferTag(sha256: String) -> [UInt8] {
        var tag: [UInt8] = []
        var digits = sha256.utf8.prefix(16).makeIterator()
        while let high = digits.next(), let low = digits.next() {
            tag.append(UInt8(hexValue(high) << 4 | hexValue(low)))
        }
        return tag
    }

    private static func hexValue(_ digit: UInt8) -> Int {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(digit - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(digit - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(digit - UInt8(ascii: "A")) + 10
        default: 0
        }
    }

    /// The payload for block `index` holding `data`, with its CRC-32C computed here.
    public static func encode(transfer: [UInt8], index: Int, data: UnsafeRawBufferPointer) -> [UInt8] {
        var payload = [UInt8](repeating: 0, count: headerSize + data.count)
        payload.withUnsafeMutableBytes { out in
            out.copyBytes(from: magic)
            UnsafeMutableRawBufferPointer(rebasing: out[4..<12]).copyBytes(from: transfer.prefix(8))
            out.storeBytes(of: UInt32(index).littleEndian, toByteOffset: 12, as: UInt32.self)
            out.storeBytes(of: UInt32(data.count).littleEndian, toByteOffset: 16, as: UInt32.self)
            out.storeBytes(of: CRC32C.checksum(data).littleEndian, toByteOffset: 20, as: UInt32.self)
            UnsafeMutableRawBufferPointer(rebasing: out[headerSize...]).copyMemory(from: data)
        }
        return payload
    }

    /// Reads a payload; throws if the header is malformed or the length disagrees with it.
    /// The CRC is not checked here: the receiver checks it and says which block failed.
    public init(payload: [UInt8]) throws(PushError) {
        guard payload.count >= Self.headerSize, Array(payload[0..<4]) == Self.magic else {
            throw PushError("not a block message (\(payload.count) bytes without the EQB1 header)")
        }
        func u32(_ offset: Int) -> UInt32 {
            UInt32(payload[offset]) | UInt32(payload[offset + 1]) << 8 | UInt32(payload[offset + 2]) << 16 | UInt32(payload[offset + 3]) << 24
        }
        let length = Int(u32(16))
        guard payload.count == Self.headerSize + length else {
            throw PushError("block header says \(length) bytes of data, the message has \(payload.count - Self.headerSize)")
        }
        self.init(transfer: Array(payload[4..<12]), index: Int(u32(12)), crc32c: u32(20), data: payload[Self.headerSize...])
    }

    /// Whether the data matches its CRC-32C.
    public var isIntact: Bool {
        data.withUnsafeBytes { CRC32C.checksum($0) } == crc32c
    }
}
