/// The 2^B values one group can take, sorted, with the midpoints between neighbours for nearest-value search.
///
/// Nearest assignment is the inner loop of the fit, so it is a count of thresholds below a weight
/// over at most 15 sorted thresholds, with no division and no table of distances.
struct GroupGrid {
    let planes: Int
    /// Grid value of each pattern (zero past 2^B).
    let values: SIMD16<Float>
    /// Patterns in increasing order of value.
    private let order: SIMD16<UInt8>
    /// thresholds[k] lies between the k-th and (k+1)-th smallest values; +inf past the last.
    private let thresholds: SIMD16<Float>

    /// The grid of `midpoint + Σ_i scales[i] * (bit_i(p) - 1/2)`.
    ///
    /// Built in plain memory: indexing a SIMD vector by a variable spills the whole vector.
    init(planes: Int, scales: SIMD4<Float>, midpoint: Float) {
        self.planes = planes
        let count = 1 << planes
        (values, order, thresholds) = withUnsafeTemporaryAllocation(of: Float.self, capacity: 32) { floats in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { order in
                let values = floats.baseAddress!, thresholds = values + 16
                for p in 0..<16 {
                    var v: Float = 0
                    if p < count {
                        v = midpoint
                        for i in 0..<planes { v += (p >> i) & 1 == 1 ? 0.5 * scales[i] : -0.5 * scales[i] }
                    }
                    values[p] = v
                    order[p] = UInt8(p)
                    thresholds[p] = .infinity
                }
                // Insertion sort of at most 16 patterns by value; ties keep the lower pattern first.
                for a in 1..<count {
                    var b = a
                    while b > 0 && values[Int(order[b - 1])] > values[Int(order[b])] {
                        order.swapAt(b - 1, b)
                        b -= 1
                    }
                }
                for k in 0..<(count - 1) {
                    thresholds[k] = 0.5 * (values[Int(order[k])] + values[Int(order[k + 1])])
                }
                return (UnsafeRawPointer(values).loadUnaligned(as: SIMD16<Float>.self),
                        UnsafeRawPointer(order.baseAddress!).loadUnaligned(as: SIMD16<UInt8>.self),
                        UnsafeRawPointer(thresholds).loadUnaligned(as: SIMD16<Float>.self))
            }
        }
    }

    /// The pattern whose value is nearest to `w`, and that value.
    @inline(__always)
    func nearest(_ w: Float) -> (pattern: UInt8, value: Float) {
        withTables { values, order, thresholds in
            let p = order[Self.rank(w, thresholds, planes)]
            return (p, values[Int(p)])
        }
    }

    /// How many thresholds lie below `w`, four at a time: one compare for B <= 2, two for B = 3,
    /// four for B = 4 (thresholds past the last are +inf), with no data-dependent branch.
    @inline(__always)
    private static func rank(_ w: Float, _ thresholds: UnsafePointer<Float>, _ planes: Int) -> Int {
        let x = SIMD4<Float>(repeating: w)
        var below = SIMD4<Int32>.zero
        var chunk = 0
        repeat {
            let t = UnsafeRawPointer(thresholds + 4 * chunk).loadUnaligned(as: SIMD4<Float>.self)
            below &+= SIMD4<Int32>.zero.replacing(with: 1, where: x .> t)
            chunk &+= 1
        } while chunk < (1 << planes) >> 2
        return Int(below.wrappedSum())
    }

    /// The grid's tables as plain memory: indexing a SIMD vector by a variable spills it whole.
    @inline(__always)
    private func withTables<T>(_ body: (UnsafePointer<Float>, UnsafePointer<UInt8>, UnsafePointer<Float>) -> T) -> T {
        withUnsafeBytes(of: values) { values in
            withUnsafeBytes(of: order) { order in
                withUnsafeBytes(of: thresholds) { thresholds in
                    body(values.baseAddress!.assumingMemoryBound(to: Float.self),
                         order.baseAddress!.assumingMemoryBound(to: UInt8.self),
                         thresholds.baseAddress!.assumingMemoryBound(to: Float.self))
                }
            }
        }
    }

    /// Assigns every weight its nearest pattern and returns the summed squared error, each weight's
    /// term multiplied by its `importance` when given (GPTQ's cost of an error in that column).
    ///
    /// With `statistics` (32 Doubles), also returns per pattern p the (importance-weighted) count in
    /// statistics[p] and weight sum in statistics[16 + p]: all the least-squares step needs, so
    /// the fit passes over its weights once per iteration.
    func assign(_ weights: UnsafeBufferPointer<Float>, importance: UnsafeBufferPointer<Float>? = nil,
                into patterns: UnsafeMutableBufferPointer<UInt8>,
                statistics: UnsafeMutablePointer<Double>? = nil) -> Double {
        statistics?.initialize(repeating: 0, count: 32)
        return withTables { values, order, thresholds in
            var error: Double = 0
            for k in 0..<weights.count {
                let p = Int(order[Self.rank(weights[k], thresholds, planes)])
                patterns[k] = UInt8(p)
                let d = weights[k] - values[p]
                let h = importance.map { Double($0[k]) } ?? 1
                error += Double(d * d) * h
                if let statistics {
                    statistics[p] += h
                    statistics[16 + p] += h * Double(weights[k])
                }
            }
            return error
        }
    }
}
