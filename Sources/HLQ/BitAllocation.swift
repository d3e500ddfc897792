/// Mixed precision: which bit width each layer gets, to meet an average bits-per-weight target at
/// the least total calibration error.
///
/// A multiple-choice knapsack, solved greedily. Each layer starts at its cheapest candidate; then,
/// again and again, the upgrade with the largest error reduction per extra stored bit that still
/// fits the budget is taken. Only candidates on the lower convex hull of a layer's (stored bits,
/// error) points are stepped through: a candidate above the hull is never the best buy, and along
/// the hull the marginal gains shrink, so taking them in order of gain per bit is the Lagrangian
/// optimum for the bits spent (exactly optimal when every step costs the same). When the budget
/// cannot even pay for the cheapest candidates, those are returned.
public enum BitAllocation {
    /// `candidates[l]` are layer l's options: its bit width, its stored bits per weight (with the
    /// scales and midpoints), and its objective error (`LayerObjective.error`, so that layers on the
    /// same calibration tokens compare). `weights[l]` is its number of weights. Returns one bit
    /// width per layer.
    public static func allocate(_ candidates: [[(bits: Int, storedBits: Double, error: Double)]], weights: [Int],
                                targetBitsPerWeight: Double) -> [Int] {
        precondition(candidates.count == weights.count, "one weight count per layer")
        precondition(candidates.allSatisfy { !$0.isEmpty }, "every layer needs a candidate")
        let hulls = candidates.map(lowerHull)
        var chosen = [Int](repeating: 0, count: hulls.count)  // position along each hull
        let budget = targetBitsPerWeight * Double(weights.reduce(0, +))
        var spent = zip(hulls, weights).reduce(0.0) { $0 + $1.0[0].storedBits * Double($1.1) }
        while true {
            var best: (layer: Int, gainPerBit: Double, cost: Double)?
            for (layer, hull) in hulls.enumerated() where chosen[layer] + 1 < hull.count {
                let now = hull[chosen[layer]], next = hull[chosen[layer] + 1]
                let cost = (next.storedBits - now.storedBits) * Double(weights[layer])
                let gainPerBit = (now.error - next.error) / cost
                if spent + cost <= budget && gainPerBit > (best?.gainPerBit ?? -.infinity) {
                    best = (layer, gainPerBit, cost)
                }
            }
            guard let best else { break }
            chosen[best.layer] += 1
            spent += best.cost
        }
        return zip(hulls, chosen).map { $0.0[$0.1].bits }
    }

    /// The candidates on the lower convex hull of (stored bits, error), cheapest first, each
    /// strictly more expensive and strictly more accurate than the one before.
    private static func lowerHull(_ candidates: [(bits: Int, storedBits: Double, error: Double)])
        -> [(bits: Int, storedBits: Double, error: Double)] {
        let sorted = candidates.sorted { ($0.storedBits, $0.error) < ($1.storedBits, $1.error) }
        var hull: [(bits: Int, storedBits: Double, error: Double)] = []
        for candidate in sorted {
            if let last = hull.last, candidate.storedBits == last.storedBits || candidate.error >= last.error { continue }
            // Drop the last point while it lies on or above the segment from the one before to this one.
            while hull.count >= 2 {
                let a = hull[hull.count - 2], b = hull[hull.count - 1]
                let cross = (b.storedBits - a.storedBits) * (candidate.error - a.error)
                    - (b.error - a.error) * (candidate.storedBits - a.storedBits)
                guard cross <= 0 else { break }
                hull.removeLast()
            }
            hull.append(candidate)
        }
        return hull
    }
}
