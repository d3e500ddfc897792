import Protocol
import Runtime
import Synchronization

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
    }

    private let state = Mutex(Snapshot())

    func recordServed(_ result: GenerationResult, duration: Double) {
        state.withLock { stats in
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
        state.withLock { $0.failures[code, default: 0] += 1 }
    }

    var snapshot: Snapshot { state.withLock { $0 } }
}
