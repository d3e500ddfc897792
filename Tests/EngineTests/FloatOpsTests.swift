import Engine
import Foundation
import Testing
import TestSupport

/// The transformer's small float operations against plain loops in double precision.
@Suite struct FloatOpsTests {
    /// Softmax over scores spread across the whole range of e^x (down to the smallest normal
    /// float), each within a few ulp of double precision (below the normal range, where a float's
    /// spacing is fixed, within one spacing); masked scores (-infinity) give exactly 0.
    @Test func softmaxAcrossTheExponentialsRange() {
        var random = SeededRandom(seed: 7)
        var x: [Float] = (0..<4099).map { _ in Float.random(in: -87...0, using: &random) }
        x += [0, -.infinity, -1000]
        var y = x
        FloatOps.softmax(&y, count: x.count)
        let sum = x.reduce(0.0) { $0 + Foundation.exp(Double($1)) }
        for i in 0..<(x.count - 2) {
            let exact = Foundation.exp(Double(x[i])) / sum
            #expect(abs(Double(y[i]) - exact) <= 4e-7 * exact + Double(Float.leastNonzeroMagnitude),
                    "softmax entry \(i) at \(x[i])")
        }
        #expect(y[x.count - 2] == 0 && y[x.count - 1] == 0)
    }

    /// Softmax and its log-sum-exp against double precision, at lengths with and without a tail.
    @Test(arguments: [1, 5, 16, 37, 49152])
    func softmaxMatchesDouble(count: Int) {
        var random = SeededRandom(seed: UInt64(count))
        let x = (0..<count).map { _ in 4 * random.normal() }
        var y = x
        let logSum = FloatOps.softmax(&y, count: count)
        let largest = Double(x.max()!)
        let sum = x.reduce(0.0) { $0 + Foundation.exp(Double($1) - largest) }
        #expect(abs(Double(logSum) - (Foundation.log(sum) + largest)) <= 1e-5 * max(1, abs(largest)))
        for i in 0..<count {
            let exact = Foundation.exp(Double(x[i]) - largest) / sum
            #expect(abs(Double(y[i]) - exact) <= 1e-5 * exact + 1e-12, "entry \(i)")
        }
    }

    /// SwiGLU against double precision, with a tail and with large gates of both signs.
    @Test func swigluMatchesDouble() {
        var random = SeededRandom(seed: 3)
        let count = 37
        var gate = (0..<count).map { _ in 8 * random.normal() }
        gate[0] = 100; gate[1] = -100
        let up = (0..<count).map { _ in random.normal() }
        var out = gate
        FloatOps.swiglu(&out, up, count: count)
        for i in 0..<count {
            let g = Double(gate[i]), exact = g / (1 + Foundation.exp(-g)) * Double(up[i])
            #expect(abs(Double(out[i]) - exact) <= 1e-6 * abs(exact) + 1e-30, "unit \(i)")
        }
    }

    /// Decode attention against double precision: group sizes past the kernel's four heads per
    /// pass, head sizes of one and two 64-wide passes and of a pass narrower than 64 (80, 96), and
    /// one (40) that takes the portable path.
    @Test(arguments: [(1, 64), (3, 64), (6, 128), (2, 80), (4, 96), (5, 40)])
    func decodeAttentionMatchesDouble(heads: Int, headSize: Int) {
        var random = SeededRandom(seed: UInt64(heads * 1000 + headSize))
        let visible = 37, kvStride = headSize * 2 + 3  // another head's columns between positions
        let queries = (0..<(heads * headSize)).map { _ in random.normal() }
        let keys = (0..<(visible * kvStride)).map { _ in random.normal() }
        let values = (0..<(visible * kvStride)).map { _ in random.normal() }
        let scale = 1 / Float(headSize).squareRoot()
        var scratch = [Float](repeating: .nan, count: heads * visible)
        var out = [Float](repeating: .nan, count: heads * headSize)
        DecodeAttention.attend(queries: queries, heads: heads, headSize: headSize, keys: keys, values: values,
                               kvStride: kvStride, visible: visible, scale: scale, scratch: &scratch, into: &out)
        for h in 0..<heads {
            let scores = (0..<visible).map { j in
                Double(scale) * (0..<headSize).reduce(0.0) { $0 + Double(queries[h * headSize + $1]) * Double(keys[j * kvStride + $1]) }
            }
            let top = scores.max()!, weights = scores.map { Foundation.exp($0 - top) }, sum = weights.reduce(0, +)
            for d in 0..<headSize {
                let exact = (0..<visible).reduce(0.0) { $0 + weights[$1] / sum * Double(values[$1 * kvStride + d]) }
                #expect(abs(Double(out[h * headSize + d]) - exact) <= 1e-5, "head \(h), dimension \(d)")
            }
        }
    }
}
