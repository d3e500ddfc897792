import MQTT

extension MQTTClient {
    /// Publishes `document` on `route`, with the route's correlation data: how every reply, error
    /// and transfer event leaves the agent.
    public func publish(_ document: JSON, to route: ReplyRoute, qos: Int32) {
        publish(MQTTMessage(topic: route.topic, json: document, qos: qos, correlationData: route.correlationData))
    }
}
