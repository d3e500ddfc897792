/// Where one tensor's data lies in a GGUF file, and how it is shaped and stored.
///
/// A tensor is a stack of rows: `dims[0]` elements are contiguous and form a row, stored as
/// whole quantization blocks, and the remaining dimensions just count rows. Row is therefore
/// the unit of partial dequantization.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    public let type: GGMLType
    /// The shape in ggml order, fastest-varying first: a PyTorch `[out, in]` weight appears as `[in, out]`.
    public let dims: [Int]
    /// Absolute byte offset of the first block in the file (already checked to lie inside it).
    public let offset: Int
    public let byteCount: Int

    public var elementCount: Int { dims.reduce(1, *) }
    /// Elements per row: `dims[0]`.
    public var rowLength: Int { dims[0] }
    public var rowCount: Int { rowLength == 0 ? 0 : elementCount / rowLength }
    public var bytesPerRow: Int { rowLength / type.blockSize * type.bytesPerBlock }
}
