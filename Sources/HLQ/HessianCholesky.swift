import CLUTKernels
import Engine
import Parallel

/// Blocked Cholesky factorisation `A = L Lᵀ` of a float matrix, and the inverse of the factor, for
/// Hessians of a few thousand columns.
///
/// Right-looking over panels of 128 columns. Each panel's diagonal block is factored and inverted
/// in Double (it is small); the panel below it is then one GEMM with that inverse, and the update
/// of the trailing matrix is one GEMM per strip of up to 128 rows, the rows shared out among the
/// threads by area. Almost all of the multiply-adds (n³/6 each for the factor and the inverse) run
/// in the AVX-512 float GEMM, float32 as in the reference GPTQ, which is what makes a 1536-column
/// Hessian take milliseconds.
enum HessianCholesky {
    private static let block = 128

    /// Factors `a` ([n][n], row-major; only the lower triangle is read) in place into `L`, lower
    /// triangular (the upper triangle is left as it was), and returns L⁻¹ transposed:
    /// inverse[c][k] = L⁻¹[k][c], zero for k < c. Returns nil if a pivot is not positive, that is,
    /// if the matrix is not numerically positive definite.
    static func factorAndInvert(_ a: UnsafeMutablePointer<Float>, n: Int, pool: ThreadPool) -> [Float]? {
        let blocks = (n + block - 1) / block
        let diagonalInverses = UnsafeMutablePointer<Float>.allocate(capacity: blocks * block * block)
        defer { diagonalInverses.deallocate() }
        guard factor(a, n: n, pool: pool, diagonalInverses: diagonalInverses) else { return nil }
        return inverseTransposed(a, n: n, pool: pool, diagonalInverses: diagonalInverses)
    }

    /// The factorisation; each diagonal block's inverse L_II⁻¹ goes to `diagonalInverses` (block
    /// after block, width × width each), for the panel below it and for the inverse.
    private static func factor(_ a: UnsafeMutablePointer<Float>, n: Int, pool: ThreadPool,
                               diagonalInverses: UnsafeMutablePointer<Float>) -> Bool {
        let diagonal = UnsafeMutablePointer<Double>.allocate(capacity: block * block)  // L11, in Double
        let panel = UnsafeMutablePointer<Float>.allocate(capacity: n * block)          // L21, [rows below][width]
        defer {
            diagonal.deallocate()
            panel.deallocate()
        }
        for k0 in stride(from: 0, to: n, by: block) {
            let width = min(block, n - k0), k1 = k0 + width, below = n - k1
            // 1. The diagonal block: L11, and L11⁻¹.
            for i in 0..<width {
                for j in 0...i { diagonal[i * width + j] = Double(a[(k0 + i) * n + k0 + j]) }
            }
            guard factorDense(diagonal, n: width) else { return false }
            for i in 0..<width {
                for j in 0...i { a[(k0 + i) * n + k0 + j] = Float(diagonal[i * width + j]) }
            }
            let inverse = diagonalInverses + k0 * block
            invertLower(diagonal, n: width, into: inverse)
            guard below > 0 else { break }
            // 2. The panel: L21 = A21 L11⁻ᵀ, i.e. panel[i][r] = Σ_k L11⁻¹[r][k] A21[i][k].
            pool.parallelFor(below) { rows in
                elutq_f32_gemm(inverse, Int32(width), a + (k1 + rows.lowerBound) * n + k0, Int64(n),
                               Int32(rows.count), panel + rows.lowerBound * width, Int64(width), 0, Int32(width))
                for i in rows {
                    for r in 0..<width { a[(k1 + i) * n + k0 + r] = panel[i * width + r] }
                }
            }
            // 3. The trailing matrix: A22 -= L21 L21ᵀ over its lower triangle, in strips of rows.
            pool.run { participant in
                let rows = LowerTriangle.share(rows: below, participant: participant, participants: pool.threadCount)
                let product = UnsafeMutablePointer<Float>.allocate(capacity: block * below)
                defer { product.deallocate() }
                for i0 in stride(from: rows.lowerBound, to: rows.upperBound, by: block) {
                    let rowCount = min(block, rows.upperBound - i0), colCount = i0 + rowCount
                    // product[i][j] = Σ_k panel[i0 + i][k] panel[j][k] for j < colCount
                    elutq_f32_gemm(panel, Int32(width), panel + i0 * width, Int64(width), Int32(rowCount),
                                   product, Int64(colCount), 0, Int32(colCount))
                    for i in 0..<rowCount {
                        let row = a + (k1 + i0 + i) * n + k1, p = product + i * colCount
                        for j in 0...(i0 + i) { row[j] -= p[j] }
                    }
                }
            }
        }
        return true
    }

    /// X = L⁻¹ for the factor `l`, transposed: xt[c][k] = X[k][c].
    ///
    /// Block row by block row: X[I][I] = L_II⁻¹ and X[I][<I] = −L_II⁻¹ (L[I][<I] X[<I][<I]). X is
    /// kept transposed because the GEMM takes its dot products along rows, and the sum in that
    /// product runs down X's columns. The product is formed in 128-column tiles of X, each only
    /// over its nonzero depth.
    private static func inverseTransposed(_ l: UnsafePointer<Float>, n: Int, pool: ThreadPool,
                                          diagonalInverses: UnsafePointer<Float>) -> [Float] {
        var xt = [Float](repeating: 0, count: n * n)
        let product = UnsafeMutablePointer<Float>.allocate(capacity: n * block)  // [c][i] = (L[I][<I] X)[i][c]
        defer { product.deallocate() }
        xt.withUnsafeMutableBufferPointer { xt in
            let xt = xt.baseAddress!
            for i0 in stride(from: 0, to: n, by: block) {
                let width = min(block, n - i0), inverse = diagonalInverses + i0 * block
                for i in 0..<width {
                    for c in 0...i { xt[(i0 + c) * n + i0 + i] = inverse[i * width + c] }
                }
                guard i0 > 0 else { continue }
                // product[c][i] = Σ_{k in c0..<i0} L[i0 + i][k] X[k][c], tile by tile of columns c; the
                // block's rows are shared out, so every thread does the same work.
                pool.parallelFor(width) { share in
                    let rows = UnsafeMutablePointer<Float>.allocate(capacity: share.count * i0)  // L[i][c0..<i0]
                    defer { rows.deallocate() }
                    for c0 in stride(from: 0, to: i0, by: block) {
                        let c1 = min(c0 + block, i0), depth = i0 - c0
                        for (r, i) in share.enumerated() {
                            for k in 0..<depth { rows[r * depth + k] = l[(i0 + i) * n + c0 + k] }
                        }
                        elutq_f32_gemm(rows, Int32(depth), xt + c0 * n + c0, Int64(n), Int32(c1 - c0),
                                       product + c0 * width + share.lowerBound, Int64(width), 0, Int32(share.count))
                    }
                }
                // X[i0 + i][c] = −Σ_r L_II⁻¹[i][r] product[c][r]
                pool.parallelFor(i0) { columns in
                    elutq_f32_gemm(inverse, Int32(width), product + columns.lowerBound * width, Int64(width),
                                   Int32(columns.count), xt + columns.lowerBound * n + i0, Int64(n), 0, Int32(width))
                    for c in columns {
                        for i in 0..<width { xt[c * n + i0 + i] = -xt[c * n + i0 + i] }
                    }
                }
            }
        }
        return xt
    }

    /// Unblocked Cholesky of a small dense matrix ([n][n], lower triangle) in place.
    private static func factorDense(_ a: UnsafeMutablePointer<Double>, n: Int) -> Bool {
        for c in 0..<n {
            let pivot = a[c * n + c] - dot(a + c * n, a + c * n, c)
            guard pivot > 0, pivot.isFinite else { return false }
            let root = pivot.squareRoot()
            a[c * n + c] = root
            for r in (c + 1)..<n { a[r * n + c] = (a[r * n + c] - dot(a + r * n, a + c * n, c)) / root }
        }
        return true
    }

    /// The inverse of a lower triangular L ([n][n]) as floats, itself lower triangular, by forward
    /// substitution one row at a time: row r of L⁻¹ is (e_r − Σ_{k<r} L[r][k] · row k of L⁻¹) / L[r][r].
    private static func invertLower(_ l: UnsafePointer<Double>, n: Int, into inverse: UnsafeMutablePointer<Float>) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: n * n) { rows in
            let x = rows.baseAddress!
            x.initialize(repeating: 0, count: n * n)
            for r in 0..<n {
                let row = x + r * n
                row[r] = 1
                for k in 0..<r {
                    let factor = l[r * n + k]
                    let source = x + k * n
                    for c in 0...k { row[c] -= factor * source[c] }
                }
                let scale = 1 / l[r * n + r]
                for c in 0...r { row[c] *= scale }
            }
            for i in 0..<(n * n) { inverse[i] = Float(x[i]) }
        }
    }
}
