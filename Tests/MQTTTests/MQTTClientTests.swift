import Foundation
import MQTT
import Testing
import TestSupport

/// The client against a private mosquitto: delivery with the MQTT v5 request/response properties,
/// and what it promises across a broker that goes away and comes back.
@Suite(.needs(.broker)) struct MQTTClientTests {
    @Test func aMessageArrivesWholeWithItsResponseTopicAndCorrelationData() throws {
        let broker = try MosquittoBroker()
        let inbox = MessageInbox()
        let receiver = try connectedClient(broker: broker, subscriptions: ["requests/#"], inbox: inbox)
        defer { receiver.stop() }
        let sender = try connectedClient(broker: broker, subscriptions: [], inbox: MessageInbox())
        defer { sender.stop() }
        let sent = MQTTMessage(topic: "requests/r1", payload: Array("hello".utf8) + [0, 0xFF], qos: 1,
                               responseTopic: "replies/r1", correlationData: [1, 2, 3])
        sender.publish(sent)
        #expect(inbox.next(timeout: patience) == sent)
    }

    /// Each connection is a clean session, so the client subscribes again after the broker
    /// restarts, having forgotten everything.
    @Test func aRestartedBrokerIsJoinedAndSubscribedAgain() throws {
        let broker = try MosquittoBroker()
        let inbox = MessageInbox()
        let events = EventLog()
        let receiver = try brokerClient(broker: broker, subscriptions: ["t/#"], inbox: inbox, onEvent: events.append)
        defer { receiver.stop() }
        receiver.start()
        try waitUntil("the receiver is connected") { events.count(of: .connected) == 1 }
        broker.kill()
        try waitUntil("the receiver sees the broker go") { events.contains { if case .disconnected = $0 { true } else { false } } }
        try broker.start()
        try waitUntil("the receiver is back") { events.count(of: .connected) == 2 }
        let sender = try connectedClient(broker: broker, subscriptions: [], inbox: MessageInbox())
        defer { sender.stop() }
        sender.publish(MQTTMessage(topic: "t/after", payload: [7]))
        #expect(inbox.next(timeout: patience)?.payload == [7])
    }

    /// While the broker is unreachable the client retries, holds QoS 1 messages and sends them in
    /// order once connected; QoS 0 ones are dropped. The receiver's session survives the restart
    /// in the broker's database, so the held messages find it whenever it reconnects.
    @Test func qos1MessagesPublishedOfflineGoOutInOrderOnceConnected() throws {
        let broker = try MosquittoBroker(persistence: true)
        let inbox = MessageInbox()
        let receiver = try connectedClient(broker: broker, subscriptions: ["t/#"], inbox: inbox, sessionExpiry: 600)
        defer { receiver.stop() }
        try broker.saveDatabase()
        broker.kill()
        let events = EventLog()
        let sender = try brokerClient(broker: broker, subscriptions: [], inbox: MessageInbox(), onEvent: events.append)
        defer { sender.stop() }
        sender.start()
        try waitUntil("two failed attempts to connect") {
            events.count { if case .connectionFailed = $0 { true } else { false } } >= 2
        }
        for (text, qos) in [("1", 1), ("2", 1), ("dropped", 0), ("3", 1)] {
            sender.publish(MQTTMessage(topic: "t/offline", payload: Array(text.utf8), qos: Int32(qos)))
        }
        try broker.start()
        let received = (0..<3).compactMap { _ in inbox.next(timeout: patience) }.map { String(decoding: $0.payload, as: UTF8.self) }
        #expect(received == ["1", "2", "3"])
        try waitUntil("the sender reports its connection") { events.count(of: .connected) == 1 }
    }

    /// Credentials the broker refuses are reported as such, not as a network failure.
    @Test func refusedCredentialsAreReportedAsNotAuthorized() throws {
        let broker = try MosquittoBroker(users: ["u": "right"])
        var settings = MQTTConfiguration(host: "127.0.0.1", port: broker.port, clientID: "refused")
        settings.username = "u"
        settings.password = "wrong"
        settings.minimumReconnectDelay = 0.1
        let events = EventLog()
        let client = try MQTTClient(configuration: settings, onMessage: { _ in }, onEvent: events.append)
        defer { client.stop() }
        client.start()
        try waitUntil("two refusals") { events.count { if case .notAuthorized = $0 { true } else { false } } >= 2 }
        #expect(events.count(of: .connected) == 0)
        // The connection the broker closes after refusing is not reported as a network failure.
        #expect(events.count { if case .disconnected = $0 { true } else { false } } == 0)
    }
}
