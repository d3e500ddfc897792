import CLUTKernels

extension LUTMatrix {
    /// The float matrix ([rows][cols]) the packed bytes stand for: the exact reference the LUT
    /// kernels are held against, for matrices read back from a model file. It reads the layout
    /// `lut_kernels.h` defines and HLQ's `PackedMatrix` writes.
    public func dequantize(into out: UnsafeMutablePointer<Float>) {
        let bytes = descriptor.bits!, halves = descriptor.params!
        let (rows, cols, planes, groupSize) = (self.rows, self.cols, self.planes, self.groupSize)
        let paddedCols = Int(elutq_padded_cols(Int32(cols)))
        let groups = Int(elutq_group_count(Int32(cols), Int32(groupSize)))
        for row in 0..<rows {
            let block = row / 32, r = row % 32
            for group in 0..<groups {
                let groupBegin = group * groupSize
                let quads = (min(groupBegin + groupSize, paddedCols) - groupBegin) / 16
                let paramBase = (block * groups + group) * (planes + 1) * 32
                let midpoint = Float(Float16(bitPattern: halves[paramBase + planes * 32 + r]))
                let groupBytes = bytes + block * planes * paddedCols * 4 + group * (groupSize / 16) * planes * 64
                for col in groupBegin..<min(groupBegin + groupSize, cols) {
                    let within = col - groupBegin, quad = within / 16, slice = (within % 16) / 4, t = within % 4
                    var value = midpoint
                    for plane in 0..<planes {
                        let byte = groupBytes[(plane * quads + quad) * 64 + 2 * r + (slice & 1)]
                        let nibble = slice < 2 ? byte & 15 : byte >> 4
                        let scale = Float(Float16(bitPattern: halves[paramBase + plane * 32 + r]))
                        value += (nibble >> t) & 1 == 1 ? 0.5 * scale : -0.5 * scale
                    }
                    out[row * cols + col] = value
                }
            }
        }
    }
}
