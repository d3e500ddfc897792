import Crypto
import Foundation
import ModelPush
import MQTT
import Protocol

/// The MQTT side of `push`, `models`, `use` and `rm`: one connected client with a private reply
/// topic, and the requests these commands make of a device.
struct DeviceSession {
    let client: MQTTClient
    let inbox: MessageInbox
    let settings: BrokerSettings
    /// Where the device answers model commands.
    let replyTopic: String
    /// Where the device sends transfer events.
    let pushTopic: String

    /// Connects, listening to `device`'s status, or to every device's when it is nil.
    init(broker: BrokerOptions, command: String, device: String?) throws {
        settings = try broker.settings()
        let prefix = settings.topicPrefix
        let statuses = [device.map { Topics(prefix: prefix, device: $0).status } ?? Topics.allStatuses(prefix: prefix)]
        let clientID = BrokerOptions.clientID(command)
        replyTopic = Topics.clientReplies(prefix: prefix, clientID: clientID)
        pushTopic = Topics.clientPushEvents(prefix: prefix, clientID: clientID)
        inbox = MessageInbox()
        client = try broker.connect(settings, clientID: clientID, subscriptions: [replyTopic, pushTopic] + statuses, inbox: inbox)
    }

    func topics(_ device: String) -> Topics { Topics(prefix: settings.topicPrefix, device: device) }

    /// Sends a model command, signed for `device` when a key is given, and returns the device's
    /// answer; an error answer fails the command.
    func modelCommand(_ device: String, _ command: String, name: String? = nil, key: Curve25519.Signing.PrivateKey? = nil,
                      timeout: Double) throws -> JSON {
        let id = UUID().uuidString.lowercased()
        var request = ModelCommand(id: id, command: command, name: name)
        if let key { try request.sign(for: device, with: key) }
        client.publish(MQTTMessage(topic: topics(device).models, json: request.document, qos: 1,
                                   responseTopic: replyTopic, correlationData: Array(id.utf8)))
        let deadline = Date().addingTimeInterval(timeout)
        while let message = inbox.next(timeout: deadline.timeIntervalSinceNow) {
            guard message.topic == replyTopic, message.correlationData == Array(id.utf8),
                  let reply = try? JSON(parsing: message.payload) else { continue }
            if let error = Reply.errorText(of: reply) { throw failure("\(device): \(error)") }
            return reply
        }
        throw failure("\(device) did not answer within \(Int(timeout)) s")
    }
}

/// Waits for the device's retained status to say online, so nothing is sent to nobody.
func waitUntilOnline(_ target: Topics, inbox: MessageInbox, deadline: Date) throws {
    var announced = false
    while let message = inbox.next(timeout: deadline.timeIntervalSinceNow) {
        guard message.topic == target.status, let status = try? JSON(parsing: message.payload) else { continue }
        if status["online"]?.bool == true { return }
        if !announced {
            FileHandle.standardError.write(Data("elutq: \(target.device) is offline; waiting for it\n".utf8))
            announced = true
        }
    }
    throw failure("\(target.device) did not come online in time (see `elutq fleet`)")
}
