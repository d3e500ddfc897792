import ModelFile
import Quantization
import Testing
import TestSupport

/// The head `quantize` gives each real model when the recipe names none (the recipe it starts
/// from, `QuantizationRecipe(for:…)`): Qwen's untied head is read whole every token, so it goes to
/// 4-bit HLQ in groups of 64; SmolLM2's tied head stays the q8 embedding table the lookups read,
/// with no tensor of its own. A precision the recipe names wins.
@Suite(.needs(.realModel)) struct DefaultHeadTests {
    func quantizer(_ path: String, output: HLQTensorType? = nil) throws -> ModelQuantizer {
        let source = try ModelSources.open(path)
        return ModelQuantizer(source: source, recipe: QuantizationRecipe(for: source.config, method: .hlq, bits: 2, groupSize: 128,
                                                                         output: output))
    }

    @Test func anUntiedHeadIsStoredAsFourBitHLQ() throws {
        let qwen = try quantizer(try realQwenModelPath())
        #expect(!qwen.source.config.tiedEmbeddings)
        #expect(qwen.type(of: "output.weight") == .hlq(bits: 4, groupSize: 64))
        #expect(qwen.type(of: "token_embd.weight") == .q8)
        #expect(qwen.type(of: "blk.0.ffn_down.weight") == .hlq(bits: 2, groupSize: 128))
        #expect(try quantizer(try realQwenModelPath(), output: .q8).type(of: "output.weight") == .q8)
    }

    @Test func aTiedHeadStaysTheEmbeddingTable() throws {
        let smol = try quantizer(try realModelPath())
        #expect(smol.source.config.tiedEmbeddings)
        #expect(smol.recipe.output == nil)
        #expect(!smol.tensorNames.contains("output.weight"))
        let ownHead = try quantizer(try realModelPath(), output: .hlq(bits: 4, groupSize: 64))
        #expect(ownHead.tensorNames.contains("output.weight"))
    }
}
