import NIOConcurrencyHelpers
import Protocol
import Runtime

/// Counters and latency windows of the requests this agent has answered, for telemetry.
final class ServingStats: Sendable {
    struct Snapshot: Sendable {
        var served = 0
        /// Error replies by code.
        var failures: [RequestError.Code: Int] = [:]
        var inputTokens = 0
        var outputTokens = 0
        var timeToFirstToken = LatencyWindow()
        var timePerOutputToken = LatencyWindow()
        var tokensPerSecond = LatencyWindow()
        var requestDuration = LatencyWindow()

        var failed: Int { failures.values.reduce(0, +) }

        /// A copy whose collections have storage of their own. A plain copy would share it with
        /// the counters, copy on write keeping that safe through reference counts that
        /// ThreadSanitizer cannot see (the Swift runtime is not instrumented): a later update,
        /// finding the storage unique again, mutates it in place, and TSan reports that as
        /// racing with the snapshot's earlier reads on the telemetry thread.
        func unshared() -> Snapshot {
            var copy = self
            copy.failures = failures.mapValues { $0 }
            copy.timeToFirstToken = timeToFirstToken.unshared()
            copy.timePerOutputToken = timePerOutputToken.unshared()
            copy.tokensPerSecond = tokensPerSecond.unshared()
            copy.requestDuration = requestDuration.unshared()
            return copy
        }
    }

    private let state = NIOLockedValueBox(Snapshot())

    func recordServed(_ result: GenerationResult, duration: Double) {
        state.withLockedValue { stats in
            stats.served += 1
            stats.inputTokens += result.tokensIn
            stats.outputTokens += result.tokensOut
            stats.timeToFirstToken.record(result.timeToFirstTokenSeconds)
            stats.requestDuration.record(duration)
            if result.tokensPerSecond > 0 {
                stats.tokensPerSecond.record(result.tokensPerSecond)
                stats.timePerOutputToken.record(1 / result.tokensPerSecond)
            }
        }
    }

    func recordFailure(_ code: RequestError.Code) {
        state.withLockedValue { $0.failures[code, default: 0] += 1 }
    }

    var snapshot: Snapshot { state.withLockedValue { $0.unshared() } }
}
