import FleetMonitor
import MQTT
import Protocol

/// The MQTT side of `exporter` and `dashboard`: every device's status and telemetry, filed in a
/// `FleetState` as it arrives, through broker restarts (the client reconnects and resubscribes,
/// and the retained messages come again).
struct FleetFeed {
    let state: FleetState
    let client: MQTTClient

    /// Connects and subscribes; `onUpdate` gets each changed record on the client's network thread.
    /// `historyCapacity` is the points kept per device (nil: `FleetState`'s hour).
    init(broker: BrokerOptions, command: String, historyCapacity: Int? = nil,
         onUpdate: @escaping @Sendable (DeviceRecord) -> Void) throws {
        let settings = try broker.settings()
        let prefix = settings.topicPrefix
        let state = historyCapacity.map { FleetState(prefix: prefix, historyCapacity: $0) } ?? FleetState(prefix: prefix)
        self.state = state
        client = try broker.connect(settings, clientID: BrokerOptions.clientID(command),
                                    subscriptions: [Topics.allStatuses(prefix: prefix), Topics.allTelemetry(prefix: prefix)],
                                    onMessage: { message in state.ingest(message).map(onUpdate) })
    }
}
