import Agent
import Foundation
import MQTT
import Protocol
import TestSupport

/// Settings for an agent under test: the test broker, the real model, a small context,
/// greedy sampling and quiet logs. `configure` adjusts the rest.
public func testConfiguration(broker: MosquittoBroker, device: String,
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
    // A request may take as long as the tests wait for anything (much longer under a sanitizer).
    configuration.requestTimeout = patience
    configuration.logLevel = .warn
    configure(&configuration)
    return configuration
}

/// A prompt request document.
public func promptRequest(_ id: String, _ prompt: String, maxTokens: Int = 16, extra: [String: JSON] = [:]) -> JSON {
    var fields: [String: JSON] = ["id": .string(id), "prompt": .string(prompt), "max_tokens": JSON(maxTokens)]
    fields.merge(extra) { $1 }
    return .object(fields)
}

/// A prompt that makes SmolLM2 write on and on, for tests that need a generation still running.
public let longPrompt = "Write a very long story about a dragon who learns to read, with many chapters."
