import Foundation

/// The format of agent.conf: `key = value` lines, blank lines, and comment lines starting with `#`.
///
/// A value is the rest of the line after `=`, trimmed, so it may itself contain `#` or `=` (a
/// password can); `key =` with nothing after it clears an optional setting. Which keys exist is
/// up to the reader: the agent takes every key, `elutq` the broker's.
public enum SettingsFile {
    /// One `key = value` line.
    public struct Entry: Sendable {
        public let key: String
        public let value: String
        /// `agent.conf:12`.
        public let location: String
        public let line: Int
    }

    /// Hands each entry of `text`, read from `file`, to `body` in order; stops at a line that is
    /// not `key = value`, at a key set twice, or at the first error of `body`.
    public static func read(_ text: String, file: String,
                            _ body: (Entry) throws(ConfigurationError) -> Void) throws(ConfigurationError) {
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
            try body(Entry(key: key, value: value, location: location, line: number))
        }
    }

    /// The text of the file at `path`.
    public static func text(at path: String) throws(ConfigurationError) -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(location: path, line: nil, message: "cannot read the file: \(error.localizedDescription)")
        }
    }
}
