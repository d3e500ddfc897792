import Protocol
import Runtime

/// The one place where whatever stops a request becomes the code and message its error reply
/// carries: the queue refusing it, a cancel or the shutdown, its deadline, a failed generation.
extension RequestError {
    /// A request the queue would not take.
    init(refused refusal: RequestQueue.Refusal, id: String, capacity: Int) {
        switch refusal {
        case .full: self.init(.busy, "the queue is full (\(capacity) waiting behind the running request); try again later")
        case .closed: self.init(.busy, "the agent is shutting down")
        case .duplicateID: self.init(.badRequest, "a request with id \(id) is already queued or running")
        }
    }

    /// Why a job that `mustStop` stopped, after `tokens` generated tokens (nil: taken out of the
    /// queue before it started): a cancel, the shutdown, or, told neither, its deadline.
    init(stopping job: Job, afterTokens tokens: Int?) {
        switch (job.stopReason, tokens) {
        case (.cancelled, nil): self.init(.cancelled, "cancelled before it started")
        case (.cancelled, let tokens?): self.init(.cancelled, "cancelled after \(tokens) tokens")
        case (.shutdown, nil): self.init(.cancelled, "the agent is shutting down")
        case (.shutdown, let tokens?): self.init(.cancelled, "the agent is shutting down (after \(tokens) tokens)")
        case (.none, _): self.init(.timeout, "request_timeout passed after \(tokens ?? 0) tokens")
        }
    }

    /// A generation that threw: a prompt longer than the context is the sender's to fix; nothing
    /// else is expected (the template's own tokens make an empty prompt impossible).
    init(generationFailure error: any Error) {
        if case GenerationError.promptTooLong(let count, let context) = error {
            self.init(.tooLarge, "the prompt is \(count) tokens; the context holds \(context)")
        } else {
            self.init(.internal, "\(error)")
        }
    }
}
