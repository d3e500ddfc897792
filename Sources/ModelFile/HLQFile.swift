import Foundation

/// A `.hlq` model file, mapped, validated, and used in place: elutq's own format for quantized models.
///
/// The layout (docs/hlq-format.md has every field):
///
///     header       64 bytes: magic, version, where the two sections are, checksums
///     tensor data  each tensor at a multiple of 64, HLQ matrices already in the kernels' layout
///     metadata     JSON: model config, tokenizer, quantization recipe, provenance
///     directory    JSON: every tensor's name, type, shape, offset, size and CRC-32C
///
/// Opening reads only the header and the two JSON sections and checks every range against the
/// file before any pointer into it is formed. No weight is copied: the accessors return
/// pointers into the mapping, valid for as long as this object lives.
public final class HLQFile: @unchecked Sendable {
    // @unchecked Sendable: every stored property is immutable and the mapping is read-only.

    public let metadata: HLQFileMetadata
    /// The tensor directory, in file order.
    public let tensors: [HLQTensorInfo]
    /// The mapping every accessor points into; it lives exactly as long as this object.
    public let file: MappedFile
    private let tensorIndexByName: [String: Int]

    /// The file's size in bytes.
    public var fileSize: Int { file.count }

    /// Maps and validates the file at `path`.
    public convenience init(path: String) throws(HLQFileError) {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch { throw .unreadable(error) }
        try self.init(file: file)
    }

    /// Validates an already mapped file.
    public init(file: MappedFile) throws(HLQFileError) {
        let header = try HLQFileHeader(file: file)
        // The header vouches for the directory, and the directory for the metadata.
        let directory = try HLQFileJSON.decode(
            HLQFileDirectory.self, from: UnsafeRawBufferPointer(rebasing: file.bytes[header.directory]),
            as: .directory, checksum: header.directoryChecksum)
        metadata = try HLQFileJSON.decode(
            HLQFileMetadata.self, from: UnsafeRawBufferPointer(rebasing: file.bytes[header.metadata]),
            as: .metadata, checksum: directory.metadataCRC32C)
        tensorIndexByName = try Self.checkTensors(directory.tensors, data: HLQFileHeader.byteCount..<header.metadata.lowerBound)
        tensors = directory.tensors
        self.file = file
    }

    /// Checks each entry on its own, then that names are unique and no two tensors share a byte.
    /// Returns the index of each tensor by name.
    private static func checkTensors(_ tensors: [HLQTensorInfo], data: Range<Int>) throws(HLQFileError) -> [String: Int] {
        var indexByName: [String: Int] = [:]
        for (index, tensor) in tensors.enumerated() {
            guard indexByName.updateValue(index, forKey: tensor.name) == nil else { throw .duplicateTensor(tensor.name) }
            try tensor.check(data: data)
        }
        // Empty tensors occupy no bytes, so they cannot overlap anything.
        let byOffset = tensors.filter { $0.byteCount > 0 }.sorted { $0.offset < $1.offset }
        for (previous, next) in zip(byOffset, byOffset.dropFirst()) where previous.offset + previous.byteCount > next.offset {
            throw .overlappingTensors(previous.name, next.name)
        }
        return indexByName
    }

    /// Whether the file at `path` starts with the `.hlq` magic: how a loader tells it from a GGUF
    /// file without trusting the name.
    public static func looksLikeHLQ(path: String) throws -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw HLQFileError.unreadable(MappedFileError.cannotOpen(path: path, reason: "cannot open")) }
        defer { try? handle.close() }
        let prefix = try handle.read(upToCount: HLQFileHeader.magic.count) ?? Data()
        return prefix.elementsEqual(HLQFileHeader.magic)
    }

    /// The tensor called `name`, if the file has one.
    public func tensor(named name: String) -> HLQTensorInfo? {
        tensorIndexByName[name].map { tensors[$0] }
    }

    /// The tensor's bytes exactly as stored, without copying.
    ///
    /// `tensor` must be one of this file's `tensors`, whose ranges were checked when it was opened.
    public func data(of tensor: HLQTensorInfo) -> UnsafeRawBufferPointer {
        precondition(self.tensor(named: tensor.name) == tensor, "tensor '\(tensor.name)' is not one of \(file.path)'s")
        return UnsafeRawBufferPointer(rebasing: file.bytes[tensor.offset..<tensor.offset + tensor.byteCount])
    }

    /// An f32 tensor's values.
    public func floats(of tensor: HLQTensorInfo) -> UnsafeBufferPointer<Float> {
        parts(of: tensor, expecting: "f32")[0].bindMemory(to: Float.self)
    }

    /// An f16 tensor's values.
    public func halves(of tensor: HLQTensorInfo) -> UnsafeBufferPointer<Float16> {
        parts(of: tensor, expecting: "f16")[0].bindMemory(to: Float16.self)
    }

    /// A q8 matrix's int8 rows (`rows * cols`) and its per-row scales (`rows`).
    public func q8Parts(of tensor: HLQTensorInfo) -> (weights: UnsafeBufferPointer<Int8>, scales: UnsafeBufferPointer<Float>) {
        let parts = parts(of: tensor, expecting: "q8")
        return (parts[0].bindMemory(to: Int8.self), parts[1].bindMemory(to: Float.self))
    }

    /// An HLQ matrix's packed bit planes and half-float params, as `lut_kernels.h` lays them out:
    /// what `LUTMatrix` and `elutq_lut_matrix` take.
    public func hlqParts(of tensor: HLQTensorInfo) -> (bits: UnsafeRawBufferPointer, params: UnsafeRawBufferPointer) {
        let parts = parts(of: tensor, expecting: "hlq")
        return (parts[0], parts[1])
    }

    /// The tensor's parts in place, after checking that its type is the one the caller reads.
    private func parts(of tensor: HLQTensorInfo, expecting kind: String) -> [UnsafeRawBufferPointer] {
        precondition(tensor.type.kind == kind, "tensor '\(tensor.name)' is \(tensor.type), not \(kind)")
        return parts(of: tensor)
    }

    /// The tensor's parts in place, in the order `HLQFileWriter.append` takes them: what a tool
    /// that rewrites some tensors of a file copies for the others.
    public func parts(of tensor: HLQTensorInfo) -> [UnsafeRawBufferPointer] {
        let data = data(of: tensor)
        let sizes = tensor.type.partSizes(shape: tensor.shape)
        return zip(HLQTensorType.layout(ofParts: sizes).offsets, sizes).map { start, size in
            UnsafeRawBufferPointer(rebasing: data[start..<start + size])
        }
    }
}
