import Foundation
import MQTT
import Protocol

extension Agent {
    /// What the retained status says of this agent; the will is its document with `online: false`.
    var status: AgentStatus {
        var capabilities = ["prompt", "messages", "stream", "cancel", "response_topic"]
        if configuration.group != nil { capabilities.append("fleet") }
        if receiver != nil { capabilities.append("push") }
        let limits = AgentStatus.Limits(contextSize: configuration.contextSize, maxPromptBytes: configuration.maxPromptBytes,
                                        maxNewTokens: configuration.maxNewTokens, queueLength: configuration.queueLength,
                                        requestTimeout: configuration.requestTimeout)
        return AgentStatus(device: topics.device, agentVersion: Self.version, model: identity, group: configuration.group,
                           capabilities: capabilities, limits: limits, startedAt: startedAt)
    }

    func statusMessage(online: Bool) -> MQTTMessage {
        MQTTMessage(topic: topics.status, json: status.document(online: online), qos: configuration.qos, retain: true)
    }
}
