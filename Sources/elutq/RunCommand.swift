import ArgumentParser
import Foundation
import Parallel
import Runtime
import Tokenizer

/// Sampling and length options shared by `run` and `chat`.
struct GenerationFlags: ParsableArguments {
    @Option(name: .customLong("max-tokens"), help: "Most tokens to generate.") var maxTokens = 256
    @Option(help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0.8
    @Option(name: .customLong("top-k"), help: "Keep the k most likely tokens (0: off).") var topK = 40
    @Option(name: .customLong("top-p"), help: "Nucleus sampling threshold (1: off).") var topP: Float = 0.95
    @Option(name: .customLong("min-p"), help: "Drop tokens below min-p times the top probability (0: off).") var minP: Float = 0.05
    @Option(name: .customLong("repeat-penalty"), help: "Penalty on recently generated tokens (1: off).") var repeatPenalty: Float = 1.0
    @Option(help: "Random seed, for reproducible sampling.") var seed: UInt64?
    @Option(help: "Stop before this string (repeatable).") var stop: [String] = []
    @Option(help: "Context size in tokens (the KV cache).") var ctx = 2048

    func validate() throws {
        guard maxTokens > 0 else { throw ValidationError("--max-tokens must be positive") }
        guard temperature >= 0 else { throw ValidationError("--temperature must be 0 or more") }
        guard (0...1).contains(topP), (0...1).contains(minP) else { throw ValidationError("--top-p and --min-p must be in 0...1") }
        guard ctx >= 16 else { throw ValidationError("--ctx must be at least 16") }
    }

    var options: GenerationOptions {
        var sampling = SamplingParameters()
        sampling.temperature = temperature
        sampling.topK = topK
        sampling.topP = topP
        sampling.minP = minP
        sampling.repetitionPenalty = repeatPenalty
        sampling.seed = seed
        return GenerationOptions(maxTokens: maxTokens, sampling: sampling, stop: stop)
    }
}

/// `elutq run`: complete one prompt, streaming the text, then print timings.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Generate a completion for a prompt, streamed to stdout, then print timings.",
        discussion: "With --chat the prompt is sent as a user message through the model's chat template.")

    @Argument(help: "A .hlq model, a GGUF file or a Hugging Face checkpoint directory.") var model: String
    @Option(help: "The prompt text.") var prompt: String
    @Flag(help: "Wrap the prompt in the model's chat template as a user message.") var chat = false
    @OptionGroup var generation: GenerationFlags
    @OptionGroup var kernel: KernelOptions
    @OptionGroup var common: CommonOptions

    struct Report: Codable {
        var text: String
        var tokensIn, tokensOut: Int
        var finishReason: String
        var promptTokensPerSecond, tokensPerSecond, timeToFirstTokenMilliseconds: Double
    }

    func run() throws {
        let pool = ThreadPool(threadCount: common.threads)
        let loaded = try common.loadModel(model, pool: pool, arithmetic: kernel.arithmetic())
        let generator = Generator(model: loaded, contextLength: generation.ctx, pool: pool)
        let text = chat ? generator.chatPrompt([ChatMessage(role: "user", content: prompt)]) : prompt
        let tokens = loaded.tokenizer.encode(text, parseSpecial: chat)
        let result = try generator.generate(tokens, options: generation.options, onText: { piece in
            if !common.json {
                FileHandle.standardOutput.write(Data(piece.utf8))
            }
            return true
        })
        if common.json {
            try common.printJSON(Report(
                text: result.text, tokensIn: result.tokensIn, tokensOut: result.tokensOut,
                finishReason: result.finishReason.rawValue, promptTokensPerSecond: result.promptTokensPerSecond,
                tokensPerSecond: result.tokensPerSecond, timeToFirstTokenMilliseconds: result.timeToFirstTokenSeconds * 1000))
        } else {
            print()
            common.log(String(format: "\n%d prompt tokens at %.1f tok/s, %d generated at %.1f tok/s, first token after %.0f ms (%@)",
                              result.tokensIn, result.promptTokensPerSecond, result.tokensOut, result.tokensPerSecond,
                              result.timeToFirstTokenSeconds * 1000, result.finishReason.rawValue))
        }
    }
}
