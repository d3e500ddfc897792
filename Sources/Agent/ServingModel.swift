import Parallel
import Protocol
import Runtime

/// The model being served, with its generator and its identity: swapped as one value between
/// requests, so a request runs start to finish on one model and its reply names that model.
struct ServingModel: Sendable {
    let runner: RequestRunner
    let identity: ModelIdentity
    let kvCacheBytes: Int
    /// The served file's identity, taken when it was loaded: what `rm`, `use` and a push's
    /// destination are compared with, however their paths are spelled.
    let file: FileIdentity?

    /// Allocates the generator (and its KV cache) for `model`.
    init(model: LoadedModel, sha256: String, contextSize: Int, pool: ThreadPool) {
        let generator = Generator(model: model, contextLength: contextSize, pool: pool)
        runner = RequestRunner(generator: generator)
        identity = ModelIdentity(model: model, sha256: sha256)
        kvCacheBytes = generator.transformer.kvCacheBytes
        file = FileIdentity(path: model.path)
    }

    /// Whether `path` names the file being served.
    func isServed(_ path: String) -> Bool {
        file != nil && FileIdentity(path: path) == file
    }
}
