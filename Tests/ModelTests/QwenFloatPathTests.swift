import Evaluation
import Foundation
import Parallel
import Runtime
import Testing
import TestSupport
import Tokenizer

/// The real Qwen2.5-Coder-1.5B-Instruct on the float path: biases on q/k/v, an untied head, the
/// qwen2 tokenizer and ChatML, end to end.
@Suite(.serialized, .needs(.realModel)) struct QwenFloatPathTests {
    /// The model has the GPL's opening by heart: on its first two 512-token chunks llama.cpp's rule
    /// scores about 1.5. Any error in attention, biases, RoPE or the head sends it far above 2.
    @Test func knowsTheGPLByHeartAndAnswersAChat() throws {
        let pool = ThreadPool(threadCount: 2)
        let model = try LoadedModel.open(try realQwenModelPath(), pool: pool)
        let text = try String(contentsOfFile: "/usr/share/common-licenses/GPL-3", encoding: .utf8)
        let tokens = Array(model.tokenizer.encode(text).prefix(1024))
        let transformer = Transformer(weights: model.weights, contextLength: 512, maxBatch: 128, pool: pool)
        let result = try Perplexity.evaluate(transformer, tokens: tokens, context: 512, bos: nil)
        #expect(result.chunks == 2)
        #expect(result.ppl < 2, "ppl \(result.ppl)")

        let generator = Generator(model: model, contextLength: 256, pool: pool)
        let prompt = model.tokenizer.encode(generator.chatPrompt([ChatMessage(role: "user", content: "What is the capital of France?")]))
        let answer = try generator.generate(prompt, options: GenerationOptions(maxTokens: 24, sampling: .greedy))
        #expect(answer.text.contains("Paris"), "\(answer.text)")
    }
}
