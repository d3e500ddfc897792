import Foundation
import Parallel

/// A Hugging Face checkpoint directory as a `ModelSource`, in GGUF's names and conventions.
///
/// The directory holds `config.json`; the weights, as one `model.safetensors` or as shards listed
/// in `model.safetensors.index.json`; `tokenizer.json`; and optionally `tokenizer_config.json`
/// (special tokens, chat template) and `chat_template.jinja`. `LlamaForCausalLM` (SmolLM2 among
/// them) and `Qwen2ForCausalLM` checkpoints are supported.
///
/// Tensors are renamed to GGUF's names and report GGUF's shapes (Hugging Face's reversed), and
/// llama's q and k rows are reordered as they are read (`HuggingFaceRopePermutation`), so every
/// tensor equals what llama.cpp's converter would have written before quantizing.
public final class SafetensorsModelSource: ModelSource {
    public let path: String
    public let config: ModelConfig
    public let tokenizer: TokenizerSpec
    /// The weight files, shards in name order.
    public let files: [SafetensorsFile]
    /// In GGUF naming, in file order.
    public let tensorNames: [String]
    private let tensorsByName: [String: Located]

    /// Where a GGUF-named tensor is stored, and how its rows must be reordered.
    private struct Located: Sendable {
        let file: SafetensorsFile
        let tensor: SafetensorsTensor
        let permutation: HuggingFaceRopePermutation?
    }

    /// Opens the checkpoint directory at `path`, reading every file's header but no weights.
    ///
    /// Throws `ModelSourceError` for a missing, malformed or unsupported config, tokenizer or
    /// index, or for tensors the model should not have; `SafetensorsError` or `MappedFileError`
    /// for a weight file that is not a valid safetensors file.
    public init(path: String) throws {
        let directory = URL(fileURLWithPath: path, isDirectory: true)
        let hfConfig = try decodeJSONFile(HuggingFaceConfig.self, at: directory.appendingPathComponent("config.json"))
        let architecture = try hfConfig.architecture()
        let files = try Self.openWeights(in: directory)
        let tied = hfConfig.tiedEmbeddings ?? false

        var tensorsByName: [String: Located] = [:]
        var tensorNames: [String] = []
        for file in files {
            for tensor in file.tensors {
                // A tied checkpoint that still saves lm_head gets the embeddings as its head in
                // transformers too, so the copy is dropped rather than used.
                if HuggingFaceTensorNames.isIgnored(tensor.name) || (tied && tensor.name == "lm_head.weight") {
                    continue
                }
                guard let name = HuggingFaceTensorNames.ggufName(of: tensor.name) else {
                    throw ModelSourceError.invalid("\(file.file.path): tensor '\(tensor.name)' is not part of a \(architecture) model")
                }
                if let other = tensorsByName[name] {
                    throw ModelSourceError.invalid("tensor '\(tensor.name)' is stored twice, in \(other.file.file.path) and \(file.file.path)")
                }
                let permutation = architecture == "llama" ? try Self.ropePermutation(of: name, tensor, hfConfig) : nil
                tensorsByName[name] = Located(file: file, tensor: tensor, permutation: permutation)
                tensorNames.append(name)
            }
        }
        if !tied && tensorsByName["output.weight"] == nil {
            throw ModelSourceError.invalid("config.json does not tie the output head to the embeddings, but there is no lm_head.weight")
        }

        self.path = path
        self.files = files
        self.tensorNames = tensorNames
        self.tensorsByName = tensorsByName
        config = try hfConfig.modelConfig(name: directory.lastPathComponent,
                                          attentionBias: tensorsByName["blk.0.attn_q.bias"] != nil)
        tokenizer = try Self.tokenizer(in: directory, config: hfConfig)
    }

    public func shape(of name: String) -> [Int]? {
        tensorsByName[name].map { Array($0.tensor.shape.reversed()) }
    }

    /// How tensor `name` (in GGUF naming) is stored: its Hugging Face name, dtype and shape.
    public func storedTensor(named name: String) -> SafetensorsTensor? {
        tensorsByName[name]?.tensor
    }

    public func readFloats(_ name: String, into destination: UnsafeMutablePointer<Float>, pool: ThreadPool) throws {
        guard let located = tensorsByName[name] else { throw ModelSourceError.missingTensor(name) }
        try located.file.readFloats(located.tensor, into: destination, pool: pool,
                                    sourceRow: located.permutation?.sourceRow(of:) ?? { $0 })
    }

    /// The single `model.safetensors`, or every shard that `model.safetensors.index.json` names,
    /// each checked to hold the tensors the index places in it.
    private static func openWeights(in directory: URL) throws -> [SafetensorsFile] {
        let indexURL = directory.appendingPathComponent("model.safetensors.index.json")
        guard FileManager.default.fileExists(atPath: indexURL.path) else {
            let single = directory.appendingPathComponent("model.safetensors")
            guard FileManager.default.fileExists(atPath: single.path) else {
                throw ModelSourceError.invalid("\(directory.path) has neither model.safetensors nor model.safetensors.index.json")
            }
            return [try SafetensorsFile(path: single.path)]
        }
        let weightMap = try decodeJSONFile(SafetensorsShardIndex.self, at: indexURL).weightMap
        var shards: [String: SafetensorsFile] = [:]
        for shard in Set(weightMap.values).sorted() {
            guard !shard.contains("/") else {
                throw ModelSourceError.invalid("model.safetensors.index.json names shard '\(shard)' outside the checkpoint directory")
            }
            shards[shard] = try SafetensorsFile(path: directory.appendingPathComponent(shard).path)
        }
        for (tensor, shard) in weightMap where shards[shard]?.tensor(named: tensor) == nil {
            throw ModelSourceError.invalid("model.safetensors.index.json places '\(tensor)' in \(shard), which has no such tensor")
        }
        return shards.keys.sorted().map { shards[$0]! }
    }

    /// For llama's q and k weights and biases, the row order of GGUF's interleaved RoPE.
    private static func ropePermutation(
        of name: String, _ tensor: SafetensorsTensor, _ config: HuggingFaceConfig
    ) throws(ModelSourceError) -> HuggingFaceRopePermutation? {
        let heads: Int
        switch name.split(separator: ".").dropFirst(2).first {
        case "attn_q": heads = config.heads
        case "attn_k": heads = config.kvHeads ?? config.heads
        default: return nil
        }
        do {
            return try HuggingFaceRopePermutation(heads: heads, rows: tensor.rowCount)
        } catch {
            throw .invalid("tensor '\(tensor.name)': \(error)")
        }
    }

    /// `tokenizer.json`, with the special tokens and chat template of `tokenizer_config.json` or
    /// `chat_template.jinja` where the checkpoint has them.
    private static func tokenizer(in directory: URL, config: HuggingFaceConfig) throws -> TokenizerSpec {
        func existing(_ name: String) -> URL? {
            let url = directory.appendingPathComponent(name)
            return FileManager.default.fileExists(atPath: url.path) ? url : nil
        }
        let file = try decodeJSONFile(HuggingFaceTokenizerFile.self, at: directory.appendingPathComponent("tokenizer.json"))
        var tokenizerConfig: HuggingFaceTokenizerConfig?
        if let url = existing("tokenizer_config.json") {
            tokenizerConfig = try decodeJSONFile(HuggingFaceTokenizerConfig.self, at: url)
        }
        var chatTemplate = tokenizerConfig?.chatTemplate?.text
        if chatTemplate == nil, let url = existing("chat_template.jinja") {
            chatTemplate = try String(contentsOf: url, encoding: .utf8)
        }
        return try HuggingFaceTokenizer(file: file, tokenizerConfig: tokenizerConfig, chatTemplate: chatTemplate)
            .spec(config: config)
    }
}

/// `model.safetensors.index.json`: the shard that holds each tensor.
struct SafetensorsShardIndex: Decodable {
    var weightMap: [String: String]

    enum CodingKeys: String, CodingKey {
        case weightMap = "weight_map"
    }
}
