import MQTT

/// Where the answers to one message go: the topic and the correlation data to send them with.
public struct ReplyRoute: Sendable, Equatable {
    public var topic: String
    public var correlationData: [UInt8]?

    public init(topic: String, correlationData: [UInt8]?) {
        self.topic = topic
        self.correlationData = correlationData
    }

    /// The route `message` asks for: its MQTT v5 response topic when that is one a message can be
    /// published to, otherwise `fallback` (`reply/<id>` for a request, `push/events` for a
    /// manifest), with its correlation data either way. Every answer the agent sends is routed here.
    public init(for message: MQTTMessage, fallback: String) {
        let asked = message.responseTopic.flatMap { MQTTClient.isValidTopic($0) ? $0 : nil }
        self.init(topic: asked ?? fallback, correlationData: message.correlationData)
    }
}
