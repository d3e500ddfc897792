import Dispatch
import NIOConcurrencyHelpers

/// Why an agent's process should end, posted once by whoever knows first: a termination signal,
/// or a condition the agent cannot recover from by retrying (another agent took over its
/// session, the broker keeps refusing its credentials). `elutq-agent` waits on it, stops the
/// agent and exits with `status`, so systemd's restart policy decides what happens next.
public final class ExitRequest: Sendable {
    /// The exit status of an agent that stopped because a newer agent uses its device id:
    /// elutq-agent.service's `RestartPreventExitStatus` keeps systemd from starting it again
    /// (which would only make it the newer one and stop the other).
    public static let duplicateDeviceID: Int32 = 3

    public enum Reason: Sendable, Equatable {
        /// SIGTERM or SIGINT: a clean stop, exit status 0.
        case signal(String)
        /// The agent cannot go on; the message says why, `status` is the exit status: 1 where a
        /// restart may help (credentials refused), `duplicateDeviceID` where it cannot.
        case fatal(String, status: Int32)

        public var status: Int32 {
            switch self {
            case .signal: 0
            case .fatal(_, let status): status
            }
        }
    }

    private let reason = NIOLockedValueBox<Reason?>(nil)
    private let posted = DispatchSemaphore(value: 0)

    public init() {}

    /// Records `reason` unless one was posted already (the first reason wins).
    public func post(_ reason: Reason) {
        let first = self.reason.withLockedValue { current in
            guard current == nil else { return false }
            current = reason
            return true
        }
        if first { posted.signal() }
    }

    /// The reason posted, if any.
    public var current: Reason? { reason.withLockedValue { $0 } }

    /// Waits until a reason is posted and returns it.
    public func wait() -> Reason {
        posted.wait()
        posted.signal()
        return current!
    }
}
