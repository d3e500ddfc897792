import CMosquitto
import Dispatch
import Foundation
import NIOConcurrencyHelpers

/// libmosquitto's process-wide set-up, done once before the first client.
private let libraryStatus: Int32 = mosquitto_lib_init()

/// An MQTT v5 client over libmosquitto that keeps itself connected.
///
/// A thread owned by the client runs libmosquitto's network loop: it connects, reconnects with
/// exponential backoff after any failure, and subscribes again each time. Messages and connection
/// events reach the caller's closures on a serial dispatch queue, never on the network thread, so
/// a slow handler cannot stall the connection. QoS 1 and 2 messages published while offline wait
/// in order and go out after the next connection; QoS 0 ones are dropped, as their QoS allows.
///
/// Call `start()` once and `stop()` when done: the network thread keeps the client alive until then.
public final class MQTTClient: @unchecked Sendable {
    public let configuration: MQTTConfiguration
    /// libmosquitto's handle. In threaded mode libmosquitto guards its own state, so any thread may
    /// publish while the network thread reads; it is destroyed only in `deinit`, when nothing can.
    let handle: OpaquePointer
    let state: NIOLockedValueBox<State>
    let delivery: DispatchQueue
    let onMessage: @Sendable (MQTTMessage) -> Void
    let onEvent: @Sendable (MQTTEvent) -> Void
    /// Cuts a backoff wait short when `stop()` is called.
    let wakeUp = DispatchSemaphore(value: 0)
    /// Signalled by the network thread as it ends.
    let finished = DispatchSemaphore(value: 0)

    /// Messages held while offline, at most this many; the oldest go first when it overflows.
    static let outboxLimit = 10_000

    /// The mutable side of the client, shared by callers and the network thread.
    struct State {
        var connection = Connection.offline
        var outbox: [MQTTMessage] = []
        /// SUBSCRIBE message ids still waiting for their SUBACK, with their topic filters.
        var pendingSubscriptions: [Int32: String] = [:]
        /// Messages handed to libmosquitto that it has not yet reported sent (QoS 0) or acknowledged (QoS 1).
        var unacknowledged = 0
        var reconnectDelay: Double
        var started = false
        var stopping = false
        /// The broker refused the last CONNECT, and the connection it then closes is no news.
        var refusedAtConnect = false
        /// The errors libmosquitto logged during the current connection attempt (the last eight),
        /// which name a TLS failure that its return code does not.
        var loggedErrors: [String] = []
        /// The broker answered this connection's CONNECT (accepting or refusing it).
        var connackReceived = false
    }

    enum Connection {
        case offline
        /// The socket is open; CONNACK, SUBACKs or the outbox flush are still to come.
        case connecting
        /// Subscribed, with the outbox sent: new messages go straight out.
        case online
    }

    /// Sets up a client; nothing touches the network until `start()`. `onMessage` and `onEvent` run on
    /// the client's own serial queue.
    public init(configuration: MQTTConfiguration, onMessage: @escaping @Sendable (MQTTMessage) -> Void,
                onEvent: @escaping @Sendable (MQTTEvent) -> Void = { _ in }) throws(MQTTError) {
        guard libraryStatus == MOSQ_ERR_SUCCESS.rawValue else { throw MQTTError("libmosquitto failed to initialise") }
        let keepsSession = configuration.sessionExpiry > 0
        guard let handle = mosquitto_new(configuration.clientID, !keepsSession, nil) else {
            throw MQTTError("cannot create an MQTT client for id \"\(configuration.clientID)\"")
        }
        self.configuration = configuration
        self.handle = handle
        self.onMessage = onMessage
        self.onEvent = onEvent
        state = NIOLockedValueBox(State(reconnectDelay: configuration.minimumReconnectDelay))
        delivery = DispatchQueue(label: "mqtt.\(configuration.clientID)")
        // The network thread holds the client for as long as libmosquitto can call back, so the
        // pointer handed to C need not own a reference.
        mosquitto_user_data_set(handle, Unmanaged.passUnretained(self).toOpaque())
        try configure()
        installCallbacks()
    }

    deinit {
        mosquitto_destroy(handle)
    }

    /// Starts the network thread, which connects and keeps reconnecting until `stop()`.
    public func start() {
        let first = state.withLockedValue { state in
            defer { state.started = true }
            return !state.started
        }
        guard first else { return }
        let thread = Thread { [self] in runNetworkLoop() }
        thread.name = "mqtt \(configuration.clientID)"
        thread.start()
    }

    /// Disconnects cleanly (so the broker does not publish the will) and ends the network thread,
    /// waiting at most `timeout` seconds. Messages still held offline are dropped.
    public func stop(timeout: Double = 5) {
        let running = state.withLockedValue { state in
            defer { state.stopping = true }
            return state.started && !state.stopping
        }
        guard running else { return }
        wakeUp.signal()
        _ = finished.wait(timeout: .now() + timeout)
    }

    /// Sends `message` now if connected; otherwise holds it for the next connection (QoS 1 and 2) or drops it (QoS 0).
    public func publish(_ message: MQTTMessage) {
        let sendNow = state.withLockedValue { state in
            if state.connection == .online && !state.stopping { return true }
            if message.qos > 0 && !state.stopping { hold(message, in: &state) }
            return false
        }
        if sendNow && send(message) == MOSQ_ERR_NO_CONN.rawValue && message.qos > 0 {
            state.withLockedValue { hold(message, in: &$0) }
        }
    }

    /// Waits until the client is connected with its subscriptions in place; false after `timeout` seconds.
    public func waitUntilConnected(timeout: Double) -> Bool {
        poll(timeout: timeout) { $0.connection == .online }
    }

    /// Waits until the broker has acknowledged everything published so far (or the connection is
    /// gone); false after `timeout` seconds.
    public func flush(timeout: Double) -> Bool {
        poll(timeout: timeout) { $0.connection != .online || ($0.unacknowledged == 0 && $0.outbox.isEmpty) }
    }

    /// Whether `topic` is one a message can be published to: valid UTF-8, no wildcards, not too long.
    public static func isValidTopic(_ topic: String) -> Bool {
        mosquitto_pub_topic_check2(topic, topic.utf8.count) == MOSQ_ERR_SUCCESS.rawValue
    }

    private func hold(_ message: MQTTMessage, in state: inout State) {
        if state.outbox.count >= Self.outboxLimit {
            let dropped = state.outbox.removeFirst()
            deliver(.publishFailed(topic: dropped.topic, reason: "dropped: more than \(Self.outboxLimit) messages held offline"))
        }
        state.outbox.append(message)
    }

    private func poll(timeout: Double, until condition: (State) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if state.withLockedValue({ condition($0) }) { return true }
            usleep(10_000)
        }
        return state.withLockedValue { condition($0) }
    }

    func deliver(_ event: MQTTEvent) {
        let onEvent = onEvent
        delivery.async { onEvent(event) }
    }
}
