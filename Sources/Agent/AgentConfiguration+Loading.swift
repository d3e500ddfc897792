import Foundation
import Protocol

extension AgentConfiguration {
    /// Reads agent.conf text (see `SettingsFile`) over the current settings.
    public mutating func read(_ text: String, file: String) throws(ConfigurationError) {
        try SettingsFile.read(text, file: file) { entry throws(ConfigurationError) in
            try set(entry.key, to: entry.value, location: entry.location, line: entry.line)
        }
    }

    /// Sets one key, checking its value; `location` says where it came from in any error.
    public mutating func set(_ key: String, to value: String, location: String, line: Int? = nil) throws(ConfigurationError) {
        try Self.keys.set(key, to: value, in: &self, location: location, line: line)
    }

    /// The daemon's command line: the file named by `--config` is read first, wherever the flag
    /// stands, then every `--some-key value` (or `--some-key=value`) overrides key `some_key`.
    public static func load(arguments: [String],
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) -> AgentConfiguration {
        var configPath: String?
        var overrides: [(flag: String, value: String)] = []
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw ConfigurationError(location: argument, line: nil, message: "expected --key value")
            }
            var flag = argument
            let value: String
            if let equals = argument.firstIndex(of: "=") {
                flag = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            } else if let next = rest.popFirst() {
                value = next
            } else {
                throw ConfigurationError(location: flag, line: nil, message: "needs a value")
            }
            if flag == "--config" { configPath = value } else { overrides.append((flag, value)) }
        }
        var configuration = AgentConfiguration()
        if let configPath {
            try configuration.read(try SettingsFile.text(at: configPath), file: configPath)
            if configuration.broker.password != nil && configuration.broker.passwordFile == nil {
                configuration.configFileWithPassword = configPath
            }
        }
        for (flag, value) in overrides {
            let key = flag.dropFirst(2).replacingOccurrences(of: "-", with: "_")
            try configuration.set(key, to: value, location: flag)
        }
        configuration.broker.fillPassword(from: environment)
        try configuration.broker.validate()
        return configuration
    }

    /// `elutq-agent --help`: the flags, one per agent.conf key.
    public static var usage: String {
        let width = keys.map(\.name.count).max()! + 3
        let lines = keys.map { key in
            let flag = "--" + key.name.replacingOccurrences(of: "_", with: "-")
            return "  " + flag.padding(toLength: width + 2, withPad: " ", startingAt: 0) + key.help
        }
        return """
            usage: elutq-agent [--config FILE] [--KEY VALUE]...

            Serves prompts over MQTT. Every agent.conf key is also a flag (key broker_port is
            --broker-port), and flags override the file. The sample agent.conf documents each key.

            \(lines.joined(separator: "\n"))

            """
    }
}

extension AgentConfiguration {
    /// The files holding secrets (agent.conf when it holds a password, password_file,
    /// tls_key_file) that users other than the owner and the group can read: the agent warns of
    /// each at start.
    public var secretsReadableByOthers: [String] {
        [broker.passwordFile, broker.tlsKeyFile, configFileWithPassword].compactMap { $0 }.filter { path in
            guard let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int else { return false }
            return mode & 0o004 != 0
        }
    }
}
