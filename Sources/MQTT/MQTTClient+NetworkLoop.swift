import CMosquitto
import Dispatch
import Glibc
import NIOConcurrencyHelpers

extension MQTTClient {
    /// The network thread: connect, run libmosquitto's loop until the connection ends, wait, repeat.
    ///
    /// The wait doubles after each failed attempt (up to `maximumReconnectDelay`) and starts over
    /// once a connection is accepted, so a broker restart costs about `minimumReconnectDelay`
    /// while an unreachable broker is not hammered.
    func runNetworkLoop() {
        var connectProperties: OpaquePointer?
        defer { mosquitto_property_free_all(&connectProperties) }
        if configuration.sessionExpiry > 0 {
            mosquitto_property_add_int32(&connectProperties, Int32(MQTT_PROP_SESSION_EXPIRY_INTERVAL.rawValue),
                                         configuration.sessionExpiry)
        }
        if let limit = configuration.maximumPacketSize {
            mosquitto_property_add_int32(&connectProperties, Int32(MQTT_PROP_MAXIMUM_PACKET_SIZE.rawValue), limit)
        }
        while !isStopping {
            state.withLockedValue { state in
                state.connection = .connecting
                state.connackReceived = false
                state.loggedErrors = []
            }
            let status = mosquitto_connect_bind_v5(handle, configuration.host, Int32(configuration.port),
                                                   Int32(configuration.keepAlive), nil, connectProperties)
            let error = errno
            if status == MOSQ_ERR_SUCCESS.rawValue {
                serveConnection()
            } else {
                deliver(.connectionFailed(reason: describeConnectFailure(status, errno: error)))
            }
            state.withLockedValue { $0.connection = .offline }
            if isStopping { break }
            let delay = state.withLockedValue { state in
                defer { state.reconnectDelay = min(state.reconnectDelay * 2, configuration.maximumReconnectDelay) }
                return state.reconnectDelay
            }
            _ = wakeUp.wait(timeout: .now() + delay)
        }
        finished.signal()
    }

    private var isStopping: Bool { state.withLockedValue { $0.stopping } }

    /// Runs libmosquitto's loop on an open socket until it closes; asked to stop, sends DISCONNECT first.
    /// A socket that closes before the broker answered CONNECT was a failed attempt (a TLS
    /// handshake goes on inside the loop), reported here as one.
    private func serveConnection() {
        var disconnecting = false
        while true {
            if !disconnecting && isStopping {
                mosquitto_disconnect_v5(handle, 0, nil)
                disconnecting = true
            }
            // libmosquitto wakes this early when another thread queues a packet.
            let status = mosquitto_loop(handle, 250, 1)
            let error = errno
            guard status == MOSQ_ERR_SUCCESS.rawValue else {
                let unanswered = state.withLockedValue { !$0.connackReceived && !$0.stopping }
                if unanswered { deliver(.connectionFailed(reason: describeConnectFailure(status, errno: error))) }
                return
            }
        }
    }

    /// A failed attempt in words; `errno` as it was right after the call that failed.
    private func describeConnectFailure(_ status: Int32, errno error: Int32) -> String {
        if status == MOSQ_ERR_TLS.rawValue {
            return TLSFailure.describe(logged: state.withLockedValue { $0.loggedErrors }, host: configuration.host, port: configuration.port)
        }
        if status == MOSQ_ERR_CONN_LOST.rawValue && configuration.tls == nil {
            return TLSFailure.plainClientHint(host: configuration.host, port: configuration.port)
        }
        let reason = status == MOSQ_ERR_ERRNO.rawValue
            ? String(cString: strerror(error)) : MosquittoStatus.describe(status)
        return "\(configuration.host):\(configuration.port): \(reason)"
    }
}
