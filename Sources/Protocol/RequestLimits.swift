import Runtime

/// The limits a request is checked against.
public struct RequestLimits: Sendable {
    public var maxPromptBytes: Int
    public var maxNewTokens: Int
    /// Sampling and length for whatever a request leaves out.
    public var defaults: GenerationOptions

    public init(maxPromptBytes: Int, maxNewTokens: Int, defaults: GenerationOptions) {
        self.maxPromptBytes = maxPromptBytes
        self.maxNewTokens = maxNewTokens
        self.defaults = defaults
    }

    /// The largest payload worth parsing: a prompt at the limit with every byte escaped as `\u00XX`
    /// (6 bytes), plus room for the other fields. Anything bigger is refused unread.
    public var maxPayloadBytes: Int { 6 * maxPromptBytes + 64 * 1024 }

    /// Roles a message may have. Roles are written into the chat template as markup, so they must
    /// come from a fixed set rather than from the sender.
    static let roles: Set<String> = ["system", "user", "assistant"]
    static let maxMessages = 256
    static let maxStopStrings = 8
    static let maxStopBytes = 128
}
