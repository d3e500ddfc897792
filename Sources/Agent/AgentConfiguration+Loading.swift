import Foundation

/// A mistake in agent.conf or on the command line, with where it is.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    /// `agent.conf:12` for a line of a file, `--broker-port` for a flag.
    public let location: String
    /// The line number, for mistakes in a file.
    public let line: Int?
    public let message: String

    public var description: String { "\(location): \(message)" }
}

extension AgentConfiguration {
    /// Reads agent.conf text over the current settings: `key = value` lines, blank lines, and
    /// comment lines starting with `#`. A value is the rest of the line after `=`, trimmed, so it
    /// may itself contain `#` or `=` (a password can); `key =` with nothing after clears an optional setting.
    public mutating func read(_ text: String, file: String) throws(ConfigurationError) {
        var lineOfKey: [String: Int] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let location = "\(file):\(number)"
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigurationError(location: location, line: number, message: "expected `key = value`, got \"\(line)\"")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if let first = lineOfKey[key] {
                throw ConfigurationError(location: location, line: number, message: "\(key) is already set on line \(first)")
            }
            lineOfKey[key] = number
            try set(key, to: value, location: location, line: number)
        }
    }

    /// Sets one key, checking its value; `location` says where it came from in any error.
    public mutating func set(_ key: String, to value: String, location: String, line: Int? = nil) throws(ConfigurationError) {
        guard let entry = Self.keys.first(where: { $0.name == key }) else {
            throw ConfigurationError(location: location, line: line, message: "unknown key \"\(key)\"")
        }
        do {
            try entry.apply(&self, value)
        } catch {
            throw ConfigurationError(location: location, line: line, message: "\(key) \(error.reason), got \"\(value)\"")
        }
    }

    /// The daemon's command line: the file named by `--config` is read first, wherever the flag
    /// stands, then every `--some-key value` (or `--some-key=value`) overrides key `some_key`.
    public static func load(arguments: [String]) throws(ConfigurationError) -> AgentConfiguration {
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
            let text: String
            do {
                text = try String(contentsOfFile: configPath, encoding: .utf8)
            } catch {
                throw ConfigurationError(location: configPath, line: nil, message: "cannot read the file: \(error.localizedDescription)")
            }
            try configuration.read(text, file: configPath)
        }
        for (flag, value) in overrides {
            let key = flag.dropFirst(2).replacingOccurrences(of: "-", with: "_")
            try configuration.set(key, to: value, location: flag)
        }
        try configuration.validate()
        return configuration
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
