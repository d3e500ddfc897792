import ModelPush
import Protocol

/// What a `ModelReceiver` needs of the agent it works for: a way to answer the sender, the
/// served model (which a push must never replace), and the log.
protocol ModelReceiverSink: Sendable {
    /// Publishes a transfer event on `route`.
    func publish(_ event: PushEvent, to route: ReplyRoute)
    /// Whether `path` names the file being served.
    func isServed(_ path: String) -> Bool
    var log: Logger { get }
}
