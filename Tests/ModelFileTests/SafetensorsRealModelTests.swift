import TestSupport
import Foundation
import Parallel
import Testing
import ModelFile

/// The real SmolLM2-135M-Instruct, turned back into a Hugging Face checkpoint by
/// `tools/dev/make-hf-checkpoint.py` and imported again: it must come out as the GGUF it was made from.
///
/// The script un-permutes q and k and renames every tensor, and the importer must undo both, so
/// equal tensors prove the name mapping and the RoPE permutation; equal configs and vocabularies
/// prove the config.json and tokenizer.json readers on a full-size, real-world vocabulary.
@Suite(.needs(.realModel, .pythonOracle)) struct SafetensorsRealModelTests {
    @Test func checkpointImportsAsTheGGUF() throws {
        let gguf = try GGUFModelSource(path: realModelPath())
        try withTemporaryDirectory { directory in
            let checkpoint = directory.appendingPathComponent("SmolLM2-135M-Instruct")
            try runPythonTool("make-hf-checkpoint.py", [gguf.path, checkpoint.path],
                              installHint: "The checkpoint maker needs python3 with gguf and numpy: "
                                  + "python3 -m pip install -r tools/setup/test-requirements.txt")
            let source = try SafetensorsModelSource(path: checkpoint.path)
            #expect(source.files.map { URL(fileURLWithPath: $0.file.path).lastPathComponent }
                    == ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
            expectSameConfig(source, gguf)
            #expect(source.tokenizer == gguf.tokenizer)
            try expectSameTensors(source, gguf)
        }
    }

    /// Equal but for the name: GGUF's is `general.name`, which llama.cpp's converter makes up
    /// from the Hugging Face model card, while a checkpoint's is its directory's name.
    private func expectSameConfig(_ source: SafetensorsModelSource, _ gguf: GGUFModelSource) {
        #expect(source.config.name == "SmolLM2-135M-Instruct")
        #expect(gguf.config.name == "Smollm2 135M 8k Lc100K Mix1 Ep2")
        var expected = gguf.config
        expected.name = source.config.name
        #expect(source.config == expected)
    }

    /// Every tensor is the GGUF's, dequantized: exactly where the script stored F32, and otherwise
    /// exactly the GGUF value rounded to nearest-even F16 or BF16, as the script stored it.
    private func expectSameTensors(_ source: SafetensorsModelSource, _ gguf: GGUFModelSource) throws {
        #expect(source.tensorNames.sorted() == gguf.tensorNames.sorted())
        let pool = ThreadPool(threadCount: 4)
        var dtypesSeen: Set<SafetensorsDType> = []
        for name in gguf.tensorNames {
            #expect(source.shape(of: name) == gguf.shape(of: name), "\(name)")
            let stored = try #require(source.storedTensor(named: name))
            dtypesSeen.insert(stored.dtype)
            let expected = try gguf.floats(name, pool: pool).map { value in
                switch stored.dtype {
                case .f16: Float(Float16(value))
                case .bf16: roundedToBFloat16(value)
                default: value
                }
            }
            let actual = try source.floats(name, pool: pool)
            #expect(firstBitDifference(actual, expected) == nil, "\(name), stored as \(stored.dtype.rawValue)")
        }
        #expect(dtypesSeen == [.f32, .f16, .bf16])
    }

    /// `value` rounded to the nearest bfloat16 (ties to even), as torch and the script round.
    private func roundedToBFloat16(_ value: Float) -> Float {
        let bits = value.bitPattern
        let rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000
        return Float(bitPattern: rounded)
    }
}
