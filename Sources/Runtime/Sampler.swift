import Foundation

/// How the next token is chosen from the logits.
public struct SamplingParameters: Codable, Sendable, Hashable {
    /// 0 means greedy: always the most likely token.
    public var temperature: Float = 0.8
    /// Keep only the k most likely tokens; 0 disables.
    public var topK: Int = 40
    /// Keep the smallest set of tokens whose probability reaches p; 1 disables.
    public var topP: Float = 0.95
    /// Drop tokens less likely than min-p times the most likely one; 0 disables.
    public var minP: Float = 0.05
    /// Divide (or for negative logits, multiply) the logits of recent tokens by this; 1 disables.
    public var repetitionPenalty: Float = 1.0
    /// How many recent tokens the penalty looks at.
    public var repetitionWindow: Int = 64
    /// A fixed seed makes sampling reproducible.
    public var seed: UInt64?

    public init() {}

    /// Greedy decoding, the deterministic setting tests and benchmarks use.
    public static var greedy: SamplingParameters {
        var p = SamplingParameters()
        p.temperature = 0
        return p
    }
}

/// Picks tokens by llama.cpp's usual chain: repetition penalty, top-k, top-p, min-p, temperature, draw.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var random: SplitMix64
    /// Scratch (token, logit) pairs, reused across calls.
    private var candidates: [(id: Int32, logit: Float)] = []
    /// The logits after penalties, reused across calls.
    private var scratch: [Float] = []

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        random = SplitMix64(seed: parameters.seed ?? UInt64.random(in: 0...UInt64.max))
    }

    /// The next token for one row of logits, given the tokens so far (for the repetition penalty).
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>, history: ArraySlice<Int32>) -> Int32 {
        let p = parameters
        // Penalties apply to a copy: the caller's logits stay as the model produced them.
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: logits)
        if p.repetitionPenalty != 1 {
            for id in Set(history.suffix(p.repetitionWindow)) where scratch.indices.contains(Int(id)) {
                let l = scratch[Int(id)]
                scratch[Int(id)] = l > 0 ? l / p.repetitionPenalty : l * p.repetitionPenalty
            }
        }
        if p.temperature <= 0 {
            var best = 0
            for i in 1..<scratch.count where scratch[i] > scratch[best] { best = i }
            return Int32(best)
        }
        // Only tokens that can survive top-k or min-p are sorted: a full sort of a 50k vocabulary
        // would cost more than the model's own decode step.
        let cutoff: Float
        if p.topK > 0 && p.topK < scratch.count {
            var values = scratch
            cutoff = Self.largest(p.topK, of: &values)
        } else if p.minP > 0 {
            cutoff = (scratch.max() ?? 0) + p.temperature * log(p.minP)
        } else {
            cutoff = -.infinity
        }
        candidates.removeAll(keepingCapacity: true)
        for (i, l) in scratch.enumerated() where l >= cutoff { candidates.append((Int32(i), l)) }
        candidates.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.id < $1.id) }
        if p.topK > 0 && p.topK < candidates.count { candidates.removeLast(candidates.count - p.topK) }

        // Probabilities at the sampling temperature, over the remaining candidates.
        let top = candidates[0].logit
        var probabilities = candidates.map { exp(($0.logit - top) / p.temperature) }
        var total = probabilities.reduce(0, +)
        var keep = probabilities.count
        if p.topP < 1 {
            var cumulative: Float = 0
            for (i, q) in probabilities.enumerated() {
                cumulative += q / total
                if cumulative >= p.topP { keep = i + 1; break }
            }
        }
        if p.minP > 0 {
            let floor = p.minP * probabilities[0]
            keep = min(keep, max(1, probabilities.prefix(keep).prefix { $0 >= floor }.count))
        }
        probabilities.removeLast(probabilities.count - keep)
        total = probabilities.reduce(0, +)
        var draw = Float(random.nextUnit()) * total
        for (i, q) in probabilities.enumerated() {
            draw -= q
            if draw <= 0 { return candidates[i].id }
        }
        return candidates[keep - 1].id
    }
}

extension Sampler {
    /// The k-th largest value (quickselect; reorders `values`).
    static func largest(_ k: Int, of values: inout [Float]) -> Float {
        var lo = 0, hi = values.count - 1
        let target = k - 1
        while lo < hi {
            let pivot = values[(lo + hi) / 2]
            var i = lo, j = hi
            while i <= j {
                while values[i] > pivot { i += 1 }
                while values[j] < pivot { j -= 1 }
                if i <= j {
                    values.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if target <= j { hi = j } else if target >= i { lo = i } else { break }
        }
        return values[target]
    }
}
