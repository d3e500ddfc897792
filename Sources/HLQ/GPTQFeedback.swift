import Parallel

/// What GPTQ needs from the Hessian, in the order columns are quantized: how each column's
/// rounding error moves the columns after it, and what an error in each column costs.
///
/// This is GPTQ's upper Cholesky factor U of H⁻¹ (H⁻¹ = UᵀU). After column c is rounded to q, the
/// later weights move by −err · U[c][j], err = (w_c − q) / U_cc, and that leaves every column not yet
/// quantized at its optimum given the errors so far; those moved weights are the "current" weights
/// a group's grid is fitted to. The column's rounding adds (w_c − q)² / U_cc² to the objective.
///
/// U is found without forming H⁻¹. With H = R Rᵀ, R upper triangular, U = R⁻¹; and R is the lower
/// Cholesky factor L of H with its column order reversed, reversed back (R_jc = L[n-1-j][n-1-c]).
/// So U_jc = L⁻¹[n-1-j][n-1-c]: one Cholesky factorisation and one triangular inverse, both blocked
/// onto the float GEMM, against GPTQ's three factorisations.
///
/// Columns whose diagonal is zero never see any input ("dead"); as in GPTQ their diagonal becomes 1
/// and their weights 0, so they neither disturb the factorisation nor the group fits. The diagonal
/// is dampened by `dampening · mean(diag H)`; if the factorisation still fails (a Hessian that is
/// not positive semi-definite, or badly rounded), the dampening is raised tenfold, up to four times,
/// and after that the off-diagonal is dropped, which leaves rounding without feedback.
struct GPTQFeedback {
    let cols: Int
    /// Columns per lazy batch.
    let blockSize: Int
    /// `order[p]` is the original column quantized at position p.
    let order: [Int]
    /// Whether an original column is dead.
    let dead: [Bool]
    /// 1 / U_pp by position: a rounding error at p, times this, is the `err` that moves later columns.
    let errorScales: [Float]
    /// 1 / U_pp² by position: the cost of a unit rounding error at p.
    let errorWeights: [Float]
    /// For each block of positions [s, s + length), a [cols − s][length] panel whose row c − s holds
    /// −U[j][c] for j in the block (zero unless j < c): current target of c = its target at the
    /// block's start + Σ_j panel[c − s][j − s] err_j. The first `length` rows serve the block itself;
    /// the rest are the lazy update of every later column, one GEMM.
    private let panels: [Float]
    private let panelOffsets: [Int]

    init(hessian: Hessian, dampening: Double, actOrder: Bool, blockSize: Int, pool: ThreadPool) {
        let n = hessian.cols
        self.cols = n
        self.blockSize = blockSize
        let h = hessian.values
        let diagonal = (0..<n).map { h[$0 * n + $0] }
        let dead = diagonal.map { $0 == 0 }
        self.dead = dead
        // Act-order: the columns with the most input energy first, while the most other columns
        // remain to absorb their errors. Ties keep the original order.
        let order = actOrder ? (0..<n).sorted { diagonal[$0] > diagonal[$1] || (diagonal[$0] == diagonal[$1] && $0 < $1) }
                             : Array(0..<n)
        self.order = order
        let meanDiagonal = zip(diagonal, dead).reduce(0.0) { $0 + ($1.1 ? 1 : Double($1.0)) } / Double(n)

        // L: the Cholesky factor of the permuted, dampened Hessian with its order reversed.
        var factor = [Float](repeating: 0, count: n * n)
        var inverse: [Float]?
        var damp = dampening
        factor.withUnsafeMutableBufferPointer { factor in
            let l = factor.baseAddress!
            for attempt in 0..<5 {
                if attempt > 0 { damp *= 10 }
                let added = Float(damp * meanDiagonal)
                pool.run { participant in
                    for a in LowerTriangle.share(rows: n, participant: participant, participants: pool.threadCount) {
                        let i = order[n - 1 - a]
                        for b in 0..<a {
                            let j = order[n - 1 - b]
                            l[a * n + b] = dead[i] || dead[j] ? 0 : h[i * n + j]
                        }
                        l[a * n + a] = (dead[i] ? 1 : h[i * n + i]) + added
                    }
                }
                inverse = HessianCholesky.factorAndInvert(l, n: n, pool: pool)
                if inverse != nil { return }
            }
            var diagonalInverse = [Float](repeating: 0, count: n * n)
            for a in 0..<n {
                let i = order[n - 1 - a]
                for b in 0..<a { l[a * n + b] = 0 }
                l[a * n + a] = ((dead[i] ? 1 : max(h[i * n + i], 0)) + Float(damp * meanDiagonal)).squareRoot()
                diagonalInverse[a * n + a] = 1 / l[a * n + a]
            }
            inverse = diagonalInverse
        }
        // 1 / U_pp = L[n-1-p][n-1-p].
        errorScales = (0..<n).map { factor[(n - 1 - $0) * (n + 1)] }
        errorWeights = errorScales.map { $0 * $0 }

        var offsets = [Int]()
        var total = 0
        for s in stride(from: 0, to: n, by: blockSize) {
            offsets.append(total)
            total += (n - s) * min(blockSize, n - s)
        }
        panelOffsets = offsets
        var panels = [Float](repeating: 0, count: total)
        panels.withUnsafeMutableBufferPointer { panels in
            inverse!.withUnsafeBufferPointer { inverse in
                // −U[j][c] = −L⁻¹[n-1-j][n-1-c] = −inverse[n-1-c][n-1-j]: for a fixed c, a run of
                // inverse's row n-1-c read backwards.
                pool.run { participant in
                    for c in LowerTriangle.share(rows: n, participant: participant, participants: pool.threadCount) {
                        let source = inverse.baseAddress! + (n - 1 - c) * n + (n - 1)
                        for block in 0...(c / blockSize) {
                            let s = block * blockSize, length = min(blockSize, n - s)
                            let row = panels.baseAddress! + offsets[block] + (c - s) * length
                            for j in s..<min(s + length, c) { row[j - s] = -source[-j] }
                        }
                    }
                }
            }
        }
        self.panels = panels
    }

    /// Number of lazy batches.
    var blockCount: Int { panelOffsets.count }

    /// Calls `body` with the panel of a block, its first position and its length.
    func withPanel<T>(_ block: Int, _ body: (UnsafePointer<Float>, _ start: Int, _ length: Int) -> T) -> T {
        let start = block * blockSize
        return panels.withUnsafeBufferPointer {
            body($0.baseAddress! + panelOffsets[block], start, min(blockSize, cols - start))
        }
    }
}
