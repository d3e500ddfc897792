import Engine
import Foundation

/// One `agent.conf` key: its name, what it is for, and how a value for it is checked and stored.
///
/// The same table serves the file, the `--key value` flags that override it, and `--help`, so
/// the three can never disagree.
struct ConfigurationKey: Sendable {
    let name: String
    let help: String
    let apply: @Sendable (inout AgentConfiguration, String) throws(InvalidValue) -> Void
}

/// Why a value does not suit its key; the loader adds where the value came from.
struct InvalidValue: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

extension AgentConfiguration {
    static let keys: [ConfigurationKey] = [
        .text("broker_host", \.brokerHost, "MQTT broker host name or address."),
        .integer("broker_port", \.brokerPort, 1...65535, "Broker TCP port (1883 plain, 8883 usual for TLS)."),
        .optionalText("tls_ca_file", \.tlsCAFile, "CA certificate (PEM) that signed the broker's; setting it turns TLS on."),
        .optionalText("tls_cert_file", \.tlsCertFile, "This device's client certificate (PEM), for mutual TLS."),
        .optionalText("tls_key_file", \.tlsKeyFile, "The private key of tls_cert_file (PEM)."),
        .optionalText("username", \.username, "Broker user name."),
        .optionalText("password", \.password, "Broker password; keep this file readable by the agent only."),
        .text("device_id", \.deviceID, "This device's name in topics; letters, digits, - _ . : (default: the host name).",
              check: identifierCheck),
        .text("topic_prefix", \.topicPrefix, "First topic level(s) of every topic.", check: { prefix in
            prefix.hasPrefix("$") || prefix.hasSuffix("/") || prefix.split(separator: "/", omittingEmptySubsequences: false)
                .contains(where: { $0.isEmpty || !isIdentifier(String($0)) })
                ? "must be levels of letters, digits, - _ . : separated by /" : nil
        }),
        .optionalText("group", \.group, "Fleet group: also serve prompts from the shared subscription of this group.",
                      check: identifierCheck),
        .optionalText("model", \.model, "Model file to serve (.hlq, or GGUF on the float path)."),
        .optionalText("model_store", \.modelStore, "Directory of pushed models; a push is received into it and `elutq use` picks from it."),
        ConfigurationKey(name: "trusted_keys", help: "Comma-separated Ed25519 public key files (elutq keygen) a pushed model's manifest must be signed by.") { config, value throws(InvalidValue) in
            config.trustedKeys = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        },
        .integer("threads", \.threads, 1...256, "Threads for generation, the caller included (default: all cores)."),
        ConfigurationKey(name: "tables", help: "LUT activation tables: precise (about 15 bits; the default) or int8 (about 8 bits, faster prompt processing).") { config, value throws(InvalidValue) in
            guard let tables = TablePrecision(rawValue: value) else { throw InvalidValue("must be precise or int8") }
            config.tables = tables
        },
        .integer("context_size", \.contextSize, 16...131_072, "Context size in tokens (sizes the KV cache)."),
        .float("temperature", \.temperature, 0...5, "Default sampling temperature; 0 is greedy."),
        .float("top_p", \.topP, 0...1, "Default nucleus sampling threshold (1: off)."),
        .integer("top_k", \.topK, 0...1_000_000, "Default top-k (0: off)."),
        .float("min_p", \.minP, 0...1, "Default min-p (0: off)."),
        .integer("max_prompt_bytes", \.maxPromptBytes, 1...16_777_216, "Largest prompt (all message contents), in UTF-8 bytes."),
        .integer("max_new_tokens", \.maxNewTokens, 1...1_000_000, "Cap on a request's max_tokens, and its default."),
        .integer("queue_length", \.queueLength, 0...10_000, "Requests that may wait behind the running one; more get `busy`."),
        .number("request_timeout", \.requestTimeout, 0.1...86_400, "Seconds from a request's arrival to its last token."),
        .number("telemetry_interval", \.telemetryInterval, 0.1...86_400, "Seconds between telemetry messages."),
        ConfigurationKey(name: "qos", help: "MQTT QoS of prompts, replies and presence (telemetry always uses 0).") { config, value throws(InvalidValue) in
            config.qos = Int32(try integer(value, in: 0...2))
        },
        .integer("keepalive", \.keepAlive, 5...65535, "Seconds between MQTT keepalive pings."),
        ConfigurationKey(name: "log_level", help: "debug, info, warn or error.") { config, value throws(InvalidValue) in
            guard let level = Logger.Level(rawValue: value) else { throw InvalidValue("must be debug, info, warn or error") }
            config.logLevel = level
        },
    ]

    static let identifierCheck: @Sendable (String) -> String? = {
        isIdentifier($0) ? nil : "must be 1 to 64 letters, digits, - _ . or :"
    }

    static func integer(_ value: String, in range: ClosedRange<Int>) throws(InvalidValue) -> Int {
        guard let number = Int(value) else { throw InvalidValue("must be a whole number") }
        guard range.contains(number) else { throw InvalidValue("must be between \(range.lowerBound) and \(range.upperBound)") }
        return number
    }

    static func number(_ value: String, in range: ClosedRange<Double>) throws(InvalidValue) -> Double {
        guard let number = Double(value), number.isFinite else { throw InvalidValue("must be a number") }
        guard range.contains(number) else { throw InvalidValue("must be between \(range.lowerBound) and \(range.upperBound)") }
        return number
    }
}

extension ConfigurationKey {
    static func text(_ name: String, _ path: WritableKeyPath<AgentConfiguration, String> & Sendable, _ help: String,
                     check: @escaping @Sendable (String) -> String? = { _ in nil }) -> ConfigurationKey {
        ConfigurationKey(name: name, help: help) { config, value throws(InvalidValue) in
            guard !value.isEmpty else { throw InvalidValue("must not be empty") }
            if let problem = check(value) { throw InvalidValue(problem) }
            config[keyPath: path] = value
        }
    }

    /// A setting that may be left empty (`key =`) to mean "none".
    static func optionalText(_ name: String, _ path: WritableKeyPath<AgentConfiguration, String?> & Sendable, _ help: String,
                             check: @escaping @Sendable (String) -> String? = { _ in nil }) -> ConfigurationKey {
        ConfigurationKey(name: name, help: help) { config, value throws(InvalidValue) in
            if !value.isEmpty, let problem = check(value) { throw InvalidValue(problem) }
            config[keyPath: path] = value.isEmpty ? nil : value
        }
    }

    static func integer(_ name: String, _ path: WritableKeyPath<AgentConfiguration, Int> & Sendable,
                        _ range: ClosedRange<Int>, _ help: String) -> ConfigurationKey {
        ConfigurationKey(name: name, help: help) { config, value throws(InvalidValue) in
            config[keyPath: path] = try AgentConfiguration.integer(value, in: range)
        }
    }

    static func number(_ name: String, _ path: WritableKeyPath<AgentConfiguration, Double> & Sendable,
                       _ range: ClosedRange<Double>, _ help: String) -> ConfigurationKey {
        ConfigurationKey(name: name, help: help) { config, value throws(InvalidValue) in
            config[keyPath: path] = try AgentConfiguration.number(value, in: range)
        }
    }

    static func float(_ name: String, _ path: WritableKeyPath<AgentConfiguration, Float> & Sendable,
                      _ range: ClosedRange<Double>, _ help: String) -> ConfigurationKey {
        ConfigurationKey(name: name, help: help) { config, value throws(InvalidValue) in
            config[keyPath: path] = Float(try AgentConfiguration.number(value, in: range))
        }
    }
}
