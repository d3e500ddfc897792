import Parallel

/// GPTQ for one linear layer with HLQ (or uniform) group grids: every column is rounded only after
/// the errors of the columns before it have been fed forward through the input Hessian.
///
/// Per row, in processing order (original order, or decreasing diag(H) with act-order):
/// - when the first column of a group comes up, the group's grid is fitted to the current weights
///   of all its columns, as moved by every error so far. An HLQ fit minimises Σ_c (w_c − ŵ_c)² / U_cc²,
///   each column's error priced as GPTQ adds it to the objective (see `GPTQFeedback`); optionally
///   the uniform grid is fitted too, and whichever of the two costs less is kept;
/// - each column is rounded to the nearest value of its group's grid, and its error moves all
///   the later columns.
/// ELUTQ's published code fits and rounds a whole group before feeding any error back, so columns
/// in a group cannot compensate each other; feeding back per column is what makes GPTQ work.
/// Groups stay contiguous runs of original columns even with act-order (see `GPTQGroups`).
///
/// Rows are independent once the Hessian is factored, so each thread takes a run of rows through
/// every column without waiting for the others, and the bytes do not depend on the thread count.
public enum GPTQ {
    /// Quantizes `weights` ([rows][cols], rows are outputs) against the Hessian of the layer's inputs.
    public static func quantize(_ weights: UnsafeBufferPointer<Float>, rows: Int, cols: Int, hessian: Hessian,
                                options: GPTQOptions, pool: ThreadPool) -> QuantizedMatrix {
        precondition(weights.count == rows * cols, "weights must hold rows * cols values")
        precondition(hessian.cols == cols, "the Hessian must have one row and column per weight column")
        var result = QuantizedMatrix(rows: rows, cols: cols, planes: options.planes, groupSize: options.groupSize)
        let feedback = GPTQFeedback(hessian: hessian, dampening: options.dampening, actOrder: options.actOrder,
                                    blockSize: options.blockSize, pool: pool)
        let groups = GPTQGroups(order: feedback.order, groupSize: options.groupSize)
        result.patterns.withUnsafeMutableBufferPointer { patterns in
            result.scales.withUnsafeMutableBufferPointer { scales in
                result.midpoints.withUnsafeMutableBufferPointer { midpoints in
                    pool.parallelFor(rows) { share in
                        GPTQRows(rows: share, weights: weights.baseAddress!, feedback: feedback, groups: groups,
                                 options: options, patterns: patterns.baseAddress!, scales: scales.baseAddress!,
                                 midpoints: midpoints.baseAddress!).run()
                    }
                }
            }
        }
        return result
    }
}
