import MQTT

extension MQTTMessage {
    /// A message carrying a JSON document: every elutq message but a push's blocks.
    public init(topic: String, json: JSON, qos: Int32 = 1, retain: Bool = false,
                responseTopic: String? = nil, correlationData: [UInt8]? = nil) {
        self.init(topic: topic, payload: json.bytes, qos: qos, retain: retain,
                  responseTopic: responseTopic, correlationData: correlationData)
    }
}
