import Parallel

/// Where the time of forward passes goes, by kind of work, for `elutq bench --profile`: wall
/// time on the calling thread (which takes part in every parallel region), so the shares add up
/// to the whole pass. Not thread-safe: one forward pass at a time records into it.
public final class StepProfile: @unchecked Sendable {
    /// The kinds of work a forward pass does.
    public enum Work: String, CaseIterable, Sendable {
        /// Building the LUT kernels' activation tables (and the q8 kernels' int16 copies).
        case tables = "activation tables"
        /// The blocks' linear layers on the LUT kernels.
        case lutProducts = "LUT products"
        /// The blocks' linear layers stored as float, half float or q8.
        case denseProducts = "dense products"
        /// The final norm's output times the head.
        case outputHead = "output head"
        /// Scores, softmax and the weighted sum of values.
        case attention
        /// Norms, rotary embedding, biases, SwiGLU and residual additions.
        case elementwise = "norms, rotary, residuals"
        /// Picking the next token from the logits.
        case sampling
    }

    private var nanoseconds = [UInt64](repeating: 0, count: Work.allCases.count)

    public init() {}

    /// Adds the time since `start` (`monotonicNanoseconds()`) to `work`.
    public func add(_ work: Work, since start: UInt64) {
        nanoseconds[Work.allCases.firstIndex(of: work)!] += monotonicNanoseconds() - start
    }

    /// Runs `body`, adding its time to `work` of `profile` when there is one.
    @inline(__always)
    public static func measure<T>(_ profile: StepProfile?, _ work: Work, _ body: () -> T) -> T {
        guard let profile else { return body() }
        let start = monotonicNanoseconds()
        defer { profile.add(work, since: start) }
        return body()
    }

    /// Seconds recorded for each kind of work, in `Work.allCases` order.
    public var seconds: [(work: Work, seconds: Double)] {
        zip(Work.allCases, nanoseconds).map { ($0, Double($1) * 1e-9) }
    }
}
