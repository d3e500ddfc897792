/// A tensor directory entry as the file states it, before its data offset is checked.
///
/// The offset is relative to the data section, which starts only after the whole directory,
/// so bounds and alignment can be checked only once every entry has been read.
struct GGUFTensorEntry {
    let name: String
    let type: GGMLType
    let dims: [Int]
    let dataOffset: UInt64
    let byteCount: Int

    /// Checks the entry against the data section and makes its offset absolute.
    func resolved(dataStart: Int, dataSize: Int, alignment: Int) throws(GGUFError) -> GGUFTensorInfo {
        guard dataOffset % UInt64(alignment) == 0 else {
            throw .misalignedTensor(tensor: name, offset: dataOffset, alignment: alignment)
        }
        guard dataOffset <= UInt64(dataSize), byteCount <= dataSize - Int(dataOffset) else {
            throw .tensorOutOfBounds(tensor: name, offset: dataOffset, byteCount: byteCount, dataSize: dataSize)
        }
        return GGUFTensorInfo(
            name: name, type: type, dims: dims, offset: dataStart + Int(dataOffset), byteCount: byteCount)
    }
}

/// GGUF (like ggml) allows at most four dimensions.
let maximumDimensions: UInt32 = 4

extension GGUFCursor {
    /// One directory entry: name, dimension count, dimensions, type code, data offset.
    /// Checks everything that doesn't depend on where the data section starts.
    mutating func readTensorEntry(index: Int) throws(GGUFError) -> GGUFTensorEntry {
        let name = try readString("name of tensor \(index)")
        let dimensionCount = try read(UInt32.self, "dimension count of tensor '\(name)'")
        guard (1...maximumDimensions).contains(dimensionCount) else {
            throw .invalidDimensionCount(tensor: name, count: dimensionCount)
        }
        var rawDims: [UInt64] = []
        for _ in 0..<dimensionCount {
            rawDims.append(try read(UInt64.self, "dimensions of tensor '\(name)'"))
        }
        let rawType = try read(UInt32.self, "type of tensor '\(name)'")
        guard let type = GGMLType(rawValue: rawType) else { throw .unknownTensorType(tensor: name, rawType: rawType) }
        let dataOffset = try read(UInt64.self, "data offset of tensor '\(name)'")

        // The sizes must be computed without overflow: a wrapped product would pass the bounds check.
        var dims: [Int] = []
        var elementCount = 1
        for rawDim in rawDims {
            guard let dim = Int(exactly: rawDim) else { throw .invalidDimensions(tensor: name, dims: rawDims) }
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw .invalidDimensions(tensor: name, dims: rawDims) }
            dims.append(dim)
            elementCount = product
        }
        guard dims[0] % type.blockSize == 0 else {
            throw .rowNotWholeBlocks(tensor: name, rowLength: dims[0], type: type)
        }
        let (byteCount, overflow) = (elementCount / type.blockSize).multipliedReportingOverflow(by: type.bytesPerBlock)
        guard !overflow else { throw .invalidDimensions(tensor: name, dims: rawDims) }
        return GGUFTensorEntry(name: name, type: type, dims: dims, dataOffset: dataOffset, byteCount: byteCount)
    }
}
