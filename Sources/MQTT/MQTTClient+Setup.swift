import CMosquitto
import Glibc
import NIOConcurrencyHelpers

extension MQTTClient {
    /// Applies the configuration to the libmosquitto handle: MQTT v5, threaded mode, credentials, TLS and will.
    func configure() throws(MQTTError) {
        try check(mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5), "cannot select MQTT v5")
        // Small packets at once: with Nagle's algorithm a streamed chunk can wait ~40 ms for the
        // broker's delayed ACK of the one before.
        try check(mosquitto_int_option(handle, MOSQ_OPT_TCP_NODELAY, 1), "cannot set TCP_NODELAY")
        // Another thread (ours) runs the loop, so libmosquitto must lock around its packet queues.
        try check(mosquitto_threaded_set(handle, true), "cannot enable threaded mode")
        if configuration.username != nil || configuration.password != nil {
            try check(mosquitto_username_pw_set(handle, configuration.username, configuration.password),
                      "cannot set the username and password")
        }
        if let tls = configuration.tls {
            try check(mosquitto_tls_set(handle, tls.caFile, nil, tls.certificateFile, tls.keyFile, nil),
                      "cannot set up TLS with CA \(tls.caFile) (are the files readable, and is the key with its certificate?)")
        }
        if let will = configuration.will {
            let status = will.payload.withUnsafeBytes { payload in
                mosquitto_will_set_v5(handle, will.topic, Int32(payload.count), payload.baseAddress, will.qos, will.retain, nil)
            }
            try check(status, "cannot set the will on \(will.topic)")
        }
    }

    private func check(_ status: Int32, _ message: String) throws(MQTTError) {
        guard status == MOSQ_ERR_SUCCESS.rawValue else {
            throw MQTTError("\(message): \(MosquittoStatus.describe(status))")
        }
    }

    /// Hands one message to libmosquitto with its v5 properties; returns libmosquitto's status.
    func send(_ message: MQTTMessage) -> Int32 {
        var properties: OpaquePointer?
        defer { mosquitto_property_free_all(&properties) }
        if let responseTopic = message.responseTopic {
            mosquitto_property_add_string(&properties, Int32(MQTT_PROP_RESPONSE_TOPIC.rawValue), responseTopic)
        }
        if let correlationData = message.correlationData {
            correlationData.withUnsafeBytes { data in
                _ = mosquitto_property_add_binary(&properties, Int32(MQTT_PROP_CORRELATION_DATA.rawValue),
                                                  data.baseAddress, UInt16(clamping: data.count))
            }
        }
        state.withLockedValue { $0.unacknowledged += 1 }
        let status = message.payload.withUnsafeBytes { payload in
            mosquitto_publish_v5(handle, nil, message.topic, Int32(payload.count), payload.baseAddress,
                                 message.qos, message.retain, properties)
        }
        if status != MOSQ_ERR_SUCCESS.rawValue {
            state.withLockedValue { $0.unacknowledged -= 1 }
            if status != MOSQ_ERR_NO_CONN.rawValue {
                deliver(.publishFailed(topic: message.topic, reason: MosquittoStatus.describe(status)))
            }
        }
        return status
    }
}
