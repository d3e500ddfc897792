import Engine
import Foundation
import Glibc
import MQTT
import Runtime

/// Everything `agent.conf` can set, with the defaults a key takes when the file leaves it out.
///
/// `AgentConfiguration+Keys.swift` lists the keys, their documentation and how each value is
/// checked; `AgentConfiguration+Loading.swift` reads the file and the command-line overrides.
public struct AgentConfiguration: Sendable, Equatable {
    // Broker
    public var brokerHost = "localhost"
    public var brokerPort = 1883
    public var tlsCAFile: String?
    public var tlsCertFile: String?
    public var tlsKeyFile: String?
    public var username: String?
    public var password: String?
    public var keepAlive = 30
    /// QoS of prompt subscriptions, replies and presence. Telemetry always uses 0.
    public var qos: Int32 = 1

    // Identity
    public var deviceID = AgentConfiguration.hostName()
    public var topicPrefix = "elutq"
    /// Fleet load-balancing group, or nil to take only this device's own prompts.
    public var group: String?

    // Model
    public var model: String?
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    public var contextSize = 2048
    /// The LUT kernels' activation tables for a `.hlq` model.
    public var tables = TablePrecision.precise

    // Model push
    /// Where pushed models are kept, received and chosen from; nil refuses pushes and model commands.
    public var modelStore: String?
    /// Public key files (`elutq keygen`'s `.pub`) whose signatures this device accepts on a push.
    public var trustedKeys: [String] = []

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

    public var topics: Topics { Topics(prefix: topicPrefix, device: deviceID) }

    /// The connection settings an MQTT client needs, for the agent or for the CLI.
    public func mqttConfiguration(clientID: String) -> MQTTConfiguration {
        var mqtt = MQTTConfiguration(host: brokerHost, port: brokerPort, clientID: clientID)
        mqtt.keepAlive = keepAlive
        mqtt.username = username
        mqtt.password = password
        mqtt.tls = tlsCAFile.map { TLSFiles(caFile: $0, certificateFile: tlsCertFile, keyFile: tlsKeyFile) }
        mqtt.subscriptionQoS = qos
        return mqtt
    }

    /// Sampling and length for a request that sets nothing itself.
    var defaultGenerationOptions: GenerationOptions {
        var sampling = SamplingParameters()
        sampling.temperature = temperature
        sampling.topP = topP
        sampling.topK = topK
        sampling.minP = minP
        return GenerationOptions(maxTokens: maxNewTokens, sampling: sampling)
    }

    /// This machine's host name (gethostname, which never waits on DNS as a canonical name
    /// lookup would), cut down to characters that are safe in a topic level.
    static func hostName() -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let found = buffer.withUnsafeMutableBytes { gethostname($0.baseAddress!.assumingMemoryBound(to: CChar.self), 255) } == 0
        let name = found ? String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self) : ""
        let cleaned = String(name.unicodeScalars.prefix { $0 != "." }.filter { isIdentifierScalar($0) }.prefix(64))
        return cleaned.isEmpty ? "device" : cleaned
    }

    /// Letters, digits, `-`, `_`, `.` and `:`: the characters device ids, groups and request ids may use,
    /// so none of them can add a topic level or a wildcard.
    static func isIdentifierScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_.:".unicodeScalars.contains(scalar))
    }

    static func isIdentifier(_ text: String, maxLength: Int = 64) -> Bool {
        !text.isEmpty && text.utf8.count <= maxLength && text.unicodeScalars.allSatisfy(isIdentifierScalar)
    }
}
