import CLUTKernels
import Engine

/// One thread's share of GPTQ: a run of rows, taken through every column.
///
/// The rows' current weights ("targets") are kept in processing order, up to date as of the start
/// of the current lazy batch. Inside a batch, columns go one at a time across all the
/// rows: the pull of the batch's earlier errors on the column is one GEMM (its panel row times
/// every row's errors so far), then each row rounds its target. After the batch, one GEMM moves
/// every later column by the whole batch's errors.
struct GPTQRows {
    let rows: Range<Int>
    /// The original weights, [rows][cols].
    let weights: UnsafePointer<Float>
    let feedback: GPTQFeedback
    let groups: GPTQGroups
    let options: GPTQOptions
    /// The result's storage.
    let patterns: UnsafeMutablePointer<UInt8>
    let scales: UnsafeMutablePointer<Float16>
    let midpoints: UnsafeMutablePointer<Float16>

    func run() {
        let n = feedback.cols, block = feedback.blockSize, count = rows.count
        let targets = UnsafeMutablePointer<Float>.allocate(capacity: count * n)    // [row][position]
        let errors = UnsafeMutablePointer<Float>.allocate(capacity: count * block)  // [row][column in batch]
        let update = UnsafeMutablePointer<Float>.allocate(capacity: count * n)     // a GEMM's product
        let groupScratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * options.groupSize)
        let patternScratch = UnsafeMutablePointer<UInt8>.allocate(capacity: options.groupSize)
        let grids = UnsafeMutablePointer<GroupGrid>.allocate(capacity: count * groups.count)  // [row][group]
        grids.initialize(repeating: GroupParameters(scales: .zero, midpoint: 0).grid(planes: options.planes),
                         count: count * groups.count)
        defer {
            targets.deallocate()
            errors.deallocate()
            update.deallocate()
            groupScratch.deallocate()
            patternScratch.deallocate()
            grids.deallocate()
        }
        for (i, row) in rows.enumerated() {
            for p in 0..<n { targets[i * n + p] = start(row, p) }
        }
        for batch in 0..<feedback.blockCount {
            feedback.withPanel(batch) { panel, s, length in
                for p in s..<(s + length) {
                    let g = groups.groupAt[p], done = p - s
                    if groups.startingAt[p] >= 0 {
                        for (i, row) in rows.enumerated() {
                            grids[i * groups.count + g] = fitGroup(
                                g, row: row, targets: targets + i * n, errors: errors + i * block, done: done,
                                panel: panel, batchStart: s, length: length,
                                scratch: groupScratch, patterns: patternScratch)
                        }
                    }
                    // update[i] = Σ_j panel[done][j] errors[i][j], the batch's pull on this column.
                    if done > 0 {
                        elutq_f32_gemm(panel + done * length, Int32(done), errors, Int64(block), Int32(count),
                                       update, 1, 0, 1)
                    }
                    for (i, row) in rows.enumerated() {
                        let target = targets[i * n + p] + (done > 0 ? update[i] : 0)
                        let (pattern, value) = grids[i * groups.count + g].nearest(target)
                        patterns[row * n + feedback.order[p]] = pattern
                        errors[i * block + done] = (target - value) * feedback.errorScales[p]
                    }
                }
                let rest = n - s - length
                guard rest > 0 else { return }
                // update[i][c] = Σ_j panel[length + c][j] errors[i][j]: the batch's pull on every later column.
                elutq_f32_gemm(panel + length * length, Int32(length), errors, Int64(block), Int32(count),
                               update, Int64(rest), 0, Int32(rest))
                for i in 0..<count {
                    let t = targets + i * n + s + length, u = update + i * rest
                    for c in 0..<rest { t[c] += u[c] }
                }
            }
        }
    }

    /// The weight at position p before any feedback: the original, or 0 in a dead column.
    @inline(__always)
    private func start(_ row: Int, _ p: Int) -> Float {
        let column = feedback.order[p]
        return feedback.dead[column] ? 0 : weights[row * feedback.cols + column]
    }

    /// Fits group g's grid for one row to the current targets of all its columns, stores its
    /// parameters, and returns the grid. `done` columns of the current batch are quantized so far.
    private func fitGroup(_ g: Int, row: Int, targets t: UnsafePointer<Float>, errors e: UnsafePointer<Float>,
                          done: Int, panel: UnsafePointer<Float>, batchStart s: Int, length: Int,
                          scratch: UnsafeMutablePointer<Float>, patterns: UnsafeMutablePointer<UInt8>) -> GroupGrid {
        let members = groups.offsets[g]..<groups.offsets[g + 1]
        let size = members.count
        let current = UnsafeMutableBufferPointer(start: scratch, count: size)
        let importance = UnsafeMutableBufferPointer(start: scratch + size, count: size)
        for (k, q) in groups.positions[members].enumerated() {
            current[k] = t[q] + dot(panel + (q - s) * length, e, done)
            importance[k] = feedback.errorWeights[q]
        }
        let targets = UnsafeBufferPointer(current), costs = UnsafeBufferPointer(importance)
        let scratchPatterns = UnsafeMutableBufferPointer(start: patterns, count: size)
        var chosen: GroupParameters
        switch options.method {
        case .uniform:
            chosen = UniformFit.parameters(targets, planes: options.planes)
        case .hlq:
            // Weighted by the columns' costs: on the tests' synthetic layers this gives an objective
            // 11-28% lower than an unweighted fit.
            chosen = HLQFit.parameters(targets, importance: costs, planes: options.planes, scratch: scratchPatterns)
            if options.considerUniformGrid {
                let uniform = UniformFit.parameters(targets, planes: options.planes)
                let hlqCost = chosen.grid(planes: options.planes).assign(targets, importance: costs, into: scratchPatterns)
                let uniformCost = uniform.grid(planes: options.planes).assign(targets, importance: costs, into: scratchPatterns)
                if uniformCost < hlqCost { chosen = uniform }
            }
        }
        let stored = row * groups.count + g
        for i in 0..<options.planes { scales[stored * options.planes + i] = Float16(chosen.scales[i]) }
        midpoints[stored] = Float16(chosen.midpoint)
        return chosen.grid(planes: options.planes)
    }
}
