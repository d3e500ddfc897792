import CMosquitto
import Glibc
import NIOConcurrencyHelpers

extension MQTTClient {
    /// Registers the C callbacks. libmosquitto calls them on the network thread, so they are written
    /// here, in a nonisolated method: a closure written in main-actor code would inherit that
    /// isolation and trap when called from another thread. Each one only turns C values into Swift
    /// ones and hands them on.
    func installCallbacks() {
        mosquitto_connect_v5_callback_set(handle) { _, userdata, reasonCode, _, _ in
            MQTTClient.from(userdata).connected(reasonCode: reasonCode)
        }
        mosquitto_subscribe_v5_callback_set(handle) { _, userdata, mid, count, grantedQoS, _ in
            let refused = (0..<Int(count)).contains { grantedQoS![$0] >= 0x80 }
            MQTTClient.from(userdata).subscribed(mid: mid, refused: refused)
        }
        mosquitto_publish_v5_callback_set(handle) { _, userdata, _, _, _ in
            MQTTClient.from(userdata).state.withLockedValue { $0.unacknowledged = max(0, $0.unacknowledged - 1) }
        }
        mosquitto_disconnect_v5_callback_set(handle) { _, userdata, status, _ in
            MQTTClient.from(userdata).disconnected(status: status)
        }
        mosquitto_log_callback_set(handle) { _, userdata, level, text in
            guard level == MOSQ_LOG_ERR, let text else { return }
            let line = String(cString: text)
            MQTTClient.from(userdata).state.withLockedValue { $0.loggedErrors = Array(($0.loggedErrors + [line]).suffix(8)) }
        }
        mosquitto_message_v5_callback_set(handle) { _, userdata, message, properties in
            guard let message = message?.pointee else { return }
            let client = MQTTClient.from(userdata)
            let received = MQTTMessage(
                topic: String(cString: message.topic),
                payload: Array(UnsafeRawBufferPointer(start: message.payload, count: Int(message.payloadlen))),
                qos: message.qos, retain: message.retain,
                responseTopic: readString(properties, MQTT_PROP_RESPONSE_TOPIC),
                correlationData: readBinary(properties, MQTT_PROP_CORRELATION_DATA))
            let onMessage = client.onMessage
            client.delivery.async { onMessage(received) }
        }
    }

    static func from(_ userdata: UnsafeMutableRawPointer?) -> MQTTClient {
        Unmanaged<MQTTClient>.fromOpaque(userdata!).takeUnretainedValue()
    }

    /// CONNACK: subscribe to everything again, since each connection starts a clean session.
    private func connected(reasonCode: Int32) {
        state.withLockedValue { $0.connackReceived = true }
        guard reasonCode == 0 else {
            let reason = "refused by the broker: \(String(cString: mosquitto_reason_string(reasonCode)))"
            state.withLockedValue { $0.refusedAtConnect = true }
            deliver(Self.isAuthorizationFailure(reasonCode) ? .notAuthorized(reason: reason) : .connectionFailed(reason: reason))
            return
        }
        state.withLockedValue { $0.reconnectDelay = configuration.minimumReconnectDelay }
        for topic in configuration.subscriptions {
            var mid: Int32 = 0
            let status = mosquitto_subscribe_v5(handle, &mid, topic, configuration.subscriptionQoS, 0, nil)
            if status == MOSQ_ERR_SUCCESS.rawValue {
                state.withLockedValue { $0.pendingSubscriptions[mid] = topic }
            } else {
                deliver(.subscriptionRefused(topic: topic))
            }
        }
        // SUBACKs arrive on this same thread after this callback returns, so none can be missed.
        if state.withLockedValue({ $0.pendingSubscriptions.isEmpty }) { goOnline() }
    }

    private func subscribed(mid: Int32, refused: Bool) {
        let (topic, allDone) = state.withLockedValue { state in
            let topic = state.pendingSubscriptions.removeValue(forKey: mid)
            return (topic, state.pendingSubscriptions.isEmpty)
        }
        if refused, let topic { deliver(.subscriptionRefused(topic: topic)) }
        if allDone { goOnline() }
    }

    /// Sends what was held while offline, oldest first, then lets new messages go straight out.
    /// Messages published during the flush join the outbox, so order is kept.
    private func goOnline() {
        while true {
            let batch: [MQTTMessage] = state.withLockedValue { state in
                if state.outbox.isEmpty { state.connection = .online }
                defer { state.outbox = [] }
                return state.outbox
            }
            if batch.isEmpty { break }
            for (index, message) in batch.enumerated() {
                if send(message) == MOSQ_ERR_NO_CONN.rawValue {
                    // Lost the connection again: keep the rest for the next one.
                    state.withLockedValue { $0.outbox.insert(contentsOf: batch[index...], at: 0) }
                    return
                }
            }
        }
        deliver(.connected)
    }

    /// The connection ended. After a refused CONNACK the broker closes the connection, which
    /// libmosquitto reports as a protocol error: the refusal was reported already, so that is not.
    /// One closed before any CONNACK never was a connection: the network loop reports the failed attempt.
    private func disconnected(status: Int32) {
        let (stopping, refused, answered) = state.withLockedValue { state in
            state.connection = .offline
            state.pendingSubscriptions = [:]
            state.unacknowledged = 0
            defer { state.refusedAtConnect = false }
            return (state.stopping, state.refusedAtConnect, state.connackReceived)
        }
        if !stopping && !refused && answered { deliver(.disconnected(reason: MosquittoStatus.describe(status))) }
    }

    /// CONNACK reason codes that trying again will not change: the credentials or the client id.
    private static func isAuthorizationFailure(_ reasonCode: Int32) -> Bool {
        [MQTT_RC_BAD_USERNAME_OR_PASSWORD, MQTT_RC_NOT_AUTHORIZED, MQTT_RC_CLIENTID_NOT_VALID, MQTT_RC_BANNED,
         MQTT_RC_BAD_AUTHENTICATION_METHOD].contains { Int32($0.rawValue) == reasonCode }
    }
}

/// A string property of an incoming message, copied out of libmosquitto's allocation.
private func readString(_ properties: OpaquePointer?, _ identifier: mqtt5_property) -> String? {
    var value: UnsafeMutablePointer<CChar>?
    guard mosquitto_property_read_string(properties, Int32(identifier.rawValue), &value, false) != nil, let value else { return nil }
    defer { free(value) }
    return String(cString: value)
}

/// A binary property of an incoming message, copied out of libmosquitto's allocation.
private func readBinary(_ properties: OpaquePointer?, _ identifier: mqtt5_property) -> [UInt8]? {
    var value: UnsafeMutableRawPointer?
    var length: UInt16 = 0
    guard mosquitto_property_read_binary(properties, Int32(identifier.rawValue), &value, &length, false) != nil else { return nil }
    defer { free(value) }
    return Array(UnsafeRawBufferPointer(start: value, count: Int(length)))
}
