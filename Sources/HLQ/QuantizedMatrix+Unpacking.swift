import CLUTKernels

extension QuantizedMatrix {
    /// Reads a matrix back from the kernels' packed layout (see `lut_kernels.h`): the inverse of
    /// `PackedMatrix.init`, for matrices read from a model file, whose patterns finetuning keeps
    /// and whose scales and midpoints it trains.
    public init(packedBits bits: UnsafeRawPointer, params: UnsafeRawPointer, rows: Int, cols: Int,
                planes: Int, groupSize: Int) {
        self.init(rows: rows, cols: cols, planes: planes, groupSize: groupSize)
        let bytes = bits.assumingMemoryBound(to: UInt8.self)
        let halves = params.assumingMemoryBound(to: UInt16.self)
        let paddedCols = Int(elutq_padded_cols(Int32(cols)))
        let groups = groupsPerRow
        for row in 0..<rows {
            let block = row / 32, r = row % 32
            for group in 0..<groups {
                let groupBegin = group * groupSize
                let quads = (min(groupBegin + groupSize, paddedCols) - groupBegin) / 16
                let paramBase = (block * groups + group) * (planes + 1) * 32
                let g = row * groups + group
                for plane in 0..<planes {
                    scales[g * planes + plane] = Float16(bitPattern: halves[paramBase + plane * 32 + r])
                }
                midpoints[g] = Float16(bitPattern: halves[paramBase + planes * 32 + r])
                let groupBytes = bytes + block * planes * paddedCols * 4 + group * (groupSize / 16) * planes * 64
                for col in groupBegin..<min(groupBegin + groupSize, cols) {
                    let within = col - groupBegin, quad = within / 16, slice = (within % 16) / 4, t = within % 4
                    var pattern: UInt8 = 0
                    for plane in 0..<planes {
                        let byte = groupBytes[(plane * quads + quad) * 64 + 2 * r + (slice & 1)]
                        let nibble = slice < 2 ? byte & 15 : byte >> 4
                        pattern |= ((nibble >> t) & 1) << plane
                    }
                    patterns[row * cols + col] = pattern
                }
            }
        }
    }
}
