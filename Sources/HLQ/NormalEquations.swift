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
        var scale = 0.0
        for a in 0..<size { scale = max(scale, matrix[a * size + a]) }
        let tolerance = max(scale, 1) * 1e-9
        var active: UInt8 = size == 8 ? 0xFF : (1 << UInt8(size)) - 1  // bit i: unknown i is solved for
        while active != 0 {
            // The active unknowns, in order; fixed ones move to the right-hand side.
            var unknowns = SIMD8<Int32>.zero
            var m = 0
            for i in 0..<size where active & (1 << UInt8(i)) != 0 {
                unknowns[m] = Int32(i)
                m += 1
            }
            var a = SIMD64<Double>.zero, b = SIMD8<Double>.zero
            for r in 0..<m {
                let i = Int(unknowns[r])
                b[r] = rhs[i]
                for k in 0..<size where active & (1 << UInt8(k)) == 0 { b[r] -= matrix[i * size + k] * fallback[k] }
                for c in 0..<m { a[r * m + c] = matrix[i * size + Int(unknowns[c])] }
            }
            // In-place Cholesky, lower triangle.
            var dropped = -1
            for c in 0..<m {
                var pivot = a[c * m + c]
                for k in 0..<c { pivot -= a[c * m + k] * a[c * m + k] }
                if pivot <= tolerance {
                    dropped = Int(unknowns[c])
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
            if dropped >= 0 {
                active &= ~(1 << UInt8(dropped))
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
            for r in 0..<m { solution[Int(unknowns[r])] = x[r] }
            return solution
        }
        return fallback
    }
}
