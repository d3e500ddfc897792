import Engine

extension QuantizedMatrix {
    /// Reads a matrix back from the kernels' packed layout: the inverse of `PackedMatrix.init`, for
    /// matrices read from a model file, whose patterns finetuning keeps and whose scales and
    /// midpoints it trains.
    public init(packed matrix: LUTMatrix) {
        self.init(rows: matrix.rows, cols: matrix.cols, planes: matrix.planes, groupSize: matrix.groupSize)
        (patterns, scales, midpoints) = matrix.unpacked()
    }
}
