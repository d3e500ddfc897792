/// The 2^B values one group can take, sorted, with the midpoints between neighbours for nearest-value search.
///
/// Nearest assignment is the inner loop of the fit, so it is a count of thresholds below a weight
/// over at most 15 sorted thresholds, with no division and no table of distances.
struct GroupGrid {
    let planes: Int
    /// Grid value of each pattern.
    private(set) var values: SIMD16<Float> = .zero
    /// Patterns in increasing order of value.
    private var order: SIMD16<UInt8> = .zero
    /// thresholds[k] lies between the k-th and (k+1)-th smallest values; +inf past the last.
    private var thresholds = SIMD16<Float>(repeating: .infinity)

    /// The grid of `midpoint + Σ_i scales[i] * (bit_i(p) - 1/2)`.
    init(planes: Int, scales: SIMD4<Float>, midpoint: Float) {
        self.planes = planes
        let count = 1 << planes
        for p in 0..<count {
            var v = midpoint
            for i in 0..<planes { v += (p >> i) & 1 == 1 ? 0.5 * scales[i] : -0.5 * scales[i] }
            values[p] = v
        }
        // Insertion sort of at most 16 patterns by value; ties keep the lower pattern first.
        for p in 0..<count { order[p] = UInt8(p) }
        for a in 1..<count {
            var b = a
            while b > 0 && values[Int(order[b - 1])] > values[Int(order[b])] {
                let swap = order[b - 1]
                order[b - 1] = order[b]
                order[b] = swap
                b -= 1
            }
        }
        for k in 0..<(count - 1) {
            thresholds[k] = 0.5 * (values[Int(order[k])] + values[Int(order[k + 1])])
        }
    }

    /// The pattern whose value is nearest to `w`.
    @inline(__always)
    func nearest(_ w: Float) -> UInt8 {
        var k = 0
        for t in 0..<((1 << planes) - 1) where w > thresholds[t] { k += 1 }
        return order[k]
    }

    /// Assigns every weight its nearest pattern and returns the summed squared error.
    ///
    /// Sixteen weights at a time are compared against each threshold in turn, so the cost is one
    /// vector compare per threshold per sixteen weights.
    func assign(_ weights: UnsafeBufferPointer<Float>, into patterns: UnsafeMutableBufferPointer<UInt8>) -> Double {
        let thresholdCount = (1 << planes) - 1
        var error: Double = 0
        var k = 0
        let raw = UnsafeRawPointer(weights.baseAddress!)
        while k + 16 <= weights.count {
            let w = raw.loadUnaligned(fromByteOffset: k * 4, as: SIMD16<Float>.self)
            var rank = SIMD16<Int32>.zero
            for t in 0..<thresholdCount {
                rank &+= SIMD16<Int32>.zero.replacing(with: 1, where: w .> SIMD16(repeating: thresholds[t]))
            }
            var grid = SIMD16<Float>.zero
            for lane in 0..<16 {
                let p = order[Int(rank[lane])]
                patterns[k + lane] = p
                grid[lane] = values[Int(p)]
            }
            let d = w - grid
            error += Double((d * d).sum())
            k += 16
        }
        while k < weights.count {
            let p = nearest(weights[k])
            patterns[k] = p
            let d = weights[k] - values[Int(p)]
            error += Double(d * d)
            k += 1
        }
        return error
    }
}
