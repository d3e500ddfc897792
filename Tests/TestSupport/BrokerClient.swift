import Foundation
import MQTT

/// A client of the test broker that files what arrives in `inbox` and reports its connection to
/// `onEvent`; not started yet. It reconnects within a second after the broker comes back.
public func brokerClient(broker: MosquittoBroker, subscriptions: [String], inbox: MessageInbox, sessionExpiry: UInt32 = 0,
                         onEvent: @escaping @Sendable (MQTTEvent) -> Void = { _ in }) throws -> MQTTClient {
    var settings = MQTTConfiguration(host: "127.0.0.1", port: broker.port, clientID: "test-\(UUID().uuidString.prefix(8))")
    settings.subscriptions = subscriptions
    settings.sessionExpiry = sessionExpiry
    settings.minimumReconnectDelay = 0.1
    settings.maximumReconnectDelay = 1
    return try MQTTClient(configuration: settings, onMessage: { inbox.append($0) }, onEvent: onEvent)
}

/// A started client of the test broker, once it is connected and subscribed (see `brokerClient`).
public func connectedClient(broker: MosquittoBroker, subscriptions: [String], inbox: MessageInbox, sessionExpiry: UInt32 = 0) throws -> MQTTClient {
    let client = try brokerClient(broker: broker, subscriptions: subscriptions, inbox: inbox, sessionExpiry: sessionExpiry)
    client.start()
    guard client.waitUntilConnected(timeout: patience) else { throw TestFailure("the test client did not connect") }
    return client
}
