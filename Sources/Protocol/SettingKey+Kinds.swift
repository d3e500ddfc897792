extension SettingKey {
    /// A setting that may not be empty; `check` returns what is wrong with a value, or nil.
    public static func text(_ name: String, _ path: WritableKeyPath<Settings, String> & Sendable, _ help: String,
                            check: @escaping @Sendable (String) -> String? = { _ in nil }) -> SettingKey {
        SettingKey(name: name, help: help) { settings, value throws(InvalidValue) in
            guard !value.isEmpty else { throw InvalidValue("must not be empty") }
            if let problem = check(value) { throw InvalidValue(problem) }
            settings[keyPath: path] = value
        }
    }

    /// A setting that may be left empty (`key =`) to mean "none".
    public static func optionalText(_ name: String, _ path: WritableKeyPath<Settings, String?> & Sendable, _ help: String,
                                    check: @escaping @Sendable (String) -> String? = { _ in nil }) -> SettingKey {
        SettingKey(name: name, help: help) { settings, value throws(InvalidValue) in
            if !value.isEmpty, let problem = check(value) { throw InvalidValue(problem) }
            settings[keyPath: path] = value.isEmpty ? nil : value
        }
    }

    public static func integer(_ name: String, _ path: WritableKeyPath<Settings, Int> & Sendable,
                               _ range: ClosedRange<Int>, _ help: String) -> SettingKey {
        SettingKey(name: name, help: help) { settings, value throws(InvalidValue) in
            settings[keyPath: path] = try SettingValue.integer(value, in: range)
        }
    }

    public static func number(_ name: String, _ path: WritableKeyPath<Settings, Double> & Sendable,
                              _ range: ClosedRange<Double>, _ help: String) -> SettingKey {
        SettingKey(name: name, help: help) { settings, value throws(InvalidValue) in
            settings[keyPath: path] = try SettingValue.number(value, in: range)
        }
    }

    public static func float(_ name: String, _ path: WritableKeyPath<Settings, Float> & Sendable,
                             _ range: ClosedRange<Double>, _ help: String) -> SettingKey {
        SettingKey(name: name, help: help) { settings, value throws(InvalidValue) in
            settings[keyPath: path] = Float(try SettingValue.number(value, in: range))
        }
    }
}

/// Reading a setting's value as a number, for keys that store it in their own way.
public enum SettingValue {
    public static func integer(_ value: String, in range: ClosedRange<Int>) throws(InvalidValue) -> Int {
        guard let number = Int(value) else { throw InvalidValue("must be a whole number") }
        guard range.contains(number) else { throw InvalidValue("must be between \(range.lowerBound) and \(range.upperBound)") }
        return number
    }

    public static func number(_ value: String, in range: ClosedRange<Double>) throws(InvalidValue) -> Double {
        guard let number = Double(value), number.isFinite else { throw InvalidValue("must be a number") }
        guard range.contains(number) else { throw InvalidValue("must be between \(range.lowerBound) and \(range.upperBound)") }
        return number
    }
}
