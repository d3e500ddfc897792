import MQTT

/// Where a request's replies go: its MQTT v5 response topic with its correlation data, or the
/// device's `reply/<id>` topic.
public struct ReplyRoute: Sendable, Equatable {
    public var topic: String
    public var correlationData: [UInt8]?

    public init(topic: String, correlationData: [UInt8]?) {
        self.topic = topic
        self.correlationData = correlationData
    }

    /// The route a request asks for, falling back to `reply/<id>` (or `reply/unknown` without an id)
    /// when it names no valid response topic.
    init(for message: MQTTMessage, id: String?, topics: Topics) {
        let asked = message.responseTopic.flatMap { MQTTClient.isValidTopic($0) ? $0 : nil }
        self.init(topic: asked ?? topics.reply(to: id), correlationData: message.correlationData)
    }
}
