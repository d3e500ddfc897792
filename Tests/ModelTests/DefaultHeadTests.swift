import ModelFile
import Quantization
import Testing
import TestSupport

/// The head `quantize` gives each real model when the recipe names none: Qwen's untied head is
/// read whole every token, so it goes to 4-bit HLQ in groups of 64; SmolLM2's tied head stays the
/// q8 embedding table the lookups read, with no tensor of its own.
@Suite(.needs(.realModel)) struct DefaultHeadTests {
    func quantizer(_ path: String) throws -> ModelQuantizer {
        let source = try ModelSources.open(path)
        let recipe = QuantizationRecipe(method: .hlq, bits: 2, groupSize: 128, embedding: .q8,
                                        output: QuantizationRecipe.defaultOutput(for: source.config), averageBitsPerWeight: 0)
        return ModelQuantizer(source: source, recipe: recipe)
    }

    @Test func anUntiedHeadIsStoredAsFourBitHLQ() throws {
        let qwen = try quantizer(try realQwenModelPath())
        #expect(!qwen.source.config.tiedEmbeddings)
        #expect(qwen.type(of: "output.weight") == .hlq(bits: 4, groupSize: 64))
        #expect(qwen.tensorNames.filter { $0 == "output.weight" }.count == 1)
        #expect(qwen.type(of: "token_embd.weight") == .q8)
    }

    @Test func aTiedHeadStaysTheEmbeddingTable() throws {
        let smol = try quantizer(try realModelPath())
        #expect(smol.source.config.tiedEmbeddings)
        #expect(!smol.tensorNames.contains("output.weight"))
        #expect(smol.type(of: "output.weight") == .q8)
    }
}
