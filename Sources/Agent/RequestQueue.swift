import Dispatch
import NIOConcurrencyHelpers

/// A bounded first-in, first-out queue feeding the one worker thread that generates.
///
/// One generation at a time is all a small CPU can do well: two would each run at half speed
/// and both answer late. So requests wait here, and when `capacity` are waiting the next is
/// refused at once (`busy`) rather than left to time out.
final class RequestQueue: Sendable {
    /// Requests that may wait behind the running one.
    let capacity: Int
    private let state = NIOLockedValueBox(State())
    /// One signal per queued job, and one more on `close()` to wake the worker for good.
    private let available = DispatchSemaphore(value: 0)

    private struct State {
        var waiting: [Job] = []
        var running: Job?
        var closed = false
    }

    /// Why a job was not queued.
    enum Refusal: Error {
        case full, closed, duplicateID
    }

    init(capacity: Int) { self.capacity = capacity }

    func push(_ job: Job) throws(Refusal) {
        let refusal: Refusal? = state.withLockedValue { state in
            guard !state.closed else { return .closed }
            let id = job.request.id
            guard state.running?.request.id != id, !state.waiting.contains(where: { $0.request.id == id }) else { return .duplicateID }
            // Counting the running job in makes a job pushed onto an idle worker never count as waiting.
            guard state.waiting.count + (state.running == nil ? 0 : 1) <= capacity else { return .full }
            state.waiting.append(job)
            return nil
        }
        if let refusal { throw refusal }
        available.signal()
    }

    /// The next job, waiting for one; nil once the queue is closed. The job counts as running
    /// until `finished()`.
    func next() -> Job? {
        while true {
            available.wait()
            let job: Job?? = state.withLockedValue { state in
                if !state.waiting.isEmpty {
                    state.running = state.waiting.removeFirst()
                    return state.running
                }
                return state.closed ? .some(nil) : nil
            }
            // A signal whose job was cancelled while waiting leaves nothing to take: wait again.
            if let job { return job }
        }
    }

    func finished() {
        state.withLockedValue { $0.running = nil }
    }

    /// Takes a waiting job out of the queue, for a cancellation.
    func removeWaiting(id: String) -> Job? {
        state.withLockedValue { state in
            guard let index = state.waiting.firstIndex(where: { $0.request.id == id }) else { return nil }
            return state.waiting.remove(at: index)
        }
    }

    /// The waiting or running job of request `id`.
    func job(id: String) -> Job? {
        state.withLockedValue { state in
            state.running?.request.id == id ? state.running : state.waiting.first { $0.request.id == id }
        }
    }

    func running(id: String) -> Job? {
        state.withLockedValue { $0.running?.request.id == id ? $0.running : nil }
    }

    var running: Job? { state.withLockedValue { $0.running } }

    /// Jobs waiting, not counting the running one.
    var depth: Int { state.withLockedValue { $0.waiting.count } }

    /// Refuses new jobs and hands back the waiting ones; the worker's `next()` returns nil once idle.
    func close() -> [Job] {
        let waiting = state.withLockedValue { state in
            state.closed = true
            defer { state.waiting = [] }
            return state.waiting
        }
        available.signal()
        return waiting
    }
}
