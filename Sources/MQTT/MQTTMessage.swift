/// One MQTT application message, with the MQTT v5 request/response properties.
public struct MQTTMessage: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    /// 0: at most once; 1: at least once; 2: exactly once.
    public var qos: Int32
    /// The broker keeps the last retained message of a topic and hands it to every new subscriber.
    public var retain: Bool
    /// Where the receiver should send its answer (MQTT v5 Response Topic).
    public var responseTopic: String?
    /// Opaque bytes the receiver copies into its answer, so the asker can match them up (MQTT v5).
    public var correlationData: [UInt8]?

    public init(topic: String, payload: [UInt8], qos: Int32 = 1, retain: Bool = false,
                responseTopic: String? = nil, correlationData: [UInt8]? = nil) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.responseTopic = responseTopic
        self.correlationData = correlationData
    }
}
