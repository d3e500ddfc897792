/// Which blocks of a transfer have arrived: one bit per block, least significant bit first.
///
/// The bytes are the on-disk form too, so a receiver persists a block by writing back the one
/// byte that holds its bit.
public struct BlockBitmap: Sendable, Equatable {
    public let count: Int
    public private(set) var bytes: [UInt8]
    public private(set) var received: Int

    public init(count: Int) {
        self.count = count
        bytes = [UInt8](repeating: 0, count: (count + 7) / 8)
        received = 0
    }

    /// A bitmap read back from disk; nil if the bytes do not fit `count` blocks.
    public init?(count: Int, bytes: [UInt8]) {
        guard bytes.count == (count + 7) / 8 else { return nil }
        self.count = count
        self.bytes = bytes
        received = (0..<count).reduce(0) { $0 + (bytes[$1 >> 3] >> UInt8($1 & 7) & 1 == 1 ? 1 : 0) }
        // Bits past the last block must be clear, or the file is not a bitmap of this transfer.
        if count % 8 != 0, let last = bytes.last, last >> UInt8(count % 8) != 0 { return nil }
    }

    public func contains(_ index: Int) -> Bool { bytes[index >> 3] >> UInt8(index & 7) & 1 == 1 }

    /// Marks block `index`; returns false if it was already marked.
    @discardableResult
    public mutating func insert(_ index: Int) -> Bool {
        guard !contains(index) else { return false }
        bytes[index >> 3] |= 1 << UInt8(index & 7)
        received += 1
        return true
    }

    public var isComplete: Bool { received == count }

    /// The missing blocks as runs of consecutive indices, so a fresh transfer is one range.
    public var missingRanges: [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start: Int?
        for index in 0..<count {
            if !contains(index) {
                if start == nil { start = index }
            } else if let first = start {
                ranges.append(first..<index)
                start = nil
            }
        }
        if let start { ranges.append(start..<count) }
        return ranges
    }
}
