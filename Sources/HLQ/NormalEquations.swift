/// Solves a symmetric positive semi-definite system `matrix · x = rhs`: the group fit's (B + 1
/// unknowns) and the refit's (groups × (B + 1) unknowns).
///
/// Groups can make it singular: a plane no weight uses, a plane every weight uses (then it is
/// indistinguishable from the zero), or all-equal weights. Such unknowns cannot be determined by the
/// data, so they keep their previous value and the rest are solved exactly.
enum NormalEquations {
    /// `matrix` is row-major size × size; an unknown the data does not determine is fixed at its
    /// `fallback` value.
    ///
    /// Cholesky over the unknowns the data determines: an unknown whose pivot vanishes is fixed at
    /// `fallback`, its column is left out of the factor, and the factorisation goes on without it
    /// (the columns before it never involve it, so nothing needs redoing). The fixed unknowns then
    /// move to the right-hand side.
    static func solve(size: Int, matrix: UnsafePointer<Double>, rhs: UnsafePointer<Double>,
                      fallback: UnsafePointer<Double>, into solution: UnsafeMutablePointer<Double>) {
        var scale = 0.0
        for a in 0..<size { scale = max(scale, matrix[a * size + a]) }
        let tolerance = max(scale, 1) * 1e-9
        withUnsafeTemporaryAllocation(of: Double.self, capacity: size * size + 2 * size) { scratch in
            let factor = scratch.baseAddress!  // lower triangle, row-major size × size
            let y = factor + size * size
            let active = y + size  // 1 for a determined unknown, 0 for a fixed one
            for c in 0..<size {
                var pivot = matrix[c * size + c]
                for k in 0..<c where active[k] != 0 { pivot -= factor[c * size + k] * factor[c * size + k] }
                if pivot <= tolerance {
                    active[c] = 0
                    continue
                }
                active[c] = 1
                let root = pivot.squareRoot()
                factor[c * size + c] = root
                for r in (c + 1)..<size {
                    var v = matrix[r * size + c]
                    for k in 0..<c where active[k] != 0 { v -= factor[r * size + k] * factor[c * size + k] }
                    factor[r * size + c] = v / root
                }
            }
            // Forward substitution, with the fixed unknowns moved to the right-hand side.
            for r in 0..<size where active[r] != 0 {
                var v = rhs[r]
                for k in 0..<size where active[k] == 0 { v -= matrix[r * size + k] * fallback[k] }
                for k in 0..<r where active[k] != 0 { v -= factor[r * size + k] * y[k] }
                y[r] = v / factor[r * size + r]
            }
            // Back substitution.
            for r in stride(from: size - 1, through: 0, by: -1) {
                guard active[r] != 0 else {
                    solution[r] = fallback[r]
                    continue
                }
                var v = y[r]
                for k in (r + 1)..<size where active[k] != 0 { v -= factor[k * size + r] * solution[k] }
                solution[r] = v / factor[r * size + r]
            }
        }
    }
}
