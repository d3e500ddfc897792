import MQTT

/// Where a request's replies go: its MQTT v5 response topic with its correlation data, or the
/// device's `reply/<id>` topic.
public struct ReplyRoute: Sendable, Equatable {
    public var topic: String
    public var correlationData: [UInt8]?

    /// The route a request asks for, falling back to `reply/<id>` (or `reply/unknown` without an id)
    /// when it names no valid response topic.
    init(for message: MQTTMessage, id: String?, topics: Topics) {
        if let responseTopic = message.responseTopic, MQTTClient.isValidTopic(responseTopic) {
            topic = responseTopic
            correlationData = message.correlationData
        } else {
            topic = topics.reply(to: id)
            correlationData = message.correlationData
        }
    }
}
