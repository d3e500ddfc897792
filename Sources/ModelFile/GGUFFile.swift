/// A GGUF model file (llama.cpp's format), parsed and validated, with its tensor data left in place.
///
/// The layout, all little-endian:
///
///     "GGUF"  version:u32  tensor_count:u64  metadata_count:u64
///     metadata_count × (key:string  type:u32  value)
///     tensor_count   × (name:string  n_dims:u32  dims:u64×n_dims  type:u32  offset:u64)
///     padding to `general.alignment` (default 32)
///     data section: each tensor at its offset, which is relative to the section's start
///
/// Opening a file reads only the header, metadata and tensor directory, and checks every
/// count, length and offset against the file's size; tensor data stays in the mapping until
/// `rawData(of:)` or `dequantize(_:)` asks for it.
public final class GGUFFile: @unchecked Sendable {
    // @unchecked Sendable: every stored property is immutable and the mapping is read-only.

    /// The format version: 2 or 3, which differ only in that 3 may be big-endian (unsupported here).
    public let version: Int
    /// All metadata by key.
    public let metadata: [String: GGUFValue]
    /// The metadata keys in file order, for listing them the way the file does.
    public let metadataKeys: [String]
    /// The tensor directory, in file order.
    public let tensors: [GGUFTensorInfo]
    /// The alignment of tensor data, in bytes: `general.alignment`, or 32 without it.
    public let alignment: Int
    /// Absolute file offset where the data section starts (the end of the header if there are no tensors).
    public let dataStart: Int

    /// The mapping that `rawData(of:)` points into; it lives exactly as long as this object.
    public let file: MappedFile
    private let tensorIndexByName: [String: Int]

    /// Maps and parses the file at `path`.
    ///
    /// Throws `MappedFileError` if the file can't be opened or mapped, `GGUFError` if its
    /// contents are not a valid GGUF v2/v3 file.
    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    /// Parses an already mapped file.
    public init(file: MappedFile) throws(GGUFError) {
        var cursor = GGUFCursor(file)

        let magic = try cursor.bytes(4, for: "the magic number")
        guard magic.elementsEqual("GGUF".utf8) else { throw .badMagic(found: Array(magic)) }
        let rawVersion = try cursor.read(UInt32.self, "the version")
        guard rawVersion == 2 || rawVersion == 3 else {
            // A big-endian file's small version number reads as a large one with a zero low half.
            if rawVersion & 0xFFFF == 0, (2...3).contains(rawVersion.byteSwapped) {
                throw .bigEndian(version: rawVersion.byteSwapped)
            }
            throw .unsupportedVersion(rawVersion)
        }
        let rawTensorCount = try cursor.read(UInt64.self, "the tensor count")
        // The smallest metadata entry is a one-byte value under an empty key.
        let metadataCount = try cursor.readCount("the metadata count", minimumSize: 8 + 4 + 1)
        let (metadata, metadataKeys) = try cursor.readMetadata(count: metadataCount)
        let alignment = try Self.alignment(in: metadata)

        // Checked only now, against what follows the metadata: the smallest directory entry
        // is a one-dimensional tensor with an empty name.
        let tensorCount = try cursor.checkCount(rawTensorCount, "the tensor count", minimumSize: 8 + 4 + 8 + 4 + 8)
        var entries: [GGUFTensorEntry] = []
        var tensorIndexByName: [String: Int] = [:]
        entries.reserveCapacity(tensorCount)
        for index in 0..<tensorCount {
            let entry = try cursor.readTensorEntry(index: index)
            guard tensorIndexByName.updateValue(index, forKey: entry.name) == nil else {
                throw .duplicateTensor(entry.name)
            }
            entries.append(entry)
        }

        // Tensor data starts at the next multiple of the alignment; a file without tensors may end before that.
        if tensorCount > 0 {
            try cursor.skipPadding(to: alignment, for: "the padding before the tensor data")
        }
        let dataStart = cursor.offset
        let dataSize = file.count - dataStart
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(tensorCount)
        for entry in entries {
            tensors.append(try entry.resolved(dataStart: dataStart, dataSize: dataSize, alignment: alignment))
        }

        self.version = Int(rawVersion)
        self.metadata = metadata
        self.metadataKeys = metadataKeys
        self.tensors = tensors
        self.alignment = alignment
        self.dataStart = dataStart
        self.file = file
        self.tensorIndexByName = tensorIndexByName
    }

    /// `general.alignment` if present, which must be a power of two, else GGUF's default of 32.
    private static func alignment(in metadata: [String: GGUFValue]) throws(GGUFError) -> Int {
        guard let value = metadata["general.alignment"] else { return 32 }
        guard let alignment = value.intValue, alignment > 0, alignment & (alignment - 1) == 0 else {
            throw .invalidAlignment(value.description)
        }
        return alignment
    }

    /// The tensor called `name`, if the file has one.
    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndexByName[name].map { tensors[$0] }
    }

    /// The tensor's bytes exactly as stored, without copying; valid while this `GGUFFile` lives.
    ///
    /// `tensor` must come from this file's `tensors`: its range was checked when the file was opened.
    public func rawData(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        precondition(
            tensor.offset >= dataStart && tensor.byteCount <= file.count - tensor.offset,
            "tensor '\(tensor.name)' does not lie inside \(file.path)")
        return UnsafeRawBufferPointer(rebasing: file.bytes[tensor.offset..<tensor.offset + tensor.byteCount])
    }
}
