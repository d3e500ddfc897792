import Parallel

extension SafetensorsFile {
    /// Converts `tensor` to floats in `destination` (room for `elementCount`), with its rows split across the pool.
    ///
    /// Output row `r` comes from stored row `sourceRow(r)`, so that an importer can reorder rows
    /// (llama's q and k, see `HuggingFaceRopePermutation`) while converting rather than in a
    /// second pass. `sourceRow` must be a permutation of `0..<rowCount`, and pure, as the pool's
    /// threads call it at the same time. Safetensors is row-major
    /// with the last dimension fastest, which is GGUF's layout too, so nothing else moves.
    public func readFloats(
        _ tensor: SafetensorsTensor, into destination: UnsafeMutablePointer<Float>, pool: ThreadPool,
        sourceRow: (Int) -> Int = { $0 }
    ) throws(SafetensorsError) {
        guard let convert = tensor.dtype.floatConverter else {
            throw SafetensorsError(path: file.path, problem: .cannotReadAsFloats(tensor: tensor.name, dtype: tensor.dtype))
        }
        guard let source = rawData(of: tensor).baseAddress, tensor.elementCount > 0 else { return }
        let rowLength = tensor.rowLength, rowBytes = rowLength * tensor.dtype.byteSize
        pool.parallelFor(tensor.rowCount) { rows in
            for row in rows {
                let from = sourceRow(row)
                precondition(0 <= from && from < tensor.rowCount, "row \(from) of '\(tensor.name)' does not exist")
                convert(source + from * rowBytes, rowLength, destination + row * rowLength)
            }
        }
    }
}
