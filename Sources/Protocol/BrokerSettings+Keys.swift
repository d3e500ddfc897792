import Foundation

extension BrokerSettings {
    /// The broker's agent.conf keys, in the order `elutq-agent --help` lists them.
    public static let keys: [SettingKey<BrokerSettings>] = [
        .text("broker_host", \.brokerHost, "MQTT broker host name or address."),
        .integer("broker_port", \.brokerPort, 1...65535, "Broker TCP port (1883 plain, 8883 usual for TLS)."),
        .optionalText("tls_ca_file", \.tlsCAFile, "CA certificate (PEM) that signed the broker's; setting it turns TLS on."),
        .optionalText("tls_cert_file", \.tlsCertFile, "This device's client certificate (PEM), for mutual TLS."),
        .optionalText("tls_key_file", \.tlsKeyFile, "The private key of tls_cert_file (PEM)."),
        .optionalText("username", \.username, "Broker user name."),
        .optionalText("password", \.password, "Broker password; prefer password_file or ELUTQ_MQTT_PASSWORD (keep any file holding it readable by the agent only)."),
        SettingKey(name: "password_file", help: "File whose first line is the broker password (mode 0600 or 0640).") { settings, path throws(InvalidValue) in
            guard let data = FileManager.default.contents(atPath: path) else { throw InvalidValue("cannot read \(path)") }
            let line = String(decoding: data.prefix(4096), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).first ?? ""
            let password = line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
            guard !password.isEmpty else { throw InvalidValue("\(path) holds no password on its first line") }
            settings.password = password
            settings.passwordFile = path
        },
        .integer("keepalive", \.keepAlive, 5...65535, "Seconds between MQTT keepalive pings."),
        SettingKey(name: "qos", help: "MQTT QoS of prompts, replies and presence (telemetry always uses 0).") { settings, value throws(InvalidValue) in
            settings.qos = Int32(try SettingValue.integer(value, in: 0...2))
        },
        .text("topic_prefix", \.topicPrefix, "First topic level(s) of every topic.", check: { prefix in
            prefix.hasPrefix("$") || prefix.hasSuffix("/") || prefix.split(separator: "/", omittingEmptySubsequences: false)
                .contains(where: { $0.isEmpty || !Topics.isIdentifier(String($0)) })
                ? "must be levels of letters, digits, - _ . : separated by /" : nil
        }),
    ]
}
