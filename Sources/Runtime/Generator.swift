import Foundation
import ModelFile
import Parallel
import Tokenizer

/// What a generation may do, and when it stops.
public struct GenerationOptions: Sendable, Hashable {
    public var maxTokens = 256
    public var sampling = SamplingParameters()
    /// Generation stops before any of these strings, which are not part of the output.
    public var stop: [String] = []

    public init(maxTokens: Int = 256, sampling: SamplingParameters = SamplingParameters(), stop: [String] = []) {
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stop = stop
    }
}

/// Why a generation ended.
public enum FinishReason: String, Codable, Sendable {
    /// An end-of-generation token or a stop string.
    case stop
    /// `maxTokens` or the end of the context.
    case length
    /// The caller asked to stop.
    case cancelled
}

/// A finished generation with its timings.
public struct GenerationResult: Codable, Sendable {
    public var text: String
    public var tokensIn: Int
    public var tokensOut: Int
    public var finishReason: FinishReason
    /// Prompt processing (prefill) time.
    public var promptSeconds: Double
    /// From the call to the first generated token.
    public var timeToFirstTokenSeconds: Double
    /// Decoding time after the first token.
    public var decodeSeconds: Double

    public var promptTokensPerSecond: Double { promptSeconds > 0 ? Double(tokensIn) / promptSeconds : 0 }
    /// Tokens per second of decoding, after the first token.
    public var tokensPerSecond: Double { decodeSeconds > 0 && tokensOut > 1 ? Double(tokensOut - 1) / decodeSeconds : 0 }
}

/// Why a generation could not start.
public enum GenerationError: Error, CustomStringConvertible, Equatable {
    case emptyPrompt
    case promptTooLong(tokens: Int, context: Int)

    public var description: String {
        switch self {
        case .emptyPrompt: "the prompt is empty"
        case .promptTooLong(let tokens, let context):
            "the prompt has \(tokens) tokens but the context holds \(context); shorten it or raise the context size"
        }
    }
}

/// Runs prompts through a model and streams the generated text.
///
/// Prefill goes through the model in batches (the engine's GEMM), then one token per step (GEMV).
/// Each call starts from an empty cache, so requests never see each other's history.
public final class Generator: @unchecked Sendable {
    public let model: LoadedModel
    public let transformer: Transformer
    /// Tokens that end a generation: EOS and the chat end markers the vocabulary has.
    public let endTokens: Set<Int32>

    public init(model: LoadedModel, contextLength: Int, maxBatch: Int = 64, pool: ThreadPool) {
        self.model = model
        transformer = Transformer(weights: model.weights, contextLength: contextLength, maxBatch: maxBatch, pool: pool)
        var ends = Set<Int32>()
        if let eos = model.tokenizer.eosID { ends.insert(eos) }
        for marker in ["<|im_end|>", "<|eot_id|>", "<|endoftext|>", "<|end_of_text|>"] {
            if let id = model.tokenizer.tokenID(marker) { ends.insert(id) }
        }
        endTokens = ends
    }

    /// The prompt text for a chat, rendered with the model's template (plain concatenation without one).
    public func chatPrompt(_ messages: [ChatMessage]) -> String {
        if let template = model.chatTemplate { return template.render(messages, addGenerationPrompt: true) }
        return messages.map(\.content).joined(separator: "\n") + "\n"
    }

    /// Generates a continuation of `prompt` (already tokenized). `onText` receives each new piece of
    /// text as soon as it is complete UTF-8 and cannot be the start of a stop string. `isCancelled`
    /// is asked before every decode step, and `onText` returning false cancels as well, so a
    /// cancellation takes effect within one token.
    public func generate(_ prompt: [Int32], options: GenerationOptions, isCancelled: () -> Bool = { false },
                         onText: (String) -> Bool = { _ in true }) throws -> GenerationResult {
        guard !prompt.isEmpty else { throw GenerationError.emptyPrompt }
        let context = transformer.contextLength
        guard prompt.count < context else { throw GenerationError.promptTooLong(tokens: prompt.count, context: context) }
        let start = Date()
        var sampler = Sampler(options.sampling)
        var tokens = prompt
        var logits = UnsafeBufferPointer<Float>(start: nil, count: 0)
        var position = 0
        while position < prompt.count {
            let batch = min(transformer.maxBatch, prompt.count - position)
            let last = position + batch == prompt.count
            logits = transformer.forward(prompt[position..<(position + batch)], at: position,
                                         logitRows: last ? (batch - 1)..<batch : 0..<0)
            position += batch
        }
        let promptSeconds = Date().timeIntervalSince(start)

        var decoder = StreamingDecoder(tokenizer: model.tokenizer)
        var stops = StopScanner(stop: options.stop)
        var text = ""
        var generated = 0
        var firstTokenAt: Date?
        var finish = FinishReason.length
        var stoppedByString = false
        generation: while generated < options.maxTokens {
            if isCancelled() {
                finish = .cancelled
                break
            }
            let next = sampler.sample(logits, history: tokens[...])
            generated += 1
            if firstTokenAt == nil { firstTokenAt = Date() }
            if endTokens.contains(next) {
                finish = .stop
                break
            }
            tokens.append(next)
            let (ready, stopped) = stops.push(decoder.push(next))
            text += ready
            if !ready.isEmpty && !onText(ready) {
                finish = .cancelled
                break generation
            }
            if stopped {
                finish = .stop
                stoppedByString = true
                break
            }
            if generated == options.maxTokens || position >= context { break }
            logits = transformer.forward(tokens[position...position], at: position, logitRows: 0..<1)
            position += 1
        }
        if !stoppedByString && finish != .cancelled {
            let tail = stops.flush(decoder.flush())
            text += tail
            if !tail.isEmpty { _ = onText(tail) }
        }
        let firstToken = firstTokenAt ?? Date()
        return GenerationResult(
            text: text, tokensIn: prompt.count, tokensOut: generated, finishReason: finish,
            promptSeconds: promptSeconds, timeToFirstTokenSeconds: firstToken.timeIntervalSince(start),
            decodeSeconds: Date().timeIntervalSince(firstToken))
    }
}

/// Holds back text that might be the beginning of a stop string, and cuts the output at one.
struct StopScanner {
    let stop: [String]
    private var pending = ""

    init(stop: [String]) { self.stop = stop.filter { !$0.isEmpty } }

    /// Adds decoded text; returns what can be released now, and whether a stop string was reached.
    mutating func push(_ piece: String) -> (String, Bool) {
        pending += piece
        if stop.isEmpty {
            defer { pending = "" }
            return (pending, false)
        }
        if let hit = stop.compactMap({ pending.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
            let released = String(pending[..<hit.lowerBound])
            pending = ""
            return (released, true)
        }
        // Keep the longest suffix that is a prefix of some stop string.
        var keep = 0
        for s in stop {
            for length in stride(from: min(s.count, pending.count), to: 0, by: -1) where pending.hasSuffix(s.prefix(length)) {
                keep = max(keep, length)
                break
            }
        }
        let released = String(pending.dropLast(keep))
        pending = String(pending.suffix(keep))
        return (released, false)
    }

    /// Everything still held back, at the end of a generation that did not stop on a string.
    mutating func flush(_ piece: String) -> String {
        defer { pending = "" }
        return pending + piece
    }
}
