import TestSupport
import Foundation
import Parallel
import Testing
import ModelFile

/// A tiny Hugging Face checkpoint directory, built from JSON objects and safetensors builders,
/// so each test can change exactly the file it is about.
struct CheckpointFixture {
    var config: [String: Any]
    /// Weight files by name.
    var weights: [String: SafetensorsBuilder]
    var index: [String: Any]? = nil
    var tokenizer: [String: Any]
    var tokenizerConfig: [String: Any]? = nil
    /// The contents of `chat_template.jinja`.
    var chatTemplateFile: String? = nil

    /// A one-layer llama: width 8, two heads of 4, one key-value head, vocabulary of 6 (plus an
    /// added token past it), F32 weights whose entries name their position (100 × row + column).
    static func llama() -> CheckpointFixture {
        var weights = SafetensorsBuilder()
        let shapes: [(String, [Int])] = [
            ("model.embed_tokens.weight", [6, 8]),
            ("model.layers.0.input_layernorm.weight", [8]),
            ("model.layers.0.self_attn.q_proj.weight", [8, 8]),
            ("model.layers.0.self_attn.k_proj.weight", [4, 8]),
            ("model.layers.0.self_attn.v_proj.weight", [4, 8]),
            ("model.layers.0.self_attn.o_proj.weight", [8, 8]),
            ("model.layers.0.post_attention_layernorm.weight", [8]),
            ("model.layers.0.mlp.gate_proj.weight", [4, 8]),
            ("model.layers.0.mlp.up_proj.weight", [4, 8]),
            ("model.layers.0.mlp.down_proj.weight", [8, 4]),
            ("model.norm.weight", [8]),
        ]
        for (name, shape) in shapes {
            weights.addCounting(name, shape: shape)
        }
        return CheckpointFixture(
            config: [
                "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 8,
                "intermediate_size": 4, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1,
                "vocab_size": 6, "max_position_embeddings": 64, "rope_theta": 500000.0, "rms_norm_eps": 1e-05,
                "tie_word_embeddings": true, "bos_token_id": 0, "eos_token_id": 4,
            ],
            weights: ["model.safetensors": weights],
            tokenizer: [
                "version": "1.0",
                "added_tokens": [
                    ["id": 4, "content": "<|end|>", "special": true],
                    ["id": 7, "content": "<tool>", "special": false],
                ],
                "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "use_regex": true],
                "post_processor": ["type": "ByteLevel"],
                "model": ["type": "BPE", "vocab": ["a": 0, "b": 1, "ab": 2, "Ġ": 3, "<|end|>": 4], "merges": ["a b", "Ġ a"]],
            ])
    }

    /// The same model as qwen2: q, k and v biases, and an untied output head.
    static func qwen2() -> CheckpointFixture {
        var fixture = llama()
        fixture.config["architectures"] = ["Qwen2ForCausalLM"]
        fixture.config["tie_word_embeddings"] = false
        fixture.weights["model.safetensors"]!.addCounting("model.layers.0.self_attn.q_proj.bias", shape: [8])
        fixture.weights["model.safetensors"]!.addCounting("model.layers.0.self_attn.k_proj.bias", shape: [4])
        fixture.weights["model.safetensors"]!.addCounting("model.layers.0.self_attn.v_proj.bias", shape: [4])
        fixture.weights["model.safetensors"]!.addCounting("lm_head.weight", shape: [6, 8])
        return fixture
    }

    func write(to directory: URL) throws {
        func writeJSON(_ object: Any, _ name: String) throws {
            try JSONSerialization.data(withJSONObject: object).write(to: directory.appendingPathComponent(name))
        }
        try writeJSON(config, "config.json")
        try writeJSON(tokenizer, "tokenizer.json")
        if let tokenizerConfig { try writeJSON(tokenizerConfig, "tokenizer_config.json") }
        if let index { try writeJSON(index, "model.safetensors.index.json") }
        if let chatTemplateFile {
            try chatTemplateFile.write(to: directory.appendingPathComponent("chat_template.jinja"), atomically: false, encoding: .utf8)
        }
        for (name, builder) in weights {
            try Data(builder.build()).write(to: directory.appendingPathComponent(name))
        }
    }

    /// Writes the checkpoint to a temporary directory named `tiny`, and opens it.
    func open<T>(_ body: (SafetensorsModelSource) throws -> T) throws -> T {
        try withTemporaryDirectory { parent in
            let directory = parent.appendingPathComponent("tiny")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
            try write(to: directory)
            return try body(SafetensorsModelSource(path: directory.path))
        }
    }

    /// The error opening the checkpoint must fail with (recording an issue if it opens).
    func openingError(sourceLocation: SourceLocation = #_sourceLocation) throws -> (any Error)? {
        do {
            try open { _ in }
            Issue.record("the checkpoint opened", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    func expectOpeningError(_ message: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let error = try openingError(sourceLocation: sourceLocation)
        #expect(error.map { "\($0)".contains(message) } == true, "\(error.map { "\($0)" } ?? "no error")",
                sourceLocation: sourceLocation)
    }
}

extension SafetensorsBuilder {
    /// Adds an F32 tensor whose entries name their position: 100 × row + column.
    mutating func addCounting(_ name: String, shape: [Int]) {
        let columns = shape.dropFirst().reduce(1, *)
        let values = (0..<shape.reduce(1, *)).map { Float(100 * ($0 / columns) + $0 % columns) }
        add(name, "F32", shape: shape, data: values.flatMap { bytesLE($0.bitPattern) })
    }
}

@Suite struct SafetensorsModelSourceTests {
    let pool = ThreadPool(threadCount: 2)

    // MARK: Config

    @Test func llamaConfig() throws {
        try CheckpointFixture.llama().open { source throws in
            #expect(source.config == ModelConfig(
                architecture: "llama", name: "tiny", layers: 1, embeddingSize: 8, feedForwardSize: 4, heads: 2,
                kvHeads: 1, headSize: 4, vocabularySize: 6, contextLength: 64, ropeTheta: 500_000,
                ropeStyle: .interleaved, ropeScaling: nil, normEpsilon: 1e-5, tiedEmbeddings: true, attentionBias: false))
            #expect(source.path.hasSuffix("/tiny"))
        }
    }

    @Test func qwen2Config() throws {
        try CheckpointFixture.qwen2().open { source throws in
            #expect(source.config.architecture == "qwen2")
            #expect(source.config.ropeStyle == .neox)
            #expect(source.config.attentionBias)
            #expect(!source.config.tiedEmbeddings)
        }
    }

    /// What `transformers` assumes when config.json leaves a key out.
    @Test func configDefaults() throws {
        var fixture = CheckpointFixture.llama()
        for key in ["num_key_value_heads", "rope_theta", "rms_norm_eps", "tie_word_embeddings"] {
            fixture.config[key] = nil
        }
        fixture.weights["model.safetensors"]!.addCounting("lm_head.weight", shape: [6, 8])
        try fixture.open { source throws in
            #expect(source.config.kvHeads == 2)
            #expect(source.config.ropeTheta == 10000)
            #expect(source.config.normEpsilon == 1e-6)
            #expect(!source.config.tiedEmbeddings)
        }
    }

    @Test func explicitHeadSize() throws {
        var fixture = CheckpointFixture.llama()
        fixture.config["head_dim"] = 2
        fixture.config["num_attention_heads"] = 4
        fixture.config["num_key_value_heads"] = 2
        try fixture.open { source throws in
            #expect(source.config.headSize == 2)
            #expect(source.config.kvSize == 4)
        }
    }

    @Test func ropeScaling() throws {
        var fixture = CheckpointFixture.llama()
        fixture.config["rope_scaling"] = ["rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                                          "high_freq_factor": 4.0, "original_max_position_embeddings": 8192]
        try fixture.open { source throws in
            #expect(source.config.ropeScaling == RopeScaling(kind: "llama3", factor: 32, lowFrequencyFactor: 1,
                                                             highFrequencyFactor: 4, originalContextLength: 8192))
        }
        fixture.config["rope_scaling"] = ["type": "linear", "factor": 2.0]
        try fixture.open { source in #expect(source.config.ropeScaling == RopeScaling(kind: "linear", factor: 2)) }
        fixture.config["rope_scaling"] = ["rope_type": "default"]
        try fixture.open { source in #expect(source.config.ropeScaling == nil) }
        fixture.config["rope_scaling"] = NSNull()
        try fixture.open { source in #expect(source.config.ropeScaling == nil) }
        fixture.config["rope_scaling"] = ["rope_type": "yarn", "factor": 4.0]
        try fixture.expectOpeningError("config.json: rope_scaling type 'yarn' is not supported (linear and llama3 are)")
        fixture.config["rope_scaling"] = ["rope_type": "linear"]
        try fixture.expectOpeningError("config.json: rope_scaling 'linear' has no factor")
    }

    @Test func badConfigs() throws {
        var fixture = CheckpointFixture.llama()
        fixture.config["architectures"] = ["MistralForCausalLM"]
        #expect(try fixture.openingError() as? ModelSourceError == .unsupportedArchitecture("MistralForCausalLM"))
        fixture.config["architectures"] = nil
        try fixture.expectOpeningError("architecture '(config.json names no architecture)' is not supported")
        fixture = .llama()
        fixture.config["hidden_size"] = nil
        try fixture.expectOpeningError("config.json: 'hidden_size' is missing")
        fixture = .llama()
        fixture.config["rope_scaling"] = ["rope_type": "linear", "factor": "two"]
        try fixture.expectOpeningError("config.json: 'rope_scaling.factor': ")
        fixture = .llama()
        fixture.config = [:]
        fixture.weights = [:]
        try withTemporaryDirectory { directory in
            let error = #expect(throws: ModelSourceError.self) { try SafetensorsModelSource(path: directory.path) }
            #expect(error?.description.hasPrefix("cannot read \(directory.path)/config.json") == true)
        }
    }

    // MARK: Tensors

    /// Hugging Face names become GGUF names, shapes are reversed, and the tied head has no tensor.
    @Test func namesAndShapes() throws {
        try CheckpointFixture.llama().open { source throws in
            let expected: [String: (hf: String, shape: [Int])] = [
                "token_embd.weight": ("model.embed_tokens.weight", [8, 6]),
                "blk.0.attn_norm.weight": ("model.layers.0.input_layernorm.weight", [8]),
                "blk.0.attn_q.weight": ("model.layers.0.self_attn.q_proj.weight", [8, 8]),
                "blk.0.attn_k.weight": ("model.layers.0.self_attn.k_proj.weight", [8, 4]),
                "blk.0.attn_v.weight": ("model.layers.0.self_attn.v_proj.weight", [8, 4]),
                "blk.0.attn_output.weight": ("model.layers.0.self_attn.o_proj.weight", [8, 8]),
                "blk.0.ffn_norm.weight": ("model.layers.0.post_attention_layernorm.weight", [8]),
                "blk.0.ffn_gate.weight": ("model.layers.0.mlp.gate_proj.weight", [8, 4]),
                "blk.0.ffn_up.weight": ("model.layers.0.mlp.up_proj.weight", [8, 4]),
                "blk.0.ffn_down.weight": ("model.layers.0.mlp.down_proj.weight", [4, 8]),
                "output_norm.weight": ("model.norm.weight", [8]),
            ]
            #expect(Set(source.tensorNames) == Set(expected.keys))
            #expect(source.tensorNames.count == expected.count)
            for (name, (hf, shape)) in expected {
                #expect(source.storedTensor(named: name)?.name == hf)
                #expect(source.shape(of: name) == shape, "\(name)")
            }
            #expect(source.shape(of: "output.weight") == nil)
            #expect(throws: ModelSourceError.missingTensor("output.weight")) { try source.floats("output.weight", pool: pool) }
        }
    }

    /// llama's q rows come out in GGUF's order, per head of the attention heads, and k's per
    /// key-value head; every other tensor is as stored.
    @Test func llamaQueryAndKeyArePermuted() throws {
        try CheckpointFixture.llama().open { source throws in
            // Two heads of 4 rows for q, one head of 4 for k: rows 0, 2, 1, 3 of each head.
            #expect(try rows(of: "blk.0.attn_q.weight", in: source) == [0, 2, 1, 3, 4, 6, 5, 7])
            #expect(try rows(of: "blk.0.attn_k.weight", in: source) == [0, 2, 1, 3])
            #expect(try rows(of: "blk.0.attn_v.weight", in: source) == [0, 1, 2, 3])
            #expect(try rows(of: "blk.0.ffn_down.weight", in: source) == Array(0..<8))
            #expect(try source.floats("blk.0.attn_q.weight", pool: pool).prefix(16)
                    == [0, 1, 2, 3, 4, 5, 6, 7, 200, 201, 202, 203, 204, 205, 206, 207])
            #expect(try source.floats("blk.0.attn_norm.weight", pool: pool) == (0..<8).map { Float(100 * $0) })
        }
    }

    /// A llama with attention biases (`attention_bias`) has them permuted like their rows.
    @Test func llamaBiasesArePermutedLikeTheirRows() throws {
        var fixture = CheckpointFixture.llama()
        let bias = (0..<8).map { Float($0) }
        fixture.weights["model.safetensors"]!.add("model.layers.0.self_attn.q_proj.bias", "F32", shape: [8],
                                                   data: bias.flatMap { bytesLE($0.bitPattern) })
        try fixture.open { source throws in
            #expect(source.config.attentionBias)
            #expect(try source.floats("blk.0.attn_q.bias", pool: pool) == [0, 2, 1, 3, 4, 6, 5, 7])
            #expect(source.shape(of: "blk.0.attn_q.bias") == [8])
        }
    }

    @Test func qwen2IsNotPermutedAndKeepsItsHead() throws {
        try CheckpointFixture.qwen2().open { source throws in
            #expect(try rows(of: "blk.0.attn_q.weight", in: source) == Array(0..<8))
            #expect(try rows(of: "blk.0.attn_k.weight", in: source) == Array(0..<4))
            #expect(try source.floats("blk.0.attn_q.bias", pool: pool) == (0..<8).map { Float(100 * $0) })
            #expect(source.storedTensor(named: "output.weight")?.name == "lm_head.weight")
            #expect(source.shape(of: "output.weight") == [8, 6])
        }
    }

    /// A tied checkpoint that saves lm_head anyway has it dropped, as transformers ties over it;
    /// RoPE's saved inverse frequencies are not weights.
    @Test func redundantTensorsAreDropped() throws {
        var fixture = CheckpointFixture.llama()
        fixture.weights["model.safetensors"]!.addCounting("lm_head.weight", shape: [6, 8])
        fixture.weights["model.safetensors"]!.addCounting("model.layers.0.self_attn.rotary_emb.inv_freq", shape: [2])
        try fixture.open { source throws in
            #expect(source.tensorNames.count == 11)
            #expect(source.shape(of: "output.weight") == nil)
        }
    }

    @Test func unexpectedTensorsAreErrors() throws {
        for name in ["model.layers.0.self_attn.q_norm.weight", "model.layers.x.mlp.up_proj.weight",
                     "model.layers.01.mlp.up_proj.weight", "model.layers.0.mlp.up_proj.scales", "visual.proj"] {
            var fixture = CheckpointFixture.llama()
            fixture.weights["model.safetensors"]!.addCounting(name, shape: [2])
            try fixture.expectOpeningError("tensor '\(name)' is not part of a llama model")
        }
        var untied = CheckpointFixture.llama()
        untied.config["tie_word_embeddings"] = false
        try untied.expectOpeningError("config.json does not tie the output head to the embeddings, but there is no lm_head.weight")
        var oddHeads = CheckpointFixture.llama()
        oddHeads.config["num_attention_heads"] = 3
        try oddHeads.expectOpeningError("tensor 'model.layers.0.self_attn.q_proj.weight': 8 rows cannot be split into 3 heads")
    }

    // MARK: Shards

    /// Tensors spread over shards as `transformers` saves big models, with mixed dtypes.
    @Test func shardedWeights() throws {
        var fixture = CheckpointFixture.llama()
        var first = fixture.weights["model.safetensors"]!
        var second = SafetensorsBuilder()
        second.tensors = Array(first.tensors.suffix(5))
        first.tensors.removeLast(5)
        // The embeddings as F16 and the final norm as BF16, holding the same small integers.
        first.tensors[0] = .init(name: "model.embed_tokens.weight", dtype: "F16", shape: [6, 8],
                                 data: (0..<48).flatMap { bytesLE(Float16(Float(100 * ($0 / 8) + $0 % 8)).bitPattern) })
        second.tensors[4] = .init(name: "model.norm.weight", dtype: "BF16", shape: [8],
                                  data: (0..<8).flatMap { bytesLE(UInt16(Float($0).bitPattern >> 16)) })
        let shardNames = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
        fixture.weights = [shardNames[0]: first, shardNames[1]: second]
        var weightMap: [String: String] = [:]
        for (shard, builder) in zip(shardNames, [first, second]) {
            for tensor in builder.tensors { weightMap[tensor.name] = shard }
        }
        fixture.index = ["metadata": ["total_size": 0], "weight_map": weightMap]
        try fixture.open { source throws in
            #expect(source.files.count == 2)
            #expect(source.tensorNames.count == 11)
            #expect(source.storedTensor(named: "token_embd.weight")?.dtype == .f16)
            #expect(try source.floats("token_embd.weight", pool: pool)[8..<10] == [100, 101])
            #expect(source.storedTensor(named: "output_norm.weight")?.dtype == .bf16)
            #expect(try source.floats("output_norm.weight", pool: pool) == (0..<8).map(Float.init))
            #expect(try rows(of: "blk.0.attn_q.weight", in: source) == [0, 2, 1, 3, 4, 6, 5, 7])
        }

        var misplaced = fixture
        weightMap["model.norm.weight"] = shardNames[0]
        misplaced.index = ["weight_map": weightMap]
        try misplaced.expectOpeningError(
            "model.safetensors.index.json places 'model.norm.weight' in \(shardNames[0]), which has no such tensor")

        var duplicated = fixture
        duplicated.weights[shardNames[1]]!.tensors.append(first.tensors[1])
        try duplicated.expectOpeningError("tensor 'model.layers.0.input_layernorm.weight' is stored twice")

        var escaping = fixture
        escaping.index = ["weight_map": ["model.norm.weight": "../elsewhere.safetensors"]]
        try escaping.expectOpeningError("names shard '../elsewhere.safetensors' outside the checkpoint directory")

        var missingShard = fixture
        missingShard.weights[shardNames[1]] = nil
        try missingShard.expectOpeningError("cannot open")
        try missingShard.expectOpeningError("/tiny/\(shardNames[1]): No such file or directory")
    }

    @Test func missingWeights() throws {
        var fixture = CheckpointFixture.llama()
        fixture.weights = [:]
        try fixture.expectOpeningError("has neither model.safetensors nor model.safetensors.index.json")
    }

    @Test func corruptWeightsNameTheirFile() throws {
        var fixture = CheckpointFixture.llama()
        fixture.weights["model.safetensors"]!.tensors[3].dtype = "Q4"
        let error = try fixture.openingError() as? SafetensorsError
        #expect(error?.problem == .unknownDType(tensor: "model.layers.0.self_attn.k_proj.weight", dtype: "Q4"))
        #expect(error?.path.hasSuffix("/tiny/model.safetensors") == true)
    }

    /// The GGUF order of a matrix's rows, read back from the first entry of each (100 × stored row).
    private func rows(of name: String, in source: SafetensorsModelSource) throws -> [Int] {
        let shape = try #require(source.shape(of: name))
        let values = try source.floats(name, pool: pool)
        return stride(from: 0, to: values.count, by: shape[0]).map { Int(values[$0]) / 100 }
    }
}
