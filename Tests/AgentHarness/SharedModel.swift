import NIOConcurrencyHelpers
import Parallel
import Runtime
import TestSupport

/// The real SmolLM2 model, loaded once per test process and shared by every agent the tests start.
public enum SharedModel {
    private static let cache = NIOLockedValueBox<LoadedModel?>(nil)

    public static func load() throws -> LoadedModel {
        try cache.withLockedValue { cached in
            if let cached { return cached }
            let model = try LoadedModel.open(realModelPath(), pool: ThreadPool(threadCount: 2))
            cached = model
            return model
        }
    }
}
