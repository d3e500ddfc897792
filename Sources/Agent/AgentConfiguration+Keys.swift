import Engine
import Foundation
import Protocol

extension AgentConfiguration {
    /// Every agent.conf key: the broker's, then the agent's own.
    static let keys: [SettingKey<AgentConfiguration>] = BrokerSettings.keys.map { $0.lifted(\.broker) } + [
        .text("device_id", \.deviceID, "This device's name in topics; letters, digits, - _ . : (default: the host name and six hex digits of /etc/machine-id). Unique per device: a second agent with the same id makes the first stop.",
              check: identifierCheck),
        .optionalText("group", \.group, "Fleet group: also serve prompts from the shared subscription of this group.",
                      check: identifierCheck),
        .optionalText("model", \.model, "Model file to serve (.hlq, or GGUF on the float path)."),
        .optionalText("model_store", \.modelStore, "Directory of pushed models; a push is received into it and `elutq use` picks from it."),
        SettingKey(name: "trusted_keys", help: "Comma-separated Ed25519 public key files (elutq keygen) a pushed model's manifest, and a use or rm command, must be signed by.") { config, value throws(InvalidValue) in
            config.trustedKeys = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        },
        SettingKey(name: "model_commands", help: "on (the default): list, and signed use and rm; off: refuse every model command.") { config, value throws(InvalidValue) in
            switch value {
            case "on": config.modelCommands = true
            case "off": config.modelCommands = false
            default: throw InvalidValue("must be on or off")
            }
        },
        .number("command_max_age", \.commandMaxAge, 5...86_400, "Seconds a signed use or rm stays valid, either side of this device's clock."),
        .integer("threads", \.threads, 1...256, "Threads for generation, the caller included (default: all cores)."),
        SettingKey(name: "tables", help: "LUT activation tables: int8 (about 8 bits; the default), precise (about 15 bits) or mixed (int8 for prompts, precise for each generated token).") { config, value throws(InvalidValue) in
            guard let tables = TablePrecision(rawValue: value) else { throw InvalidValue("must be int8, precise or mixed") }
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
        SettingKey(name: "log_level", help: "debug, info, warn or error.") { config, value throws(InvalidValue) in
            guard let level = Logger.Level(rawValue: value) else { throw InvalidValue("must be debug, info, warn or error") }
            config.logLevel = level
        },
    ]

    static let identifierCheck: @Sendable (String) -> String? = {
        Topics.isIdentifier($0) ? nil : "must be 1 to 64 letters, digits, - _ . or :"
    }
}
