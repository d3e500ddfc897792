import Engine
import Foundation
import ModelFile
import Parallel
import Tokenizer

/// How a `.hlq` model's matrices are computed.
public enum HLQArithmetic: Sendable, Hashable {
    /// The LUT kernels, with activation tables of this precision: the runtime.
    case lut(TablePrecision)
    /// Float32 dequantized from the file, on the dense path: the exact reference the LUT kernels'
    /// table rounding is measured against.
    case exactFloat

    /// How `LoadedModel.kind` names it: the tables are a runtime setting, which `bench` reports apart.
    var kind: String {
        switch self {
        case .lut: "hlq"
        case .exactFloat: "hlq (float reference)"
        }
    }
}

/// A model ready to run: its weights, tokenizer and chat template, from whichever file it came.
public struct LoadedModel: Sendable {
    public var weights: ModelWeights
    public var tokenizer: Tokenizer
    public var chatTemplate: ChatTemplate?
    public var path: String
    /// "hlq" for a quantized model on the LUT kernels, "f32" (or "f16", matrices in half floats) for
    /// the float reference path.
    public var kind: String
    /// Bytes of the model file mapped in place (0 when the weights were converted into heap memory).
    public var mappedBytes: Int
    /// How a `.hlq` model was quantized; nil for a float model.
    public var recipe: QuantizationRecipe?

    /// Opens `path`: a `.hlq` model runs in place as `arithmetic` says (the LUT kernels by default);
    /// a GGUF file or a Hugging Face checkpoint directory is dequantized (its matrices held as
    /// `floatMatrices` says) and runs on the reference path.
    public static func open(_ path: String, pool: ThreadPool, arithmetic: HLQArithmetic = .lut(.precise),
                            floatMatrices: FloatMatrices = .f32) throws -> LoadedModel {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
           try HLQFile.looksLikeHLQ(path: path) {
            let file = try HLQFile(path: path)
            return LoadedModel(
                weights: try .mapped(file, arithmetic: arithmetic), tokenizer: try Tokenizer(spec: file.metadata.tokenizer),
                chatTemplate: file.metadata.tokenizer.chatTemplate.flatMap(ChatTemplate.init(template:)), path: path,
                kind: arithmetic.kind, mappedBytes: file.fileSize, recipe: file.metadata.recipe)
        }
        let source = try ModelSources.open(path)
        return LoadedModel(
            weights: try .float(from: source, pool: pool, matrices: floatMatrices), tokenizer: try Tokenizer(spec: source.tokenizer),
            chatTemplate: source.tokenizer.chatTemplate.flatMap(ChatTemplate.init(template:)), path: path, kind: floatMatrices.rawValue,
            mappedBytes: 0, recipe: nil)
    }
}
