import Protocol
import Runtime
import Testing
import Tokenizer

@testable import Agent

/// The bounded queue in front of the worker.
@Suite struct RequestQueueTests {
    func job(_ id: String) -> Job {
        let request = PromptRequest(id: id, messages: [ChatMessage(role: "user", content: "x")], options: GenerationOptions(),
                                    stream: true, group: nil, route: ReplyRoute(topic: "t", correlationData: nil))
        return Job(request: request, timeout: 60)
    }

    func push(_ queue: RequestQueue, _ id: String) -> RequestQueue.Refusal? {
        do {
            try queue.push(job(id))
            return nil
        } catch {
            return error
        }
    }

    @Test func holdsOneRunningAndCapacityWaiting() {
        let queue = RequestQueue(capacity: 2)
        #expect(push(queue, "a") == nil)
        #expect(queue.next()?.request.id == "a")
        #expect(push(queue, "b") == nil)
        #expect(push(queue, "c") == nil)
        #expect(push(queue, "d") == .full)
        #expect(queue.depth == 2)
        queue.finished()
        #expect(queue.next()?.request.id == "b")
        #expect(push(queue, "d") == nil)
    }

    @Test func aJobPushedOntoAnIdleWorkerIsNotWaiting() {
        let queue = RequestQueue(capacity: 0)
        #expect(push(queue, "a") == nil)
        #expect(push(queue, "b") == .full)
    }

    @Test func refusesAnIDAlreadyHere() {
        let queue = RequestQueue(capacity: 4)
        #expect(push(queue, "a") == nil)
        #expect(push(queue, "a") == .duplicateID)
        _ = queue.next()
        #expect(push(queue, "a") == .duplicateID)
        #expect(queue.running(id: "a") != nil)
    }

    @Test func aCancelledWaitingJobIsSkipped() {
        let queue = RequestQueue(capacity: 4)
        #expect(push(queue, "a") == nil)
        #expect(push(queue, "b") == nil)
        #expect(queue.removeWaiting(id: "a")?.request.id == "a")
        #expect(queue.removeWaiting(id: "a") == nil)
        #expect(queue.next()?.request.id == "b")
    }

    @Test func closingHandsBackTheWaitingAndEndsTheWorker() {
        let queue = RequestQueue(capacity: 4)
        #expect(push(queue, "a") == nil)
        #expect(push(queue, "b") == nil)
        #expect(queue.close().map(\.request.id) == ["a", "b"])
        #expect(push(queue, "c") == .closed)
        #expect(queue.next() == nil)
    }
}
