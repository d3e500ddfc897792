/// An error reply's `{code, message}`: the code for programs, the message for people.
public struct RequestError: Error, Sendable, Equatable {
    /// The codes an error reply can carry.
    public enum Code: String, Sendable {
        /// Not JSON, not UTF-8, a missing or mistyped field, an unknown field.
        case badRequest = "bad_request"
        /// A prompt over `max_prompt_bytes`, `max_tokens` over `max_new_tokens`, or a prompt longer than the context.
        case tooLarge = "too_large"
        /// The queue is full (or the agent is shutting down); try again or another device.
        case busy
        /// Cancelled through the cancel topic, or by a shutdown.
        case cancelled
        /// `request_timeout` passed before the generation finished.
        case timeout
        /// A failure of the agent itself.
        case `internal`
        /// A model command named a model the store does not hold.
        case notFound = "not_found"
        /// A model command that would delete the model being served.
        case conflict
        /// `use` could not load the model; the previous one keeps serving.
        case loadFailed = "load_failed"
        /// A model command the device may not act on: unsigned, signed by an untrusted key,
        /// replayed or stale, or model commands turned off in agent.conf.
        case forbidden
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}
