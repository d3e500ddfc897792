import Parallel
import Runtime

/// The model being served, with its generator and its identity: swapped as one value between
/// requests, so a request runs start to finish on one model and its reply names that model.
struct ServingModel: Sendable {
    let runner: RequestRunner
    let identity: ModelIdentity
    let kvCacheBytes: Int

    /// Allocates the generator (and its KV cache) for `model`.
    init(model: LoadedModel, sha256: String, contextSize: Int, pool: ThreadPool) {
        let generator = Generator(model: model, contextLength: contextSize, pool: pool)
        runner = RequestRunner(generator: generator)
        identity = ModelIdentity(model: model, sha256: sha256)
        kvCacheBytes = generator.transformer.kvCacheBytes
    }

    /// The model file's path.
    var path: String { runner.generator.model.path }
}
