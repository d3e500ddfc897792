import Parallel

/// The Hessian rearranged for the refit's products, shared by every row.
///
/// Column (G', a) of ΦᵀHΦ needs H's columns of group G' times feature a of those columns. So H is
/// kept as one panel per group, H[k][l] for l in the group and k up to the group's end (the part
/// on or above the diagonal blocks, since the system is symmetric), rows contiguous for the GEMM.
/// The midpoint's feature is 1 in every row, so its product, the panel's row sums, is shared too.
struct RefitProducts {
    let cols: Int
    let groupSize: Int
    let groups: Int
    /// Group g's panel: [end(g)][size(g)], from `panelOffsets[g]`.
    let panels: [Float]
    let panelOffsets: [Int]
    /// Group g's row sums: rowSums[g * cols + k] = Σ_{l in g} H[k][l], for k < end(g).
    let rowSums: [Float]

    init(hessian: Hessian, groupSize: Int, pool: ThreadPool) {
        let n = hessian.cols
        cols = n
        self.groupSize = groupSize
        groups = (n + groupSize - 1) / groupSize
        var offsets = [Int](), total = 0
        for g in 0..<groups {
            offsets.append(total)
            total += min((g + 1) * groupSize, n) * (min((g + 1) * groupSize, n) - g * groupSize)
        }
        panelOffsets = offsets
        var panels = [Float](repeating: 0, count: total)
        var rowSums = [Float](repeating: 0, count: groups * n)
        let groups = self.groups
        hessian.values.withUnsafeBufferPointer { h in
            panels.withUnsafeMutableBufferPointer { panels in
                rowSums.withUnsafeMutableBufferPointer { rowSums in
                    pool.parallelFor(groups) { share in
                        for g in share {
                            let first = g * groupSize, end = min(first + groupSize, n), size = end - first
                            let panel = panels.baseAddress! + offsets[g]
                            for k in 0..<end {
                                var sum = 0.0
                                for l in 0..<size {
                                    panel[k * size + l] = h[k * n + first + l]
                                    sum += Double(h[k * n + first + l])
                                }
                                rowSums[g * n + k] = Float(sum)
                            }
                        }
                    }
                }
            }
        }
        self.panels = panels
        self.rowSums = rowSums
    }

    /// Columns of group g: first ..< end.
    func range(of g: Int) -> Range<Int> { (g * groupSize)..<min((g + 1) * groupSize, cols) }
}
