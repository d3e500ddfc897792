import Runtime

/// Runs one job through the generator and hands each reply document to `send`.
///
/// Kept apart from the MQTT side so tests can drive a generation directly (and cancel it at an
/// exact token) while the agent uses the same code.
public struct RequestRunner: Sendable {
    public let generator: Generator

    public init(generator: Generator) { self.generator = generator }

    /// Streams chunks (when asked to) and ends with exactly one final or error reply.
    /// Cancellation, shutdown and the deadline are checked before every token.
    public func run(_ job: Job, send: (Reply) -> Void) {
        let request = job.request
        if let stopped = stopError(job, tokens: 0) {
            send(.error(stopped))
            return
        }
        let tokens = generator.chatTokens(request.messages)
        var seq = 0
        let result: GenerationResult
        do {
            result = try generator.generate(
                tokens, options: request.options,
                isCancelled: { job.stopReason != .none || job.isPastDeadline },
                onText: { text in
                    if request.stream {
                        send(.chunk(seq: seq, text: text))
                        seq += 1
                    }
                    return true
                })
        } catch GenerationError.promptTooLong(let count, let context) {
            send(.error(RequestError(.tooLarge, "the prompt is \(count) tokens; the context holds \(context)")))
            return
        } catch {
            // The template's own tokens make an empty prompt impossible; nothing else is expected.
            send(.error(RequestError(.internal, "\(error)")))
            return
        }
        if result.finishReason == .cancelled, let stopped = stopError(job, tokens: result.tokensOut) {
            send(.error(stopped))
        } else {
            send(.final(result))
        }
    }

    /// The error for a job told to stop, or past its deadline; nil for one free to go on.
    private func stopError(_ job: Job, tokens: Int) -> RequestError? {
        switch job.stopReason {
        case .cancelled: return RequestError(.cancelled, "cancelled after \(tokens) tokens")
        case .shutdown: return RequestError(.cancelled, "the agent is shutting down (after \(tokens) tokens)")
        case .none:
            return job.isPastDeadline ? RequestError(.timeout, "request_timeout passed after \(tokens) tokens") : nil
        }
    }
}
