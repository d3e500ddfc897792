import Agent
import Foundation
import MQTT
import Protocol
import TestSupport

/// Settings for an agent under test: the test broker, the real model, a small context,
/// greedy sampling and quiet logs. `configure` adjusts the rest.
func testConfiguration(broker: MosquittoBroker, device: String,
                       configure: (inout AgentConfiguration) -> Void = { _ in }) throws -> AgentConfiguration {
    var configuration = AgentConfiguration()
    configuration.brokerHost = "127.0.0.1"
    configuration.brokerPort = broker.port
    configuration.deviceID = device
    configuration.model = try realModelPath()
    configuration.threads = 2
    configuration.contextSize = 512
    configuration.temperature = 0
    configuration.maxNewTokens = 256
    configuration.telemetryInterval = 1
    configuration.logLevel = .warn
    configure(&configuration)
    return configuration
}

/// A prompt request document.
func promptRequest(_ id: String, _ prompt: String, maxTokens: Int = 16, extra: [String: JSON] = [:]) -> JSON {
    var fields: [String: JSON] = ["id": .string(id), "prompt": .string(prompt), "max_tokens": JSON(maxTokens)]
    fields.merge(extra) { $1 }
    return .object(fields)
}

/// A prompt that makes SmolLM2 write on and on, for tests that need a generation still running.
let longPrompt = "Write a very long story about a dragon who learns to read, with many chapters."

/// The built `elutq-agent` and `elutq` executables sit next to the test bundle.
func builtExecutable(_ name: String) throws -> URL {
    let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    let executable = directory.appendingPathComponent(name)
    guard FileManager.default.isExecutableFile(atPath: executable.path) else {
        throw TestFailure("\(executable.path) is missing: `swift build` (or `swift test`) builds it")
    }
    return executable
}

/// Polls `condition` until it holds, failing the test after `timeout` seconds.
func waitUntil(_ description: String, timeout: Double = TestClient.patience, _ condition: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        guard Date() < deadline else { throw TestFailure("waited \(Int(timeout)) s in vain until \(description)") }
        usleep(10_000)
    }
}
