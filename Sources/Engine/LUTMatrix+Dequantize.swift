import CLUTKernels

extension LUTMatrix {
    /// The matrix read back from the packed layout `lut_kernels.h` defines and HLQ's
    /// `PackedMatrix` writes: each weight's bit pattern ([rows][cols], bit i is plane i), and each
    /// group's half-float scales ([rows][groups][planes]) and midpoints ([rows][groups]).
    public func unpacked() -> (patterns: [UInt8], scales: [Float16], midpoints: [Float16]) {
        let groups = Int(elutq_group_count(Int32(cols), Int32(groupSize)))
        var patterns = [UInt8](repeating: 0, count: rows * cols)
        var scales = [Float16](repeating: 0, count: rows * groups * planes)
        var midpoints = [Float16](repeating: 0, count: rows * groups)
        patterns.withUnsafeMutableBufferPointer { p in
            scales.withUnsafeMutableBufferPointer { s in
                midpoints.withUnsafeMutableBufferPointer { m in
                    for row in 0..<rows {
                        unpack(row: row, patterns: p.baseAddress! + row * cols, scales: s.baseAddress! + row * groups * planes,
                               midpoints: m.baseAddress! + row * groups)
                    }
                }
            }
        }
        return (patterns, scales, midpoints)
    }

    /// One row of `unpacked()`: its bit patterns ([cols]), scales ([groups][planes]) and midpoints ([groups]).
    func unpack(row: Int, patterns: UnsafeMutablePointer<UInt8>, scales: UnsafeMutablePointer<Float16>,
                midpoints: UnsafeMutablePointer<Float16>) {
        let bytes = descriptor.bits!, halves = descriptor.params!
        let paddedCols = Int(elutq_padded_cols(Int32(cols)))
        let groups = Int(elutq_group_count(Int32(cols), Int32(groupSize)))
        let block = row / 32, r = row % 32
        for group in 0..<groups {
            let groupBegin = group * groupSize
            let quads = (min(groupBegin + groupSize, paddedCols) - groupBegin) / 16
            let paramBase = (block * groups + group) * (planes + 1) * 32
            for plane in 0..<planes { scales[group * planes + plane] = Float16(bitPattern: halves[paramBase + plane * 32 + r]) }
            midpoints[group] = Float16(bitPattern: halves[paramBase + planes * 32 + r])
            let groupBytes = bytes + block * planes * paddedCols * 4 + group * (groupSize / 16) * planes * 64
            for col in groupBegin..<min(groupBegin + groupSize, cols) {
                let within = col - groupBegin, quad = within / 16, slice = (within % 16) / 4, t = within % 4
                var pattern: UInt8 = 0
                for plane in 0..<planes {
                    let byte = groupBytes[(plane * quads + quad) * 64 + 2 * r + (slice & 1)]
                    let nibble = slice < 2 ? byte & 15 : byte >> 4
                    pattern |= ((nibble >> t) & 1) << plane
                }
                patterns[col] = pattern
            }
        }
    }

    /// The float matrix ([rows][cols]) the packed bytes stand for: the exact reference the LUT
    /// kernels are held against, for matrices read back from a model file.
    public func dequantize(into out: UnsafeMutablePointer<Float>) {
        dequantize(rows: 0..<rows, into: out)
    }

    /// Rows `rows` of the float matrix, into `out` ([rows.count][cols]), a row at a time: a large
    /// head can be expanded piece by piece without holding all its patterns.
    public func dequantize(rows: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= self.rows, "rows \(rows) of a \(self.rows)-row matrix")
        let groups = Int(elutq_group_count(Int32(cols), Int32(groupSize)))
        // [cols], [groups][planes], [groups]: the row being expanded.
        var patterns = [UInt8](repeating: 0, count: cols)
        var scales = [Float16](repeating: 0, count: groups * planes)
        var midpoints = [Float16](repeating: 0, count: groups)
        // [2^planes]: the values one group's bit patterns stand for.
        var grid = [Float](repeating: 0, count: 1 << planes)
        for row in rows {
            unpack(row: row, patterns: &patterns, scales: &scales, midpoints: &midpoints)
            let outRow = out + (row - rows.lowerBound) * cols
            for group in 0..<groups {
                for pattern in grid.indices {
                    var value = Float(midpoints[group])
                    for plane in 0..<planes {
                        let scale = Float(scales[group * planes + plane])
                        value += (pattern >> plane) & 1 == 1 ? 0.5 * scale : -0.5 * scale
                    }
                    grid[pattern] = value
                }
                for col in (group * groupSize)..<min(cols, (group + 1) * groupSize) {
                    outRow[col] = grid[Int(patterns[col])]
                }
            }
        }
    }
}
