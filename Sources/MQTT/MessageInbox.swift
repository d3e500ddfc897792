import Dispatch
import NIOConcurrencyHelpers

/// Messages that arrive on a client's delivery queue, kept in order for a thread that waits on them.
///
/// Pass `inbox.append` as the client's `onMessage`; a command-line tool or a test then reads
/// with `next(timeout:)` as if from a blocking socket.
public final class MessageInbox: Sendable {
    private let messages = NIOLockedValueBox<[MQTTMessage]>([])
    /// One signal per message appended and not yet taken.
    private let arrived = DispatchSemaphore(value: 0)

    public init() {}

    public func append(_ message: MQTTMessage) {
        messages.withLockedValue { $0.append(message) }
        arrived.signal()
    }

    /// The oldest message not yet taken, waiting up to `timeout` seconds for one to arrive.
    public func next(timeout: Double) -> MQTTMessage? {
        guard arrived.wait(timeout: .now() + max(0, timeout)) == .success else { return nil }
        return messages.withLockedValue { $0.removeFirst() }
    }
}
