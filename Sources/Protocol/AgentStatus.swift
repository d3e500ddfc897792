import Foundation

/// The retained document on an agent's status topic: who it is, what it serves, what it accepts.
///
/// The agent's will is the same document with `online: false`, so a device that vanished still
/// shows which model it was serving.
public struct AgentStatus: Sendable {
    /// The limits a request is held to, so a client can size its requests before sending them.
    public struct Limits: Sendable {
        public var contextSize: Int
        public var maxPromptBytes: Int
        public var maxNewTokens: Int
        public var queueLength: Int
        /// Seconds.
        public var requestTimeout: Double

        public init(contextSize: Int, maxPromptBytes: Int, maxNewTokens: Int, queueLength: Int, requestTimeout: Double) {
            self.contextSize = contextSize
            self.maxPromptBytes = maxPromptBytes
            self.maxNewTokens = maxNewTokens
            self.queueLength = queueLength
            self.requestTimeout = requestTimeout
        }
    }

    public var device: String
    public var agentVersion: String
    public var model: ModelIdentity
    public var group: String?
    /// What this agent takes: `prompt`, `messages`, `stream`, `cancel`, `response_topic`, and
    /// `fleet` and `push` when it is in a group and has a model store.
    public var capabilities: [String]
    public var limits: Limits
    public var startedAt: Date
    /// Random for each agent process, so an agent can tell its own status from that of another
    /// agent configured with the same device id.
    public var instance: String

    public init(device: String, agentVersion: String, model: ModelIdentity, group: String?, capabilities: [String],
                limits: Limits, startedAt: Date, instance: String) {
        self.device = device
        self.agentVersion = agentVersion
        self.model = model
        self.group = group
        self.capabilities = capabilities
        self.limits = limits
        self.startedAt = startedAt
        self.instance = instance
    }

    public func document(online: Bool) -> JSON {
        [
            "device": .string(device),
            "online": .bool(online),
            "agent_version": .string(agentVersion),
            "model": [
                "name": .string(model.name), "sha256": .string(model.sha256), "format": .string(model.format),
                "quantization": JSON(model.quantization), "mapped_bytes": JSON(model.mappedBytes),
            ],
            "group": JSON(group),
            "capabilities": .array(capabilities.map(JSON.string)),
            "limits": [
                "context_size": JSON(limits.contextSize), "max_prompt_bytes": JSON(limits.maxPromptBytes),
                "max_new_tokens": JSON(limits.maxNewTokens), "queue_length": JSON(limits.queueLength),
                "request_timeout_s": JSON(limits.requestTimeout),
            ],
            "started_at": JSON(startedAt.timeIntervalSince1970),
            "instance": .string(instance),
        ]
    }
}
