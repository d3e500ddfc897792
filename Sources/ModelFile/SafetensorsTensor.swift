/// One tensor of a safetensors file: its name, element type, shape and where its bytes lie.
public struct SafetensorsTensor: Sendable, Equatable {
    public let name: String
    public let dtype: SafetensorsDType
    /// The dimensions slowest first, as PyTorch writes them: `[rows, cols]` for a matrix, the
    /// reverse of GGUF's order. The product of the non-zero dimensions was checked not to overflow.
    public let shape: [Int]
    /// Absolute file offset of the first byte (the header's offsets are relative to the data section).
    public let offset: Int
    public let byteCount: Int

    public var elementCount: Int { shape.reduce(1, *) }
    /// Rows are slices along the first dimension: a matrix's output features, a vector's single elements.
    public var rowCount: Int { shape.first ?? 1 }
    public var rowLength: Int { shape.dropFirst().reduce(1, *) }
}
