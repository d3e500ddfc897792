import HLQ
import Parallel
import Testing
import TestSupport

/// Act-order: columns are processed by decreasing diag(H), while groups stay contiguous in the
/// stored (original) order.
@Suite struct GPTQActOrderTests {
    /// When the diagonal already decreases, act-order is the identity permutation.
    @Test(arguments: QuantizationMethod.allCases)
    func sortedDiagonalGivesTheSameResult(method: QuantizationMethod) {
        var layer = SyntheticLayer(rows: 16, cols: 320, seed: 21)
        // Scale input column c by a factor that makes diag(H) strictly decreasing: D H D.
        let n = layer.cols
        let diagonal = (0..<n).map { layer.hessian.values[$0 * n + $0] }
        let scale = (0..<n).map { c in (Float(n - c) / diagonal[c]).squareRoot() }
        for i in 0..<n { for j in 0..<n { layer.hessian.values[i * n + j] *= scale[i] * scale[j] } }
        let plain = layer.gptq(GPTQOptions(planes: 2, groupSize: 64, method: method))
        let actOrder = layer.gptq(GPTQOptions(planes: 2, groupSize: 64, method: method, actOrder: true))
        #expect(identical(plain, actOrder))
    }

    /// Shuffling columns within their groups (so every group keeps its members) and quantizing the
    /// shuffled layer with act-order gives the same processing order, so the same parameters and
    /// the same patterns, stored at the shuffled columns: the permutation is undone correctly.
    @Test(arguments: QuantizationMethod.allCases)
    func permutationWithinGroupsRoundTrips(method: QuantizationMethod) {
        let layer = SyntheticLayer(rows: 12, cols: 576, seed: 22)
        let (n, groupSize) = (layer.cols, 128)
        var random = SeededRandom(seed: 23)
        // shuffled column k holds original column source[k]; the last group is short (64).
        var source = Array(0..<n)
        for g in stride(from: 0, to: n, by: groupSize) {
            source[g..<min(g + groupSize, n)].shuffle(using: &random)
        }
        var shuffled = layer
        for r in 0..<layer.rows { for k in 0..<n { shuffled.weights[r * n + k] = layer.weights[r * n + source[k]] } }
        for i in 0..<n { for j in 0..<n { shuffled.hessian.values[i * n + j] = layer.hessian.values[source[i] * n + source[j]] } }

        let options = GPTQOptions(planes: 3, groupSize: groupSize, method: method, actOrder: true)
        let q = layer.gptq(options), p = shuffled.gptq(options)
        #expect(q.scales == p.scales && q.midpoints == p.midpoints)
        let original = q.dequantized(), permuted = p.dequantized()
        var columnsMatch = true
        for r in 0..<layer.rows {
            for k in 0..<n where p.patterns[r * n + k] != q.patterns[r * n + source[k]]
                || permuted[r * n + k] != original[r * n + source[k]] { columnsMatch = false }
        }
        #expect(columnsMatch)
    }

    @Test(arguments: [2, 3, 4])
    func actOrderBeatsRoundingToNearest(planes: Int) {
        let layer = SyntheticLayer(rows: 32, cols: 576, seed: UInt64(30 + planes))
        let q = layer.gptq(GPTQOptions(planes: planes, groupSize: 128, method: .hlq, actOrder: true))
        #expect(layer.objective(q) < layer.objective(layer.rtn(planes: planes, method: .hlq)))
    }
}
