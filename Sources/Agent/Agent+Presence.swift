import Foundation
import MQTT

extension Agent {
    /// The retained status document. The will is this document with `online: false`, so a device
    /// that vanished still shows which model it was serving.
    func statusDocument(online: Bool) -> JSON {
        var capabilities: [JSON] = ["prompt", "messages", "stream", "cancel", "response_topic"]
        if configuration.group != nil { capabilities.append("fleet") }
        if receiver != nil { capabilities.append("push") }
        let identity = identity
        return [
            "device": .string(topics.device),
            "online": .bool(online),
            "agent_version": .string(Self.version),
            "model": [
                "name": .string(identity.name), "sha256": .string(identity.sha256), "format": .string(identity.format),
                "quantization": JSON(identity.quantization), "mapped_bytes": JSON(identity.mappedBytes),
            ],
            "group": JSON(configuration.group),
            "capabilities": .array(capabilities),
            "limits": [
                "context_size": JSON(configuration.contextSize), "max_prompt_bytes": JSON(configuration.maxPromptBytes),
                "max_new_tokens": JSON(configuration.maxNewTokens), "queue_length": JSON(configuration.queueLength),
                "request_timeout_s": JSON(configuration.requestTimeout),
            ],
            "started_at": JSON(startedAt.timeIntervalSince1970),
        ]
    }

    func statusMessage(online: Bool) -> MQTTMessage {
        MQTTMessage(topic: topics.status, json: statusDocument(online: online), qos: configuration.qos, retain: true)
    }
}
