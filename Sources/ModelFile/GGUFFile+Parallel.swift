import Parallel

extension GGUFFile {
    /// Dequantizes `rows` of `tensor` into `destination`, with the rows split across the pool.
    public func dequantizeRows(_ tensor: GGUFTensorInfo, rows: Range<Int>, into destination: UnsafeMutablePointer<Float>,
                               pool: ThreadPool) throws(GGUFError) {
        // An empty range at the end checks the type and the row bound, so no share below can fail.
        try dequantizeRows(tensor, rows: rows.upperBound..<rows.upperBound, into: destination)
        let rowLength = tensor.rowLength
        pool.parallelFor(rows.count) { share in
            let part = (rows.lowerBound + share.lowerBound)..<(rows.lowerBound + share.upperBound)
            try! dequantizeRows(tensor, rows: part, into: destination + share.lowerBound * rowLength)
        }
    }
}
