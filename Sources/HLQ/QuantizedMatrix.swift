/// A quantized matrix in plain row-major form: each weight's bit pattern, each group's scales and midpoint.
///
/// A weight in group `j` of `row` with pattern `p` stands for
/// `midpoint + Σ_i scale_i * (bit_i(p) - 1/2)`, the form the kernels evaluate (see lut_kernels.h).
/// The paper's zero is `midpoint - Σ_i scale_i / 2`. Parameters are half floats because that is
/// what the packed layout stores, so this form and the kernels reconstruct the very same values.
public struct QuantizedMatrix: Sendable {
    public let rows: Int
    public let cols: Int
    /// Bit planes B, 1...4.
    public let planes: Int
    public let groupSize: Int
    /// [rows][cols]; bit i of a pattern is plane i.
    public var patterns: [UInt8]
    /// [rows][groupsPerRow][planes]
    public var scales: [Float16]
    /// [rows][groupsPerRow]
    public var midpoints: [Float16]

    public init(rows: Int, cols: Int, planes: Int, groupSize: Int) {
        precondition((1...4).contains(planes), "planes must be 1...4")
        precondition(groupSize >= 32 && groupSize % 32 == 0 && groupSize <= 1024,
                     "group size must be a multiple of 32 up to 1024")
        self.rows = rows
        self.cols = cols
        self.planes = planes
        self.groupSize = groupSize
        let groups = (cols + groupSize - 1) / groupSize
        patterns = [UInt8](repeating: 0, count: rows * cols)
        scales = [Float16](repeating: 0, count: rows * groups * planes)
        midpoints = [Float16](repeating: 0, count: rows * groups)
    }

    /// Groups in a row; the last may be shorter than `groupSize`.
    public var groupsPerRow: Int { (cols + groupSize - 1) / groupSize }

    /// The grid value a pattern stands for in one group.
    @inlinable
    public func value(row: Int, group: Int, pattern: UInt8) -> Float {
        let g = row * groupsPerRow + group
        var v = Float(midpoints[g])
        for i in 0..<planes {
            let s = Float(scales[g * planes + i])
            v += (pattern >> i) & 1 == 1 ? 0.5 * s : -0.5 * s
        }
        return v
    }

    /// The float matrix this quantization stands for, [rows][cols]: the exact reference for the kernels.
    public func dequantized() -> [Float] {
        var out = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for c in 0..<cols {
                out[r * cols + c] = value(row: r, group: c / groupSize, pattern: patterns[r * cols + c])
            }
        }
        return out
    }
}

extension QuantizedMatrix {
    /// Σ (w - ŵ)² and Σ w² over the matrix, for relative errors without materialising ŵ.
    public func squaredError(against weights: UnsafeBufferPointer<Float>) -> (error: Double, energy: Double) {
        precondition(weights.count == rows * cols)
        var error = 0.0, energy = 0.0
        for row in 0..<rows {
            for group in 0..<groupsPerRow {
                let g = row * groupsPerRow + group
                var scales = SIMD4<Float>.zero
                for i in 0..<planes { scales[i] = Float(self.scales[g * planes + i]) }
                let grid = GroupGrid(planes: planes, scales: scales, midpoint: Float(midpoints[g]))
                let begin = row * cols + group * groupSize
                var groupError: Float = 0, groupEnergy: Float = 0
                for k in begin..<(begin + min(groupSize, cols - group * groupSize)) {
                    let d = weights[k] - grid.values[Int(patterns[k])]
                    groupError += d * d
                    groupEnergy += weights[k] * weights[k]
                }
                error += Double(groupError)
                energy += Double(groupEnergy)
            }
        }
        return (error, energy)
    }
}
