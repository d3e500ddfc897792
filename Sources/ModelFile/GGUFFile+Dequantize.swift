/// Turning tensor data into `Float`s, for importing into other formats and for tests.
extension GGUFFile {
    /// The whole tensor as floats, in storage order (`dims[0]` fastest).
    public func dequantize(_ tensor: GGUFTensorInfo) throws(GGUFError) -> [Float] {
        let work = try dequantization(of: tensor, rows: 0..<tensor.rowCount)
        // Skipping the zero fill matters: a large tensor's floats are hundreds of megabytes.
        return [Float](unsafeUninitializedCapacity: tensor.elementCount) { buffer, initializedCount in
            if let start = buffer.baseAddress { work(start) }
            initializedCount = tensor.elementCount
        }
    }

    /// Dequantizes rows `rows` (of `dims[0]` elements each) into `destination`, which must
    /// have room for `rows.count × dims[0]` floats.
    public func dequantizeRows(
        _ tensor: GGUFTensorInfo, rows: Range<Int>, into destination: UnsafeMutablePointer<Float>
    ) throws(GGUFError) {
        try dequantization(of: tensor, rows: rows)(destination)
    }

    /// Checks that `rows` of `tensor` can be dequantized, and returns the work of doing it,
    /// so that `dequantize` can throw before it allocates.
    private func dequantization(
        of tensor: GGUFTensorInfo, rows: Range<Int>
    ) throws(GGUFError) -> (UnsafeMutablePointer<Float>) -> Void {
        guard let dequantizer = tensor.type.dequantizer else {
            throw .cannotDequantize(tensor: tensor.name, type: tensor.type)
        }
        guard rows.lowerBound >= 0, rows.upperBound <= tensor.rowCount else {
            throw .rowsOutOfRange(tensor: tensor.name, rows: rows, rowCount: tensor.rowCount)
        }
        let data = rawData(of: tensor)
        let blockCount = rows.count * (tensor.rowLength / tensor.type.blockSize)
        return { destination in
            guard blockCount > 0, let start = data.baseAddress else { return }
            dequantizer(start + rows.lowerBound * tensor.bytesPerRow, blockCount, destination)
        }
    }
}
