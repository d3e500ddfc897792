import Foundation
import ModelPush
import MQTT
import Protocol
import TestSupport

/// A client that pushes as `elutq push` does, in process, so a test can act in the middle of a push.
final class PushClient {
    let client: MQTTClient
    let inbox = MessageInbox()
    let replyTopic = "test/push/\(UUID().uuidString.prefix(8))"

    init(broker: MosquittoBroker) throws {
        client = try connectedClient(broker: broker, subscriptions: [replyTopic], inbox: inbox)
    }

    deinit { client.stop() }

    func sender(device: String, options: PushSender.Options = PushSender.Options()) -> PushSender {
        let topics = Topics(prefix: "elutq", device: device)
        return PushSender(client: client, inbox: inbox, device: device, manifestTopic: topics.pushManifest, blockTopic: topics.pushBlock,
                          replyTopic: replyTopic, options: options)
    }

    /// Publishes a manifest document and returns the device's first answer to it.
    func sendManifest(_ document: JSON, device: String) throws -> PushEvent {
        client.publish(MQTTMessage(topic: Topics(prefix: "elutq", device: device).pushManifest, json: document, qos: 1,
                                   responseTopic: replyTopic))
        return try nextEvent()
    }

    func sendBlock(_ payload: [UInt8], device: String) {
        client.publish(MQTTMessage(topic: Topics(prefix: "elutq", device: device).pushBlock, payload: payload, qos: 1))
    }

    /// The next transfer event the device sends.
    func nextEvent() throws -> PushEvent {
        let deadline = Date().addingTimeInterval(patience)
        while let message = inbox.next(timeout: deadline.timeIntervalSinceNow) {
            guard let document = try? JSON(parsing: message.payload), let event = PushEvent(document: document) else { continue }
            return event
        }
        throw TestFailure("no transfer event within \(Int(patience)) s")
    }
}

/// The `.hlq` files in a store directory, and what is left in its `.incoming/`.
func storeContents(_ directory: String) -> (models: [String], incoming: [String]) {
    let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    let incoming = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/.incoming")) ?? []
    return (files.filter { $0.hasSuffix(".hlq") }.sorted(), incoming.sorted())
}
