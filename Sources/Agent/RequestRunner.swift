import Protocol
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
        if job.mustStop {
            send(.error(RequestError(stopping: job, afterTokens: 0)))
            return
        }
        let tokens = generator.chatTokens(request.messages)
        var seq = 0
        let result: GenerationResult
        do {
            result = try generator.generate(
                tokens, options: request.options,
                isCancelled: { job.mustStop },
                onText: { text in
                    if request.stream {
                        send(.chunk(seq: seq, text: text))
                        seq += 1
                    }
                    return true
                })
        } catch {
            send(.error(RequestError(generationFailure: error)))
            return
        }
        if result.finishReason == .cancelled && job.mustStop {
            send(.error(RequestError(stopping: job, afterTokens: result.tokensOut)))
        } else {
            send(.final(result))
        }
    }
}
