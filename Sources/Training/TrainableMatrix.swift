import HLQ

/// An HLQ matrix as finetuning sees it: fixed bit patterns and trainable float scales and midpoints.
///
/// A weight of group `j` in `row` with pattern `p` is `m + Σ_i s_i · (bit_i(p) − ½)`, the form the
/// kernels evaluate. Every weight is linear in its group's `(s_0 … s_{B−1}, m)`, so the gradient of
/// a parameter is a sum of weight gradients over the group, each weighted by `bit_i − ½` (or 1 for
/// the midpoint): no straight-through estimator is needed.
public struct TrainableMatrix: Sendable {
    public let rows: Int
    public let cols: Int
    public let planes: Int
    public let groupSize: Int
    /// [rows][cols]; bit i of a pattern is plane i. Never changed by training.
    public let patterns: [UInt8]
    /// [rows][groupsPerRow][planes + 1]: s_0 … s_{B−1}, then m.
    public var parameters: [Float]

    /// Groups in a row; the last may be shorter than `groupSize`.
    public var groupsPerRow: Int { (cols + groupSize - 1) / groupSize }
    /// Floats per group in `parameters`.
    public var parametersPerGroup: Int { planes + 1 }

    /// The trainable form of a quantized matrix, its half-float parameters widened to float.
    public init(_ q: QuantizedMatrix) {
        rows = q.rows
        cols = q.cols
        planes = q.planes
        groupSize = q.groupSize
        patterns = q.patterns
        let groups = q.rows * q.groupsPerRow
        var parameters = [Float](repeating: 0, count: groups * (q.planes + 1))
        for g in 0..<groups {
            for i in 0..<q.planes { parameters[g * (q.planes + 1) + i] = Float(q.scales[g * q.planes + i]) }
            parameters[g * (q.planes + 1) + q.planes] = Float(q.midpoints[g])
        }
        self.parameters = parameters
    }

    /// Each group's size, the mean magnitude of its plane scales, as the unit of its parameters'
    /// steps. A group whose scales are all 0 takes the matrix's mean size.
    public var stepSizes: StepSizes {
        let per = parametersPerGroup, groups = rows * groupsPerRow
        var sizes = [Float](repeating: 0, count: groups)
        for g in 0..<groups {
            sizes[g] = (0..<planes).reduce(Float(0)) { $0 + abs(parameters[g * per + $1]) } / Float(planes)
        }
        let sized = sizes.filter { $0 > 0 }
        let fallback = sized.isEmpty ? 1 : sized.reduce(0, +) / Float(sized.count)
        return StepSizes(values: sizes.map { $0 > 0 ? $0 : fallback }, stride: per)
    }

    /// The matrix as a model file stores it: the parameters rounded to half floats.
    public var quantized: QuantizedMatrix {
        var q = QuantizedMatrix(rows: rows, cols: cols, planes: planes, groupSize: groupSize)
        q.patterns = patterns
        let per = parametersPerGroup
        for g in 0..<(rows * groupsPerRow) {
            for i in 0..<planes { q.scales[g * planes + i] = Float16(parameters[g * per + i]) }
            q.midpoints[g] = Float16(parameters[g * per + planes])
        }
        return q
    }

    /// Rounds the parameters to the half floats a file stores, so that what training measures
    /// afterwards is what the saved model computes.
    public mutating func roundToStored() {
        for i in parameters.indices { parameters[i] = Float(Float16(parameters[i])) }
    }

    /// Writes the dense weights of `rows` into `out`, row r at `out + (r - rows.lowerBound) * ldo`.
    public func dequantize(rows range: Range<Int>, into out: UnsafeMutablePointer<Float>, ldo: Int) {
        let per = parametersPerGroup
        var grid = [Float](repeating: 0, count: 1 << planes)
        parameters.withUnsafeBufferPointer { parameters in
            patterns.withUnsafeBufferPointer { patterns in
                for r in range {
                    let outRow = out + (r - range.lowerBound) * ldo
                    for group in 0..<groupsPerRow {
                        let p = parameters.baseAddress! + (r * groupsPerRow + group) * per
                        for pattern in grid.indices {
                            var v = p[planes]
                            for i in 0..<planes { v += (pattern >> i) & 1 == 1 ? 0.5 * p[i] : -0.5 * p[i] }
                            grid[pattern] = v
                        }
                        for c in (group * groupSize)..<min(cols, (group + 1) * groupSize) {
                            outRow[c] = grid[Int(patterns[r * cols + c])]
                        }
                    }
                }
            }
        }
    }

    /// Adds to `gradient` (laid out as `parameters`) the parameter gradients implied by the weight
    /// gradients of `rows`, `weightGradient[(r - rows.lowerBound) * ldg + c]`: for each group, the
    /// weight gradients are first summed per pattern, then each plane's scale takes the patterns
    /// with its bit set minus those without, halved, and the midpoint takes them all.
    public func accumulateGradient(rows range: Range<Int>, weightGradient: UnsafePointer<Float>, ldg: Int,
                                   into gradient: UnsafeMutablePointer<Float>) {
        let per = parametersPerGroup
        var sums = [Float](repeating: 0, count: 1 << planes)
        patterns.withUnsafeBufferPointer { patterns in
            for r in range {
                let row = weightGradient + (r - range.lowerBound) * ldg
                for group in 0..<groupsPerRow {
                    for p in sums.indices { sums[p] = 0 }
                    for c in (group * groupSize)..<min(cols, (group + 1) * groupSize) {
                        sums[Int(patterns[r * cols + c])] += row[c]
                    }
                    let g = gradient + (r * groupsPerRow + group) * per
                    var total: Float = 0
                    for (pattern, sum) in sums.enumerated() {
                        total += sum
                        for i in 0..<planes { g[i] += (pattern >> i) & 1 == 1 ? 0.5 * sum : -0.5 * sum }
                    }
                    g[planes] += total
                }
            }
        }
    }
}
