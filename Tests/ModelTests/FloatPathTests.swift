import Engine
import Evaluation
import Foundation
import ModelFile
import Parallel
import Runtime
import Testing
import TestSupport
import Tokenizer

/// The float reference path on the real SmolLM2: it must agree with llama.cpp.
@Suite(.serialized, .needs(.realModel)) struct FloatPathTests {
    /// llama.cpp's `llama-perplexity -c 512` on /usr/share/common-licenses/GPL-3 for this model: 18.30 ± 0.86.
    static let llamaCppPerplexity = 18.30

    @Test func perplexityMatchesLlamaCppWithinHalfAPercent() throws {
        let pool = ThreadPool(threadCount: 2)
        let model = try LoadedModel.open(try realModelPath(), pool: pool)
        let text = try String(contentsOfFile: "/usr/share/common-licenses/GPL-3", encoding: .utf8)
        let transformer = Transformer(weights: model.weights, contextLength: 512, maxBatch: 128, pool: pool)
        let result = try Perplexity.evaluate(transformer, tokens: model.tokenizer.encode(text), context: 512, bos: nil)
        #expect(result.chunks == 14)
        #expect(abs(result.ppl - Self.llamaCppPerplexity) / Self.llamaCppPerplexity <= 0.005, "ppl \(result.ppl)")
        #expect(abs(result.error - 0.86) < 0.05, "± \(result.error)")
    }

    /// Half-float matrices (finetuning's teacher) score the first chunks of GPL-3 within 0.1% of
    /// float32 ones: their rounding is far below any quantized student's error.
    @Test func halfFloatMatricesScoreAsFloat32Does() throws {
        let pool = ThreadPool(threadCount: 2)
        let source = try ModelSources.open(try realModelPath())
        let tokens = try Tokenizer(spec: source.tokenizer)
            .encode(try String(contentsOfFile: "/usr/share/common-licenses/GPL-3", encoding: .utf8))
        var scores: [Double] = []
        for matrices in [FloatMatrices.f32, .f16] {
            let weights = try ModelWeights.float(from: source, pool: pool, matrices: matrices)
            if matrices == .f16 {
                guard case .f16 = weights.blocks[0].query else { Issue.record("the matrices are not half floats"); return }
            }
            let transformer = Transformer(weights: weights, contextLength: 512, maxBatch: 128, pool: pool)
            scores.append(try Perplexity.evaluate(transformer, tokens: Array(tokens.prefix(1024)), context: 512, bos: nil).ppl)
        }
        #expect(abs(scores[1] - scores[0]) / scores[0] <= 0.001, "f32 \(scores[0]), f16 \(scores[1])")
        #expect(scores[1] != scores[0], "the half-float path computed exactly what float32 did: was it used?")
    }

    @Test func greedyChatAnswerIsSensibleAndRepeatable() throws {
        let pool = ThreadPool(threadCount: 2)
        let model = try LoadedModel.open(try realModelPath(), pool: pool)
        let generator = Generator(model: model, contextLength: 256, pool: pool)
        let prompt = model.tokenizer.encode(generator.chatPrompt([ChatMessage(role: "user", content: "What is the capital of France?")]))
        let options = GenerationOptions(maxTokens: 40, sampling: .greedy)
        let first = try generator.generate(prompt, options: options)
        let second = try generator.generate(prompt, options: options)
        #expect(first.text.contains("Paris"), "\(first.text)")
        #expect(first.text == second.text)
        #expect(first.finishReason == .stop)
    }
}
