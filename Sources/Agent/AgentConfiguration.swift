import Engine
import Foundation
import Glibc
import Protocol
import Runtime

/// Everything `agent.conf` can set, with the defaults a key takes when the file leaves it out.
///
/// `AgentConfiguration+Keys.swift` lists the keys, their documentation and how each value is
/// checked; `AgentConfiguration+Loading.swift` reads the file and the command-line overrides.
/// The broker's settings, which `elutq` reads from an agent.conf too, are a `BrokerSettings`;
/// `configuration.brokerHost` and the like reach into it as if its fields were this type's.
@dynamicMemberLookup
public struct AgentConfiguration: Sendable, Equatable {
    public var broker = BrokerSettings()
    /// The agent.conf read by `load`, when the broker password is written in it (rather than in
    /// a password_file): a file others must not read.
    public var configFileWithPassword: String?

    // Identity
    public var deviceID = AgentConfiguration.defaultDeviceID()
    /// Fleet load-balancing group, or nil to take only this device's own prompts.
    public var group: String?

    // Model
    public var model: String?
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    public var contextSize = 2048
    /// The LUT kernels' activation tables for a `.hlq` model: int8 by default.
    public var tables = TablePrecision.int8

    // Model push
    /// Where pushed models are kept, received and chosen from; nil refuses pushes and model commands.
    public var modelStore: String?
    /// Public key files (`elutq keygen`'s `.pub`) whose signatures this device accepts on a push
    /// and on the model commands that change what it serves (`use`, `rm`).
    public var trustedKeys: [String] = []
    /// Whether the device takes model commands at all; off refuses `list`, `use` and `rm`.
    public var modelCommands = true
    /// How far a signed model command's time may be from the device's clock, in seconds.
    public var commandMaxAge = 300.0

    // Sampling defaults, used where a request does not say.
    public var temperature: Float = 0.7
    public var topP: Float = 0.95
    public var topK = 40
    public var minP: Float = 0.05

    // Limits
    public var maxPromptBytes = 8192
    /// The cap on a request's `max_tokens`, and its value when a request leaves it out.
    public var maxNewTokens = 512
    /// Requests that may wait while one runs; more are answered `busy` at once.
    public var queueLength = 4
    /// Seconds from a request's arrival to its last token.
    public var requestTimeout = 120.0

    // Telemetry and logs
    public var telemetryInterval = 10.0
    public var logLevel = Logger.Level.info

    public init() {}

    public subscript<Value>(dynamicMember path: WritableKeyPath<BrokerSettings, Value>) -> Value {
        get { broker[keyPath: path] }
        set { broker[keyPath: path] = newValue }
    }

    public var topics: Topics { Topics(prefix: broker.topicPrefix, device: deviceID) }

    /// Sampling and length for a request that sets nothing itself.
    var defaultGenerationOptions: GenerationOptions {
        var sampling = SamplingParameters()
        sampling.temperature = temperature
        sampling.topP = topP
        sampling.topK = topK
        sampling.minP = minP
        return GenerationOptions(maxTokens: maxNewTokens, sampling: sampling)
    }

    /// The host name and the first six hex digits of the machine id, `raspberrypi-3f9a1c`: every
    /// board of a fleet flashed from one image is called `raspberrypi`, and two agents with one
    /// id would fight over one MQTT session. The machine id (systemd's, unique per installation)
    /// tells them apart; without one, the host name alone.
    static func defaultDeviceID(machineIDFiles: [String] = ["/etc/machine-id", "/var/lib/dbus/machine-id"]) -> String {
        let host = hostName()
        for path in machineIDFiles {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            let digits = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            guard digits.count >= 6, digits.allSatisfy(\.isHexDigit) else { continue }
            return "\(host.prefix(57))-\(digits.prefix(6))"
        }
        return host
    }

    /// This machine's host name (gethostname, which never waits on DNS as a canonical name
    /// lookup would), cut down to characters that are safe in a topic level.
    static func hostName() -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let found = buffer.withUnsafeMutableBytes { gethostname($0.baseAddress!.assumingMemoryBound(to: CChar.self), 255) } == 0
        let name = found ? String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self) : ""
        let cleaned = String(name.unicodeScalars.prefix { $0 != "." }.filter { Topics.isIdentifierScalar($0) }.prefix(64))
        return cleaned.isEmpty ? "device" : cleaned
    }
}
