import Parallel

/// The closed-form refit: with every bit pattern fixed, the exact best scales and midpoints for the
/// layer's calibration objective, row by row.
///
/// A row's reconstruction is linear in its parameters: a weight in group G with pattern p is
/// `m_G + Σ_i s_{G,i} (bit_i(p) − ½)`, so ŵ = Φθ with θ the row's groups × (B + 1) parameters and Φ
/// the fixed 0/±½/1 features. The objective (w − Φθ)ᵀ H (w − Φθ) is then a quadratic in θ whose
/// minimum solves (ΦᵀHΦ) θ = ΦᵀHw: at B = 2 and g = 128, 15 unknowns for a 576-column row, 36 for
/// 1536 columns. Unlike the group fit, it sees how the groups' errors interact through H.
///
/// The solution is rounded to the stored half floats, and a row takes it only if its objective,
/// with the rounded parameters, goes down. The change is computed directly from the step d = θ' − θ
/// as dᵀ(ΦᵀHΦ)d − 2dᵀΦᵀH(w − Φθ), never as a difference of two large objectives, so even small gains
/// are judged correctly. Unknowns the patterns cannot determine (a plane no weight in the group
/// uses, say) keep their values.
///
/// Bit patterns are not reassigned: nearest-value reassignment would undo GPTQ's error compensation,
/// and alternating a GPTQ pass on the refitted grids with another refit moved the objective by
/// −0.6% to +1% over three rounds on the tests' synthetic layers, for three times the work.
/// The refit frees the scales, so a uniform grid does not stay uniform.
public enum Refit {
    /// Refits `q` in place against the float `original` ([rows][cols]); returns the layer objective
    /// before (exactly `LayerObjective.error`) and after (before plus the accepted rows' changes).
    @discardableResult
    public static func refit(_ q: inout QuantizedMatrix, original: UnsafeBufferPointer<Float>, hessian: Hessian,
                             pool: ThreadPool) -> (before: Double, after: Double) {
        precondition(original.count == q.rows * q.cols, "original must hold rows * cols values")
        precondition(hessian.cols == q.cols, "the Hessian must have one row and column per weight column")
        let current = q  // read by the threads while they write the new parameters into q
        let products = RefitProducts(hessian: hessian, groupSize: q.groupSize, pool: pool)
        var before = [Double](repeating: 0, count: q.rows)
        var after = [Double](repeating: 0, count: q.rows)
        q.scales.withUnsafeMutableBufferPointer { scales in
            q.midpoints.withUnsafeMutableBufferPointer { midpoints in
                before.withUnsafeMutableBufferPointer { before in
                    after.withUnsafeMutableBufferPointer { after in
                        hessian.values.withUnsafeBufferPointer { h in
                            pool.parallelFor(current.rows) { share in
                                RefitRows(current: current, products: products, original: original.baseAddress!,
                                          hessian: h.baseAddress!, scales: scales.baseAddress!,
                                          midpoints: midpoints.baseAddress!, before: before.baseAddress!,
                                          after: after.baseAddress!).run(share)
                            }
                        }
                    }
                }
            }
        }
        return (before.reduce(0, +), after.reduce(0, +))
    }
}
