import CLUTKernels
import Engine

/// One thread's share of the refit: its rows in chunks, each chunk's normal equations assembled
/// from GEMMs over all its rows, then each row's system solved on its own.
struct RefitRows {
    /// The matrix as it was: patterns, and the parameters the refit starts from.
    let current: QuantizedMatrix
    let products: RefitProducts
    let original: UnsafePointer<Float>
    let hessian: UnsafePointer<Float>
    /// Where accepted parameters go.
    let scales: UnsafeMutablePointer<Float16>
    let midpoints: UnsafeMutablePointer<Float16>
    /// Each row's objective before and after.
    let before: UnsafeMutablePointer<Double>
    let after: UnsafeMutablePointer<Double>

    func run(_ share: Range<Int>) {
        let n = current.cols, planes = current.planes, groups = products.groups
        let features = planes + 1, unknowns = groups * features
        // Rows per chunk: 64, or fewer when the systems are large (many small groups).
        let chunk = max(4, min(64, (8 << 20) / (unknowns * unknowns * 8)))
        let residual = UnsafeMutablePointer<Float>.allocate(capacity: chunk * n)
        let product = UnsafeMutablePointer<Float>.allocate(capacity: chunk * n)
        let phi = UnsafeMutablePointer<Float>.allocate(capacity: chunk * features * n)  // [row][feature][col]
        let normal = UnsafeMutablePointer<Double>.allocate(capacity: chunk * unknowns * unknowns)
        let gradient = UnsafeMutablePointer<Double>.allocate(capacity: chunk * unknowns)
        defer {
            residual.deallocate()
            product.deallocate()
            phi.deallocate()
            normal.deallocate()
            gradient.deallocate()
        }

        /// out[b * stride] = Σ_{k in group g} φ_b(k) values[k] for every feature b of chunk row i.
        func reduce(_ values: UnsafePointer<Float>, row i: Int, group g: Int,
                    into out: UnsafeMutablePointer<Double>, stride: Int) {
            let columns = products.range(of: g)
            for b in 0..<features {
                out[b * stride] = Double(dot(values + columns.lowerBound,
                                             phi + (i * features + b) * n + columns.lowerBound, columns.count))
            }
        }

        products.panels.withUnsafeBufferPointer { panels in
            products.rowSums.withUnsafeBufferPointer { rowSums in
                let panels = panels.baseAddress!, rowSums = rowSums.baseAddress!
                for first in stride(from: share.lowerBound, to: share.upperBound, by: chunk) {
                    let rows = first..<min(first + chunk, share.upperBound), count = rows.count
                    // The features: φ_b(k) = bit_b(pattern) − ½ for the planes, 1 for the midpoint.
                    for (i, row) in rows.enumerated() {
                        for b in 0..<features {
                            let f = phi + (i * features + b) * n
                            for k in 0..<n {
                                f[k] = b == planes ? 1 : (current.patterns[row * n + k] >> b) & 1 == 1 ? 0.5 : -0.5
                            }
                        }
                    }
                    // r = w − ŵ and Hr: the objective now, and ΦᵀHr, the right-hand side for the step.
                    LayerObjective.residuals(original: original, quantized: current, hessian: hessian, rows: rows,
                                             residual: residual, product: product)
                    for (i, row) in rows.enumerated() {
                        before[row] = LayerObjective.quadratic(residual + i * n, product + i * n, n)
                        for g in 0..<groups {
                            reduce(product + i * n, row: i, group: g, into: gradient + i * unknowns + g * features,
                                   stride: 1)
                        }
                    }
                    // ΦᵀHΦ, one group g2's columns at a time: each feature of those columns through H's
                    // panel (the shared row sums for the midpoint's), then reduced over every group up to
                    // g2 with each feature. The lower triangle is the mirror image.
                    for g2 in 0..<groups {
                        let columns = products.range(of: g2), end = columns.upperBound
                        for a in 0...planes {
                            let through: UnsafePointer<Float>, stride: Int
                            if a == planes {
                                (through, stride) = (rowSums + g2 * n, 0)
                            } else {
                                elutq_f32_gemm(panels + products.panelOffsets[g2], Int32(columns.count),
                                               phi + a * n + columns.lowerBound, Int64(features * n), Int32(count),
                                               product, Int64(end), 0, Int32(end))
                                (through, stride) = (UnsafePointer(product), end)
                            }
                            for i in 0..<count {
                                for g in 0...g2 {
                                    reduce(through + i * stride, row: i, group: g,
                                           into: normal + (i * unknowns + g * features) * unknowns + g2 * features + a,
                                           stride: unknowns)
                                }
                            }
                        }
                    }
                    for (i, row) in rows.enumerated() {
                        solve(row: row, normal: normal + i * unknowns * unknowns, gradient: gradient + i * unknowns)
                    }
                }
            }
        }
    }

    /// Solves one row's system for the step from its current parameters, rounds, and keeps the
    /// result if the objective goes down.
    private func solve(row: Int, normal a: UnsafeMutablePointer<Double>, gradient g: UnsafeMutablePointer<Double>) {
        let planes = current.planes, features = planes + 1, groups = products.groups
        let m = groups * features
        after[row] = before[row]
        for u in 0..<m {
            for v in 0..<u { a[u * m + v] = a[v * m + u] }  // the lower triangle mirrors the upper
        }
        var scale = 0.0
        for u in 0..<m { scale = max(scale, a[u * m + u]) }
        guard scale > 0, scale.isFinite else { return }
        withUnsafeTemporaryAllocation(of: Double.self, capacity: m * m + 4 * m) { scratch in
            // The system scaled to a unit largest pivot, so the solver's tolerance is relative.
            let scaled = scratch.baseAddress!, rhs = scaled + m * m, zero = rhs + m, step = zero + m, theta = step + m
            for i in 0..<(m * m) { scaled[i] = a[i] / scale }
            for u in 0..<m {
                rhs[u] = g[u] / scale
                zero[u] = 0
            }
            NormalEquations.solve(size: m, matrix: scaled, rhs: rhs, fallback: zero, into: step)
            // θ' rounded to half floats; d = θ' − θ.
            for group in 0..<groups {
                let stored = row * groups + group
                for f in 0..<features {
                    let old = f < planes ? Float(current.scales[stored * planes + f]) : Float(current.midpoints[stored])
                    let new = Float(Float16(Float(Double(old) + step[group * features + f])))
                    guard new.isFinite else { return }
                    theta[group * features + f] = Double(new)
                    step[group * features + f] = Double(new) - Double(old)
                }
            }
            // Objective change: dᵀ(ΦᵀHΦ)d − 2dᵀΦᵀHr.
            var change = 0.0
            for u in 0..<m {
                var au = 0.0
                for v in 0..<m { au += a[u * m + v] * step[v] }
                change += step[u] * (au - 2 * g[u])
            }
            guard change < 0 else { return }
            after[row] = before[row] + change
            for group in 0..<groups {
                let stored = row * groups + group
                for f in 0..<planes { scales[stored * planes + f] = Float16(Float(theta[group * features + f])) }
                midpoints[stored] = Float16(Float(theta[group * features + planes]))
            }
        }
    }
}
