/// One entry of a `.hlq` file's tensor directory: where a tensor lies, how it is stored, its checksum.
public struct HLQTensorInfo: Codable, Sendable, Equatable {
    /// GGUF naming: `token_embd.weight`, `blk.3.attn_q.weight`, `output_norm.weight`.
    public var name: String
    public var type: HLQTensorType
    /// GGUF order, fastest-varying first: a matrix of `rows` outputs and `cols` inputs is `[cols, rows]`.
    public var shape: [Int]
    /// Absolute byte offset in the file, a multiple of 64.
    public var offset: Int
    /// Bytes from `offset` to the end of the tensor's last part.
    public var byteCount: Int
    /// CRC-32C of those `byteCount` bytes, padding between parts included.
    public var crc32c: UInt32

    public init(name: String, type: HLQTensorType, shape: [Int], offset: Int, byteCount: Int, crc32c: UInt32) {
        self.name = name
        self.type = type
        self.shape = shape
        self.offset = offset
        self.byteCount = byteCount
        self.crc32c = crc32c
    }

    /// Elements per row: `shape[0]`.
    public var cols: Int { shape[0] }
    /// The remaining dimensions multiplied: a matrix's rows, 1 for a vector.
    public var rows: Int { shape.dropFirst().reduce(1, *) }

    /// Checks that the entry describes a tensor this build can use in place: a valid type and
    /// shape, a size that agrees with them, and an aligned range inside the tensor data.
    func check(data: Range<Int>) throws(HLQFileError) {
        if let problem = type.problem(with: shape) { throw .invalidTensor(tensor: name, problem: problem) }
        let expected = HLQTensorType.layout(ofParts: type.partSizes(shape: shape)).byteCount
        guard byteCount == expected else { throw .sizeMismatch(tensor: name, byteCount: byteCount, expected: expected) }
        guard offset % HLQFileHeader.alignment == 0 else { throw .misalignedTensor(tensor: name, offset: offset) }
        guard offset >= data.lowerBound, offset <= data.upperBound, byteCount <= data.upperBound - offset else {
            throw .tensorOutOfBounds(tensor: name, offset: offset, byteCount: byteCount, data: data)
        }
    }
}

/// The last section of a `.hlq` file: every tensor, and the checksum of the metadata before it.
struct HLQFileDirectory: Codable {
    var metadataCRC32C: UInt32
    var tensors: [HLQTensorInfo]
}
