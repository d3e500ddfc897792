import HLQ
import Testing
import TestSupport

/// Mixed precision on small synthetic cases, some small enough to check against every choice.
@Suite struct GPTQBitAllocationTests {
    typealias Candidate = (bits: Int, storedBits: Double, error: Double)

    /// Stored bits for B planes at g = 128: B bits plus B + 1 half floats per 128 weights.
    static func stored(_ bits: Int) -> Double { Double(bits) + Double(16 * (bits + 1)) / 128 }

    /// Layers with errors that fall with bits, each by its own amount (convex: each extra bit helps less).
    static func layers(_ count: Int, seed: UInt64) -> [[Candidate]] {
        var random = SeededRandom(seed: seed)
        return (0..<count).map { _ in
            let e2 = Double.random(in: 1...100, using: &random)
            let e3 = e2 * Double.random(in: 0.1...0.6, using: &random)
            // The second bit gains a fraction of what the first did, and leaves some error.
            let e4 = e3 - (e2 - e3) * min(Double.random(in: 0.05...0.95, using: &random), 0.99 * e3 / (e2 - e3))
            return [(2, stored(2), e2), (3, stored(3), e3), (4, stored(4), e4)]
        }
    }

    static func cost(_ bits: [Int], _ candidates: [[Candidate]], _ weights: [Int]) -> (bits: Double, error: Double) {
        var total = 0.0, error = 0.0
        for (l, b) in bits.enumerated() {
            let c = candidates[l].first { $0.bits == b }!
            total += c.storedBits * Double(weights[l])
            error += c.error
        }
        return (total / Double(weights.reduce(0, +)), error)
    }

    @Test func extremes() {
        let candidates = Self.layers(5, seed: 1), weights = [Int](repeating: 1000, count: 5)
        #expect(BitAllocation.allocate(candidates, weights: weights, targetBitsPerWeight: 10) == [4, 4, 4, 4, 4])
        #expect(BitAllocation.allocate(candidates, weights: weights, targetBitsPerWeight: Self.stored(2)) == [2, 2, 2, 2, 2])
        // A budget below the cheapest choice still gets the cheapest choice.
        #expect(BitAllocation.allocate(candidates, weights: weights, targetBitsPerWeight: 1) == [2, 2, 2, 2, 2])
    }

    @Test func theBitGoesWhereItHelpsMost() {
        let candidates: [[Candidate]] = [
            [(2, Self.stored(2), 10), (3, Self.stored(3), 9), (4, Self.stored(4), 8.5)],
            [(2, Self.stored(2), 10), (3, Self.stored(3), 2), (4, Self.stored(4), 1)],
        ]
        let oneUpgrade = (Self.stored(2) + Self.stored(3)) / 2
        #expect(BitAllocation.allocate(candidates, weights: [100, 100], targetBitsPerWeight: oneUpgrade) == [2, 3])
        // A layer four times as large costs four times the bits for the same gain.
        let larger: [[Candidate]] = [candidates[1], candidates[0]]
        #expect(BitAllocation.allocate(larger, weights: [400, 100], targetBitsPerWeight: (4 * Self.stored(2) + Self.stored(3)) / 5)
                == [2, 3])
    }

    /// A candidate above the convex hull is never bought: 3 bits here is barely better than 2,
    /// so going straight to 4 is the better use of two bits.
    @Test func skipsCandidatesAboveTheHull() {
        let candidates: [[Candidate]] = [
            [(2, Self.stored(2), 10), (3, Self.stored(3), 9.9), (4, Self.stored(4), 1)],
            [(2, Self.stored(2), 10), (3, Self.stored(3), 6), (4, Self.stored(4), 5)],
        ]
        let twoUpgrades = (Self.stored(2) + Self.stored(4)) / 2
        #expect(BitAllocation.allocate(candidates, weights: [100, 100], targetBitsPerWeight: twoUpgrades) == [4, 2])
    }

    /// Equal layers, equal steps, convex errors: the greedy choice is the optimum, checked against
    /// all 3^6 choices for every reachable budget.
    @Test(arguments: [3, 4, 5])
    func optimalWhenStepsAreEqual(seed: UInt64) {
        let count = 6
        let candidates = Self.layers(count, seed: seed), weights = [Int](repeating: 500, count: count)
        for upgrades in 0...(2 * count) {
            let target = Self.stored(2) + Double(upgrades) * (Self.stored(3) - Self.stored(2)) / Double(count) + 1e-9
            let chosen = BitAllocation.allocate(candidates, weights: weights, targetBitsPerWeight: target)
            let result = Self.cost(chosen, candidates, weights)
            #expect(result.bits <= target)
            var best = Double.infinity
            for code in 0..<729 {
                var c = code
                let bits = (0..<count).map { _ -> Int in defer { c /= 3 }; return 2 + c % 3 }
                let option = Self.cost(bits, candidates, weights)
                if option.bits <= target { best = min(best, option.error) }
            }
            #expect(abs(result.error - best) <= 1e-9 * best, "\(upgrades) upgrades: \(result.error) vs \(best)")
        }
    }

    /// Any layers, any sizes: the budget holds, and no single further upgrade would fit in it.
    @Test func budgetHoldsAndNothingFitsOnTop() {
        var random = SeededRandom(seed: 9)
        for trial in 0..<20 {
            let candidates = Self.layers(8, seed: UInt64(100 + trial))
            let weights = (0..<8).map { _ in Int.random(in: 10_000...3_000_000, using: &random) }
            let target = Double.random(in: Self.stored(2)...Self.stored(4), using: &random)
            let chosen = BitAllocation.allocate(candidates, weights: weights, targetBitsPerWeight: target)
            let spent = Self.cost(chosen, candidates, weights).bits
            #expect(spent <= target + 1e-12)
            for (l, b) in chosen.enumerated() where b < 4 {
                let extra = (Self.stored(b + 1) - Self.stored(b)) * Double(weights[l]) / Double(weights.reduce(0, +))
                #expect(spent + extra > target, "layer \(l) could still go to \(b + 1) bits")
            }
        }
    }
}
