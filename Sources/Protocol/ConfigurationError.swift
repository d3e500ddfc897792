/// A mistake in agent.conf or on the command line, with where it is.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    /// `agent.conf:12` for a line of a file, `--broker-port` for a flag.
    public let location: String
    /// The line number, for mistakes in a file.
    public let line: Int?
    public let message: String

    public init(location: String, line: Int?, message: String) {
        self.location = location
        self.line = line
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}
