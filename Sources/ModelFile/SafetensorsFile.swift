import Foundation

/// A safetensors file (Hugging Face's weight format), parsed and validated, with its tensor data left in place.
///
/// The layout:
///
///     header_length:u64 (little-endian)
///     header: header_length bytes of JSON, usually padded with spaces to a multiple of 8
///     data section: each tensor's bytes, little-endian and row-major, at its [begin, end)
///
/// Opening a file reads only the header, and checks every tensor's dtype, shape and offsets
/// against the file's size and against each other, so that no two tensors share bytes; tensor
/// data stays in the mapping until `rawData(of:)` or `readFloats` asks for it.
public final class SafetensorsFile: @unchecked Sendable {
    // @unchecked Sendable: every stored property is immutable and the mapping is read-only.

    /// The tensors in file order (by offset).
    public let tensors: [SafetensorsTensor]
    /// The header's `__metadata__`: free-form strings such as `format: pt`.
    public let metadata: [String: String]
    /// Absolute file offset where the data section starts, just after the header.
    public let dataStart: Int

    /// The mapping that `rawData(of:)` points into; it lives exactly as long as this object.
    public let file: MappedFile
    private let tensorIndexByName: [String: Int]

    /// Maps and parses the file at `path`.
    ///
    /// Throws `MappedFileError` if the file can't be opened or mapped, `SafetensorsError` if its
    /// contents are not a valid safetensors file.
    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    /// Parses an already mapped file.
    public init(file: MappedFile) throws(SafetensorsError) {
        guard let headerLength = try? file.load(UInt64.self, at: 0) else {
            throw SafetensorsError(file, .tooShort(fileSize: file.count))
        }
        guard headerLength <= UInt64(file.count - 8) else {
            throw SafetensorsError(file, .headerPastEnd(headerLength: headerLength, fileSize: file.count))
        }
        let dataStart = 8 + Int(headerLength)
        let header: SafetensorsHeader
        do {
            let json = Data(file.bytes[8..<dataStart])
            header = try JSONDecoder().decode(SafetensorsHeader.self, from: json)
        } catch {
            throw SafetensorsError(file, .invalidHeader(describeDecodingError(error)))
        }

        var tensors: [SafetensorsTensor] = []
        tensors.reserveCapacity(header.entries.count)
        for (name, entry) in header.entries {
            tensors.append(try Self.tensor(name, entry, dataStart: dataStart, in: file))
        }
        // JSON objects have no order; file order is the one a reader of the bytes sees.
        tensors.sort { ($0.offset, $0.byteCount, $0.name) < ($1.offset, $1.byteCount, $1.name) }
        // In offset order, a tensor that starts before the previous one ends overlaps it; and
        // if none does, each ends after all before it. Empty tensors cover nothing.
        var previous: (name: String, end: Int)?
        for tensor in tensors where tensor.byteCount > 0 {
            if let previous, tensor.offset < previous.end {
                throw SafetensorsError(file, .overlappingTensors(previous.name, tensor.name))
            }
            previous = (tensor.name, tensor.offset + tensor.byteCount)
        }

        self.tensors = tensors
        self.metadata = header.metadata
        self.dataStart = dataStart
        self.file = file
        self.tensorIndexByName = Dictionary(uniqueKeysWithValues: tensors.enumerated().map { ($1.name, $0) })
    }

    /// Checks one header entry against the data section and resolves it to absolute offsets.
    private static func tensor(
        _ name: String, _ entry: SafetensorsHeader.Entry, dataStart: Int, in file: MappedFile
    ) throws(SafetensorsError) -> SafetensorsTensor {
        let dataSize = file.count - dataStart
        guard let dtype = SafetensorsDType(rawValue: entry.dtype) else {
            throw SafetensorsError(file, .unknownDType(tensor: name, dtype: entry.dtype))
        }
        // Multiplying only the non-zero dimensions keeps every partial product of the shape in
        // range too, whatever its order, which `SafetensorsTensor`'s accessors rely on.
        var product = dtype.byteSize
        for dimension in entry.shape where dimension != 0 {
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            guard dimension > 0, !overflow else {
                throw SafetensorsError(file, .invalidShape(tensor: name, shape: entry.shape))
            }
            product = next
        }
        let byteCount = entry.shape.contains(0) ? 0 : product
        guard entry.dataOffsets.count == 2, 0 <= entry.dataOffsets[0], entry.dataOffsets[0] <= entry.dataOffsets[1] else {
            throw SafetensorsError(file, .invalidOffsets(tensor: name, offsets: entry.dataOffsets))
        }
        let (begin, end) = (entry.dataOffsets[0], entry.dataOffsets[1])
        guard end <= dataSize else {
            throw SafetensorsError(file, .tensorOutOfBounds(tensor: name, end: end, dataSize: dataSize))
        }
        guard end - begin == byteCount else {
            throw SafetensorsError(file, .sizeMismatch(tensor: name, expected: byteCount, actual: end - begin))
        }
        return SafetensorsTensor(name: name, dtype: dtype, shape: entry.shape, offset: dataStart + begin, byteCount: byteCount)
    }

    /// The tensor called `name`, if the file has one.
    public func tensor(named name: String) -> SafetensorsTensor? {
        tensorIndexByName[name].map { tensors[$0] }
    }

    /// The tensor's bytes exactly as stored, without copying; valid while this `SafetensorsFile` lives.
    ///
    /// `tensor` must come from this file's `tensors`: its range was checked when the file was opened.
    public func rawData(of tensor: SafetensorsTensor) -> UnsafeRawBufferPointer {
        precondition(
            tensor.offset >= dataStart && tensor.byteCount <= file.count - tensor.offset,
            "tensor '\(tensor.name)' does not lie inside \(file.path)")
        return UnsafeRawBufferPointer(rebasing: file.bytes[tensor.offset..<tensor.offset + tensor.byteCount])
    }
}

extension SafetensorsError {
    fileprivate init(_ file: MappedFile, _ problem: Problem) {
        self.init(path: file.path, problem: problem)
    }
}
