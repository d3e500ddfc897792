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

    init(model: LoadedModel, sha256: String) {
        name = URL(fileURLWithPath: model.path).deletingPathExtension().lastPathComponent
        self.sha256 = sha256
        format = model.kind
        quantization = model.recipe?.summary
        mappedBytes = model.mappedBytes
    }

    /// The SHA-256 of `path`, from the `<path>.sha256` file beside it when that is newer than the
    /// model, otherwise hashed and saved there (in `sha256sum` format) for the next start.
    /// Hashing a large model takes seconds on a small board; the cache makes restarts instant.
    static func sha256(ofFile path: String, log: Logger) throws -> String {
        let cache = path + ".sha256"
        let files = FileManager.default
        if let modelDate = try? files.attributesOfItem(atPath: path)[.modificationDate] as? Date,
           let cacheDate = try? files.attributesOfItem(atPath: cache)[.modificationDate] as? Date, cacheDate >= modelDate,
           let line = try? String(contentsOfFile: cache, encoding: .utf8),
           let digest = line.split(separator: " ").first, digest.count == 64, digest.allSatisfy(\.isHexDigit) {
            return String(digest)
        }
        let digest = try FileDigest.sha256(path: path)
        let fileName = URL(fileURLWithPath: path).lastPathComponent
        do {
            try "\(digest)  \(fileName)\n".write(toFile: cache, atomically: true, encoding: .utf8)
        } catch {
            log.debug("cannot cache the model hash", ["file": cache, "error": error.localizedDescription])
        }
        return digest
    }
}
