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
    /// From `password`, the file `password_file` names, or `ELUTQ_MQTT_PASSWORD` (`fillPassword`).
    public var password: String?
    /// The file the password was read from, so the agent can warn if others can read it.
    public var passwordFile: String?
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

    /// The environment variable a password can come from instead of a file or a flag (which
    /// every user sees in the process list); systemd's `LoadCredential`/`Environment` can set it.
    public static let passwordVariable = "ELUTQ_MQTT_PASSWORD"

    /// Takes the password from `ELUTQ_MQTT_PASSWORD` when neither `password` nor `password_file` gave one.
    public mutating func fillPassword(from environment: [String: String]) {
        if password == nil, let value = environment[Self.passwordVariable], !value.isEmpty { password = value }
    }

    /// Checks the settings that only make sense together.
    public func validate() throws(ConfigurationError) {
        if (tlsCertFile == nil) != (tlsKeyFile == nil) {
            throw ConfigurationError(location: "tls_cert_file", line: nil, message: "tls_cert_file and tls_key_file go together")
        }
        if password != nil && username == nil {
            throw ConfigurationError(location: passwordFile != nil ? "password_file" : "password", line: nil,
                                     message: "a password needs a username too")
        }
        if tlsCertFile != nil && tlsCAFile == nil {
            throw ConfigurationError(location: "tls_cert_file", line: nil, message: "a client certificate needs tls_ca_file too")
        }
    }
}
