/// One `agent.conf` key: its name, what it is for, and how a value for it is checked and stored
/// in `Settings`.
///
/// The same table serves the file, the `--key value` flags that override it, and `--help`, so
/// the three can never disagree. Keys are generic over what they write so that the broker's keys,
/// which `elutq` reads from an agent.conf too, are written once and `lifted` into the agent's.
public struct SettingKey<Settings>: Sendable {
    public let name: String
    public let help: String
    let apply: @Sendable (inout Settings, String) throws(InvalidValue) -> Void

    public init(name: String, help: String, apply: @escaping @Sendable (inout Settings, String) throws(InvalidValue) -> Void) {
        self.name = name
        self.help = help
        self.apply = apply
    }

    /// The same key, writing the `Settings` that sit at `path` inside `Outer`.
    public func lifted<Outer>(_ path: WritableKeyPath<Outer, Settings> & Sendable) -> SettingKey<Outer> {
        let apply = apply
        return SettingKey<Outer>(name: name, help: help) { outer, value throws(InvalidValue) in
            try apply(&outer[keyPath: path], value)
        }
    }
}

/// Why a value does not suit its key; the reader adds where the value came from.
public struct InvalidValue: Error {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
}

extension Array {
    /// Sets `key` to `value` in `settings` through the key of that name; `location` (and `line`)
    /// say where the value came from in any error.
    public func set<Settings>(_ key: String, to value: String, in settings: inout Settings, location: String,
                              line: Int? = nil) throws(ConfigurationError) where Element == SettingKey<Settings> {
        guard let entry = first(where: { $0.name == key }) else {
            throw ConfigurationError(location: location, line: line, message: "unknown key \"\(key)\"")
        }
        do {
            try entry.apply(&settings, value)
        } catch {
            throw ConfigurationError(location: location, line: line, message: "\(key) \(error.reason), got \"\(value)\"")
        }
    }
}
