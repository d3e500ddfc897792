import Foundation

/// Perplexity by llama.cpp's `llama-perplexity` rule, so figures compare one to one.
///
/// The text is cut into chunks of `context` tokens, each run from an empty cache (with BOS in
/// place of its first token when the model adds one). Only the second half of each chunk is
/// scored, so every scored token sees at least context/2 tokens of history.
public enum Perplexity {
    public struct Result: Codable, Sendable {
        public var ppl: Double
        /// llama.cpp's ± : ppl times the standard error of the mean negative log-likelihood.
        public var error: Double
        public var chunks: Int
        public var context: Int
        public var tokensScored: Int
        public var seconds: Double
    }

    public enum Failure: Error, CustomStringConvertible {
        case textTooShort(tokens: Int, context: Int)
        case contextTooLarge(context: Int, transformer: Int)

        public var description: String {
            switch self {
            case .textTooShort(let tokens, let context):
                "the text has \(tokens) tokens, fewer than one chunk of \(context); use a longer text or a smaller --ctx"
            case .contextTooLarge(let context, let transformer):
                "--ctx \(context) exceeds the transformer's context of \(transformer)"
            }
        }
    }

    /// Scores `tokens` (the whole text, tokenized as llama.cpp does) in chunks of `context`.
    /// `progress(chunk, chunks, runningPPL)` is called after each chunk.
    public static func evaluate(_ transformer: Transformer, tokens: [Int32], context: Int, bos: Int32?,
                                progress: (Int, Int, Double) -> Void = { _, _, _ in }) throws -> Result {
        guard context <= transformer.contextLength else {
            throw Failure.contextTooLarge(context: context, transformer: transformer.contextLength)
        }
        let chunks = tokens.count / context
        guard chunks > 0 else { throw Failure.textTooShort(tokens: tokens.count, context: context) }
        let start = Date()
        let vocabulary = transformer.config.vocabularySize
        let first = context / 2
        var nll = 0.0, nll2 = 0.0, count = 0
        for chunk in 0..<chunks {
            var window = Array(tokens[(chunk * context)..<((chunk + 1) * context)])
            if let bos { window[0] = bos }
            var position = 0
            while position < context {
                let batch = min(transformer.maxBatch, context - position)
                // Rows of this batch whose logits are scored: positions first ... context-2.
                let lo = max(first, position) - position, hi = min(context - 1, position + batch) - position
                let logits = transformer.forward(window[position..<(position + batch)], at: position,
                                                 logitRows: lo < hi ? lo..<hi : 0..<0)
                if lo < hi {
                    for row in lo..<hi {
                        let next = Int(window[position + row + 1])
                        let rowLogits = logits.baseAddress! + (row - lo) * vocabulary
                        let logProbability = Double(rowLogits[next] - logSumExp(rowLogits, count: vocabulary))
                        nll -= logProbability
                        nll2 += logProbability * logProbability
                        count += 1
                    }
                }
                position += batch
            }
            progress(chunk + 1, chunks, exp(nll / Double(count)))
        }
        let mean = nll / Double(count), meanSquare = nll2 / Double(count)
        let ppl = exp(mean)
        let variance = meanSquare - mean * mean
        let error = variance > 0 && count > 1 ? ppl * (variance / Double(count - 1)).squareRoot() : 0
        return Result(ppl: ppl, error: error, chunks: chunks, context: context, tokensScored: count,
                      seconds: Date().timeIntervalSince(start))
    }

    /// log Σ e^x, shifted by the maximum for stability.
    static func logSumExp(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var largest = -Float.infinity
        for i in 0..<count { largest = max(largest, x[i]) }
        var sum: Double = 0
        for i in 0..<count { sum += Double(exp(x[i] - largest)) }
        return Float(log(sum)) + largest
    }
}
