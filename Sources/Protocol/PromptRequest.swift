import Runtime
import Tokenizer

/// A prompt request that passed every check, ready to queue.
public struct PromptRequest: Sendable {
    public var id: String
    /// The conversation; a plain `prompt` becomes one user message.
    public var messages: [ChatMessage]
    public var options: GenerationOptions
    /// Whether to publish chunks as the text grows, or only the final reply.
    public var stream: Bool
    /// The fleet group the sender addressed, if any; other groups' agents leave the prompt alone.
    public var group: String?
    public var route: ReplyRoute

    public init(id: String, messages: [ChatMessage], options: GenerationOptions, stream: Bool, group: String?, route: ReplyRoute) {
        self.id = id
        self.messages = messages
        self.options = options
        self.stream = stream
        self.group = group
        self.route = route
    }
}
