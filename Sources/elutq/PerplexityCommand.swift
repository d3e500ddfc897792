import ArgumentParser
import Evaluation
import Foundation
import Parallel
import Runtime

/// `elutq ppl`: chunked perplexity of a model on a text file, by llama.cpp's rule.
struct PerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppl",
        abstract: "Measure perplexity on a text file (llama-perplexity's rule: the second half of each chunk is scored).")

    @Argument(help: "A .hlq model, a GGUF file or a Hugging Face checkpoint directory.") var model: String
    @Option(help: "The text file to score.") var text: String
    @Option(help: "Tokens per chunk.") var ctx = 512
    @Option(help: "Tokens per forward pass.") var batch = 128
    @Flag(help: "For a .hlq model: compute with its weights dequantized to float32 instead of the LUT kernels.")
    var reference = false
    @Option(help: ArgumentHelp(
        "Also compare with this model (e.g. the GGUF a .hlq was made from): KL divergence and top-token agreement.",
        discussion: """
            Both models score the same chunks; at every scored position the KL divergence from the \
            reference's next-token distribution to the model's is taken, and whether both rank the same \
            token first. The two must share a tokenizer.
            """))
    var klReference: String?
    @OptionGroup var kernel: KernelOptions
    @OptionGroup var common: CommonOptions

    func run() throws {
        let pool = ThreadPool(threadCount: common.threads)
        let loaded = try common.loadModel(model, pool: pool, arithmetic: reference ? .exactFloat : kernel.arithmetic(default: .precise))
        let contents = try readText(text, option: "text")
        let tokens = loaded.tokenizer.encode(contents)
        let transformer = Transformer(weights: loaded.weights, contextLength: ctx, maxBatch: min(batch, ctx), pool: pool)
        let reference = try klReference.map { path in
            let model = try common.loadModel(path, pool: pool, arithmetic: kernel.arithmetic(default: .precise))
            guard model.tokenizer.encode(contents) == tokens else {
                throw ValidationError("--kl-reference \(path) tokenizes the text differently: the two models must share a tokenizer")
            }
            return Transformer(weights: model.weights, contextLength: ctx, maxBatch: min(batch, ctx), pool: pool)
        }
        common.log("scoring \(tokens.count) tokens of \(text) in chunks of \(ctx)")
        let result = try Perplexity.evaluate(
            transformer, reference: reference, tokens: tokens, context: ctx,
            bos: loaded.tokenizer.addBOS ? loaded.tokenizer.bosID : nil
        ) { chunk, chunks, running in
            common.progress("[\(chunk)/\(chunks)] ppl \(String(format: "%.4f", running))")
        }
        common.endProgress()
        if common.json {
            try common.printJSON(result)
        } else {
            print(String(format: "ppl = %.4f ± %.4f  (%d chunks of %d, %d tokens scored, %.1f s)",
                         result.ppl, result.error, result.chunks, result.context, result.tokensScored, result.seconds))
            if let d = result.divergence {
                print(String(format: "reference ppl = %.4f, mean KL = %.5f ± %.5f nats (99th percentile %.4f, max %.4f), same top token %.2f%%",
                             d.referencePPL, d.meanKL, d.meanKLError, d.p99KL, d.maxKL, 100 * d.sameTopToken))
            }
        }
    }
}
