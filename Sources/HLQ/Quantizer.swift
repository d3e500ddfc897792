import Parallel

/// Fits every group of a row-major float matrix with HLQ or the uniform baseline.
public enum Quantizer {
    /// Quantizes `weights` ([rows][cols]) group by group, in parallel over rows.
    ///
    /// Groups are independent, so the result is the same bytes whatever the thread count.
    ///
    /// HLQ groups keep 0 on their grid (see `HLQFit`): without data to feed an error forward, the
    /// weights near 0 must stay exactly 0.
    public static func quantize(_ weights: UnsafeBufferPointer<Float>, rows: Int, cols: Int,
                                planes: Int, groupSize: Int, method: QuantizationMethod, pool: ThreadPool) -> QuantizedMatrix {
        precondition(weights.count == rows * cols, "weights must hold rows * cols values")
        var result = QuantizedMatrix(rows: rows, cols: cols, planes: planes, groupSize: groupSize)
        let groups = result.groupsPerRow
        result.patterns.withUnsafeMutableBufferPointer { patterns in
            result.scales.withUnsafeMutableBufferPointer { scales in
                result.midpoints.withUnsafeMutableBufferPointer { midpoints in
                    pool.parallelFor(rows) { rowRange in
                        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: groupSize) { scratch in
                            for row in rowRange {
                                for group in 0..<groups {
                                    let begin = row * cols + group * groupSize
                                    let count = min(groupSize, cols - group * groupSize)
                                    let slice = UnsafeBufferPointer(rebasing: weights[begin..<(begin + count)])
                                    let scratchSlice = UnsafeMutableBufferPointer(rebasing: scratch[0..<count])
                                    let parameters: GroupParameters
                                    switch method {
                                    case .hlq:
                                        parameters = HLQFit.parameters(slice, planes: planes, keepingZero: true, scratch: scratchSlice)
                                    case .uniform: parameters = UniformFit.parameters(slice, planes: planes)
                                    }
                                    let target = UnsafeMutableBufferPointer(rebasing: patterns[begin..<(begin + count)])
                                    _ = parameters.grid(planes: planes).assign(slice, into: target)
                                    let g = row * groups + group
                                    for i in 0..<planes { scales[g * planes + i] = Float16(parameters.scales[i]) }
                                    midpoints[g] = Float16(parameters.midpoint)
                                }
                            }
                        }
                    }
                }
            }
        }
        return result
    }
}
