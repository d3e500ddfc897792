import Foundation
import ModelFile
import Runtime

/// How the agent names its model to the fleet: in the retained status and in every final reply.
public struct ModelIdentity: Sendable, Equatable {
    /// The file name without its extension, e.g. `SmolLM2-135M-Instruct.Q4_1`.
    public var name: String
    /// SHA-256 of the model file, so a fleet can tell exactly which weights each device runs.
    public var sha256: String
    /// `hlq` on the LUT kernels, `f32` on the float reference path.
    public var format: String
    /// The quantization recipe, or nil for a model that runs unquantized.
    public var quantization: String?
    /// Bytes of the model file mapped in place (0 when the weights were converted into heap memory).
    public var mappedBytes: Int

    public init(model: LoadedModel, sha256: String) {
        name = URL(fileURLWithPath: model.path).deletingPathExtension().lastPathComponent
        self.sha256 = sha256
        format = model.kind
        quantization = model.recipe?.summary
        mappedBytes = model.mappedBytes
    }
}
