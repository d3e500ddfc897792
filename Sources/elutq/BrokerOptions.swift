import ArgumentParser
import Foundation
import MQTT
import NIOConcurrencyHelpers
import Protocol
import Synchronization

/// Broker flags shared by `prompt`, `fleet`, `watch`, `exporter`, `dashboard` and the device commands; an agent.conf can supply them instead.
struct BrokerOptions: ParsableArguments {
    @Option(help: "Read the broker settings from this agent.conf; the flags below override it.") var config: String?
    @Option(help: "Broker host (default: localhost).") var host: String?
    @Option(help: "Broker port (default: 1883).") var port: Int?
    @Option(name: .customLong("ca-file"), help: "CA certificate (PEM) of the broker; turns TLS on.") var caFile: String?
    @Option(name: .customLong("cert-file"), help: "Client certificate (PEM), for mutual TLS.") var certFile: String?
    @Option(name: .customLong("key-file"), help: "Client private key (PEM), for mutual TLS.") var keyFile: String?
    @Option(help: "Broker user name.") var username: String?
    @Option(help: "Broker password (other users can see flags in the process list: prefer --password-file or ELUTQ_MQTT_PASSWORD).") var password: String?
    @Option(help: "File whose first line is the broker password.") var passwordFile: String?
    @Option(name: .customLong("topic-prefix"), help: "First level of every topic (default: elutq).") var topicPrefix: String?
    @Option(name: .customLong("connect-timeout"), help: "Seconds to wait for the broker.") var connectTimeout: Double = 10

    /// The defaults, then the file's broker keys, then the flags, checked by the agent's own rules.
    func settings() throws -> BrokerSettings {
        do throws(ConfigurationError) {
            return try mergedSettings()
        } catch {
            throw ValidationError(error.description)
        }
    }

    private func mergedSettings() throws(ConfigurationError) -> BrokerSettings {
        var settings = BrokerSettings()
        if let config {
            // The file must hold together on its own, as it must for the agent that reads it.
            try settings.read(file: config)
            try settings.validate()
        }
        let flags: [(key: String, flag: String, value: String?)] = [
            ("broker_host", "--host", host), ("broker_port", "--port", port.map(String.init)),
            ("tls_ca_file", "--ca-file", caFile), ("tls_cert_file", "--cert-file", certFile),
            ("tls_key_file", "--key-file", keyFile), ("username", "--username", username),
            ("password", "--password", password), ("password_file", "--password-file", passwordFile),
            ("topic_prefix", "--topic-prefix", topicPrefix),
        ]
        for (key, flag, value) in flags {
            if let value { try settings.set(key, to: value, location: flag) }
        }
        settings.fillPassword(from: ProcessInfo.processInfo.environment)
        try settings.validate()
        return settings
    }

    /// A fresh client id for `elutq <command>`: unique, so two runs never knock each other off the broker.
    static func clientID(_ command: String) -> String {
        "elutq-\(command)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// A connected client that has subscribed to `subscriptions` and files what arrives in `inbox`;
    /// `reconnected` runs (on the client's delivery queue) each time it is connected again after a loss.
    func connect(_ settings: BrokerSettings, clientID: String, subscriptions: [String],
                 inbox: MessageInbox, reconnected: @escaping @Sendable () -> Void = {}) throws -> MQTTClient {
        try connect(settings, clientID: clientID, subscriptions: subscriptions, onMessage: { inbox.append($0) },
                    reconnected: reconnected)
    }

    /// A connected client that has subscribed to `subscriptions` and hands what arrives to
    /// `onMessage` on its network thread; it resubscribes after each reconnection, then runs `reconnected`.
    func connect(_ settings: BrokerSettings, clientID: String, subscriptions: [String],
                 onMessage: @escaping @Sendable (MQTTMessage) -> Void,
                 reconnected: @escaping @Sendable () -> Void = {}) throws -> MQTTClient {
        var mqtt = settings.mqttConfiguration(clientID: clientID)
        mqtt.subscriptions = subscriptions
        // The last reason a connection failed, so a refusal is named rather than reported as silence.
        let problem = NIOLockedValueBox<String?>(nil)
        let connections = Atomic(0)
        let client = try MQTTClient(configuration: mqtt, onMessage: onMessage, onEvent: { event in
            switch event {
            case .connected: if connections.add(1, ordering: .relaxed).newValue > 1 { reconnected() }
            case .connectionFailed(let reason), .notAuthorized(let reason), .disconnected(let reason): problem.withLockedValue { $0 = reason }
            default: break
            }
        })
        client.start()
        guard client.waitUntilConnected(timeout: connectTimeout) else {
            client.stop()
            let reason = problem.withLockedValue { $0 }.map { ": \($0)" } ?? ""
            throw failure("cannot connect to the broker at \(settings.brokerHost):\(settings.brokerPort) within \(connectTimeout) s\(reason)")
        }
        return client
    }
}

/// Prints `message` on stderr and gives the exit code to throw, for failures at run time (a
/// `ValidationError` would print the usage too, as if the command line were wrong).
func failure(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("elutq: \(message)\n".utf8))
    return ExitCode.failure
}
