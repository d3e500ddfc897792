/// A small symmetric positive semi-definite system `matrix · x = rhs` (at most 8 unknowns).
///
/// Groups can make it singular: a plane no weight uses, a plane every weight uses (then it is
/// indistinguishable from the zero), or all-equal weights. Such unknowns cannot be determined by the
/// data, so they keep their previous value and the rest are solved exactly.
struct NormalEquations {
    let size: Int
    var matrix = SIMD64<Double>.zero  // row-major size × size
    var rhs = SIMD8<Double>.zero

    init(size: Int) {
        precondition(size <= 8)
        self.size = size
    }

    /// Solves by Cholesky over the unknowns that the data determines; an unknown whose pivot
    /// vanishes is fixed at `fallback` and the factorisation restarts without it.
    func solve(fallback: SIMD8<Double>) -> SIMD8<Double> {
        var active = [Bool](repeating: true, count: size)
        var scale = 0.0
        for a in 0..<size { scale = max(scale, matrix[a * size + a]) }
        let tolerance = max(scale, 1) * 1e-9
        while true {
            let unknowns = (0..<size).filter { active[$0] }
            if unknowns.isEmpty { return fallback }
            let m = unknowns.count
            // Reduced system with the fixed unknowns moved to the right-hand side.
            var a = SIMD64<Double>.zero, b = SIMD8<Double>.zero
            for (r, i) in unknowns.enumerated() {
                b[r] = rhs[i]
                for k in 0..<size where !active[k] { b[r] -= matrix[i * size + k] * fallback[k] }
                for (c, j) in unknowns.enumerated() { a[r * m + c] = matrix[i * size + j] }
            }
            // In-place Cholesky, lower triangle.
            var dropped: Int?
            for c in 0..<m where dropped == nil {
                var pivot = a[c * m + c]
                for k in 0..<c { pivot -= a[c * m + k] * a[c * m + k] }
                if pivot <= tolerance {
                    dropped = unknowns[c]
                    break
                }
                let root = pivot.squareRoot()
                a[c * m + c] = root
                for r in (c + 1)..<m {
                    var v = a[r * m + c]
                    for k in 0..<c { v -= a[r * m + k] * a[c * m + k] }
                    a[r * m + c] = v / root
                }
            }
            if let dropped {
                active[dropped] = false
                continue
            }
            // Forward then back substitution.
            var y = SIMD8<Double>.zero
            for r in 0..<m {
                var v = b[r]
                for k in 0..<r { v -= a[r * m + k] * y[k] }
                y[r] = v / a[r * m + r]
            }
            var x = SIMD8<Double>.zero
            for r in stride(from: m - 1, through: 0, by: -1) {
                var v = y[r]
                for k in (r + 1)..<m { v -= a[k * m + r] * x[k] }
                x[r] = v / a[r * m + r]
            }
            var solution = fallback
            for (r, i) in unknowns.enumerated() { solution[i] = x[r] }
            return solution
        }
    }
}
