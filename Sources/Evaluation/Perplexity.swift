import Foundation
import Runtime

/// Perplexity by llama.cpp's `llama-perplexity` rule, so figures compare one to one.
///
/// The text is cut into chunks of `context` tokens, each run from an empty cache (with BOS in
/// place of its first token when the model adds one). Only the second half of each chunk is
/// scored, so every scored token sees at least context/2 tokens of history.
///
/// Given a reference model as well, both run over the same chunks and every scored position also
/// yields the KL divergence from the reference's next-token distribution to the model's, and
/// whether their most likely tokens agree. Perplexity only weighs the one token the text holds;
/// the divergence weighs the whole distribution, which is what sampling and greedy decoding see,
/// so it separates quantizations whose perplexities look alike.
public enum Perplexity {
    public struct Result: Codable, Sendable {
        public var ppl: Double
        /// llama.cpp's ± : ppl times the standard error of the mean negative log-likelihood.
        public var error: Double
        public var chunks: Int
        public var context: Int
        public var tokensScored: Int
        public var seconds: Double
        /// The comparison with the reference model, when one was given.
        public var divergence: Divergence?
    }

    /// How far a model's next-token distributions are from a reference's, over the scored positions.
    public struct Divergence: Codable, Sendable {
        /// The reference's own perplexity on the same tokens.
        public var referencePPL: Double
        /// Mean KL(reference ‖ model) in nats, and its standard error.
        public var meanKL: Double
        public var meanKLError: Double
        /// The 99th percentile and the largest KL divergence of one position.
        public var p99KL: Double
        public var maxKL: Double
        /// The share of positions where both models rank the same token first.
        public var sameTopToken: Double
    }

    public enum Failure: Error, CustomStringConvertible {
        case textTooShort(tokens: Int, context: Int)
        case contextTooLarge(context: Int, transformer: Int)
        case vocabularyMismatch(model: Int, reference: Int)

        public var description: String {
            switch self {
            case .textTooShort(let tokens, let context):
                "the text has \(tokens) tokens, fewer than one chunk of \(context); use a longer text or a smaller --ctx"
            case .contextTooLarge(let context, let transformer):
                "--ctx \(context) exceeds the transformer's context of \(transformer)"
            case .vocabularyMismatch(let model, let reference):
                "the reference model has \(reference) tokens in its vocabulary and the model \(model): they must share one tokenizer"
            }
        }
    }

    /// Scores `tokens` (the whole text, tokenized as llama.cpp does) in chunks of `context`, and
    /// compares with `reference` at every scored position when it is given.
    /// `progress(chunk, chunks, runningPPL)` is called after each chunk.
    public static func evaluate(_ transformer: Transformer, reference: Transformer? = nil, tokens: [Int32],
                                context: Int, bos: Int32?,
                                progress: (Int, Int, Double) -> Void = { _, _, _ in }) throws -> Result {
        for model in [transformer, reference].compactMap({ $0 }) where context > model.contextLength {
            throw Failure.contextTooLarge(context: context, transformer: model.contextLength)
        }
        let vocabulary = transformer.config.vocabularySize
        if let reference, reference.config.vocabularySize != vocabulary {
            throw Failure.vocabularyMismatch(model: vocabulary, reference: reference.config.vocabularySize)
        }
        let chunks = tokens.count / context
        guard chunks > 0 else { throw Failure.textTooShort(tokens: tokens.count, context: context) }
        let start = Date()
        let first = context / 2
        let batchLimit = min(transformer.maxBatch, reference?.maxBatch ?? .max)
        var nll = RunningMean(), referenceNLL = RunningMean()
        var divergences: [Double] = [], sameTop = 0
        for chunk in 0..<chunks {
            var window = Array(tokens[(chunk * context)..<((chunk + 1) * context)])
            if let bos { window[0] = bos }
            var position = 0
            while position < context {
                let batch = min(batchLimit, context - position)
                // Rows of this batch whose logits are scored: positions first ... context-2.
                let lo = max(first, position) - position, hi = min(context - 1, position + batch) - position
                let rows = lo < hi ? lo..<hi : 0..<0
                let tokensOfBatch = window[position..<(position + batch)]
                let logits = transformer.forward(tokensOfBatch, at: position, logitRows: rows)
                let referenceLogits = reference?.forward(tokensOfBatch, at: position, logitRows: rows)
                for row in rows {
                    let next = Int(window[position + row + 1])
                    let offset = (row - lo) * vocabulary
                    let model = logits.baseAddress! + offset
                    let modelNorm = logSumExp(model, count: vocabulary)
                    nll.add(Double(modelNorm - model[next]))
                    guard let referenceLogits else { continue }
                    let truth = referenceLogits.baseAddress! + offset
                    let truthNorm = logSumExp(truth, count: vocabulary)
                    referenceNLL.add(Double(truthNorm - truth[next]))
                    divergences.append(klDivergence(truth, truthNorm, from: model, modelNorm, count: vocabulary))
                    if argmax(truth, count: vocabulary) == argmax(model, count: vocabulary) { sameTop += 1 }
                }
                position += batch
            }
            progress(chunk + 1, chunks, exp(nll.mean))
        }
        var result = Result(ppl: exp(nll.mean), error: exp(nll.mean) * nll.standardError,
                            chunks: chunks, context: context, tokensScored: nll.count,
                            seconds: 0, divergence: nil)
        if reference != nil {
            var kl = RunningMean()
            for d in divergences { kl.add(d) }
            let sorted = divergences.sorted()
            result.divergence = Divergence(
                referencePPL: exp(referenceNLL.mean), meanKL: kl.mean, meanKLError: kl.standardError,
                p99KL: sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.down)))],
                maxKL: sorted.last!, sameTopToken: Double(sameTop) / Double(divergences.count))
        }
        result.seconds = Date().timeIntervalSince(start)
        return result
    }

    /// A mean over scored positions with its standard error (llama.cpp's ± comes from it).
    struct RunningMean {
        private var sum = 0.0, sumOfSquares = 0.0
        private(set) var count = 0

        mutating func add(_ value: Double) {
            sum += value
            sumOfSquares += value * value
            count += 1
        }

        var mean: Double { sum / Double(count) }

        /// The standard error of `mean`, 0 when it cannot be estimated.
        var standardError: Double {
            let variance = sumOfSquares / Double(count) - mean * mean
            return variance > 0 && count > 1 ? (variance / Double(count - 1)).squareRoot() : 0
        }
    }

    /// log Σ e^x, shifted by the maximum for stability.
    static func logSumExp(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var largest = -Float.infinity
        for i in 0..<count { largest = max(largest, x[i]) }
        var sum: Double = 0
        for i in 0..<count { sum += Double(exp(x[i] - largest)) }
        return Float(log(sum)) + largest
    }

    /// KL(p ‖ q) = Σ p·(log p − log q) for two rows of logits and their log-normalizers.
    static func klDivergence(_ p: UnsafePointer<Float>, _ pNorm: Float, from q: UnsafePointer<Float>, _ qNorm: Float,
                             count: Int) -> Double {
        var sum = 0.0
        for i in 0..<count {
            let logP = Double(p[i] - pNorm), logQ = Double(q[i] - qNorm)
            sum += exp(logP) * (logP - logQ)
        }
        return max(0, sum)
    }

    static func argmax(_ x: UnsafePointer<Float>, count: Int) -> Int {
        var best = 0
        for i in 1..<count where x[i] > x[best] { best = i }
        return best
    }
}
