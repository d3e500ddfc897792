import MQTT

/// Where the broker is, how to log in to it, and under which prefix the elutq topics live: the
/// part of agent.conf that the agent and `elutq`'s MQTT commands share.
///
/// Each property is named after its agent.conf key (`broker_host` is `brokerHost`), so the
/// agent's configuration can offer them as its own.
public struct BrokerSettings: Sendable, Equatable {
    public var brokerHost = "localhost"
    public var brokerPort = 1883
    public var tlsCAFile: String?
    public var tlsCertFile: String?
    public var tlsKeyFile: String?
    public var username: String?
    public var password: String?
    public var keepAlive = 30
    /// QoS of prompt subscriptions, replies and presence. Telemetry always uses 0.
    public var qos: Int32 = 1
    public var topicPrefix = "elutq"

    public init() {}

    /// The connection settings an MQTT client needs, for the agent or for the CLI.
    public func mqttConfiguration(clientID: String) -> MQTTConfiguration {
        var mqtt = MQTTConfiguration(host: brokerHost, port: brokerPort, clientID: clientID)
        mqtt.keepAlive = keepAlive
        mqtt.username = username
        mqtt.password = password
        mqtt.tls = tlsCAFile.map { TLSFiles(caFile: $0, certificateFile: tlsCertFile, keyFile: tlsKeyFile) }
        mqtt.subscriptionQoS = qos
        return mqtt
    }

    /// Reads the broker's keys from the agent.conf at `path`, passing over the agent's own.
    public mutating func read(file path: String) throws(ConfigurationError) {
        let text = try SettingsFile.text(at: path)
        try SettingsFile.read(text, file: path) { entry throws(ConfigurationError) in
            guard Self.keys.contains(where: { $0.name == entry.key }) else { return }
            try Self.keys.set(entry.key, to: entry.value, in: &self, location: entry.location, line: entry.line)
        }
    }

    /// Sets one key, checking its value; `location` says where it came from in any error.
    public mutating func set(_ key: String, to value: String, location: String) throws(ConfigurationError) {
        try Self.keys.set(key, to: value, in: &self, location: location)
    }

    /// Checks the settings that only make sense together.
    public func validate() throws(ConfigurationError) {
        if (tlsCertFile == nil) != (tlsKeyFile == nil) {
            throw ConfigurationError(location: "tls_cert_file", line: nil, message: "tls_cert_file and tls_key_file go together")
        }
        if tlsCertFile != nil && tlsCAFile == nil {
            throw ConfigurationError(location: "tls_cert_file", line: nil, message: "a client certificate needs tls_ca_file too")
        }
    }
}
