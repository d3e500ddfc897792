import Dispatch
import Synchronization

/// A bounded first-in, first-out queue feeding the one worker thread that generates.
///
/// One generation at a time is all a small CPU can do well: two would each run at half speed
/// and both answer late. So requests wait here, and when `capacity` are waiting the next is
/// refused at once (`busy`) rather than left to time out.
final class RequestQueue: Sendable {
    /// Requests that may wait behind the running one.
    let capacity: Int
    private let state = Mutex(State())
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
        try state.withLock { state throws(Refusal) in
            guard !state.closed else { throw .closed }
            let id = job.request.id
            guard state.running?.request.id != id, !state.waiting.contains(where: { $0.request.id == id }) else { throw .duplicateID }
            // Counting the running job in makes a job pushed onto an idle worker never count as waiting.
            guard state.waiting.count + (state.running == nil ? 0 : 1) <= capacity else { throw .full }
            state.waiting.append(job)
        }
        available.signal()
    }

    /// The next job, waiting for one; nil once the queue is closed. The job counts as running
    /// until `finished()`.
    func next() -> Job? {
        while true {
            available.wait()
            let job: Job?? = state.withLock { state in
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
        state.withLock { $0.running = nil }
    }

    /// Takes a waiting job out of the queue, for a cancellation.
    func removeWaiting(id: String) -> Job? {
        state.withLock { state in
            guard let index = state.waiting.firstIndex(where: { $0.request.id == id }) else { return nil }
            return state.waiting.remove(at: index)
        }
    }

    /// The waiting or running job of request `id`.
    func job(id: String) -> Job? {
        state.withLock { state in
            state.running?.request.id == id ? state.running : state.waiting.first { $0.request.id == id }
        }
    }

    func running(id: String) -> Job? {
        state.withLock { $0.running?.request.id == id ? $0.running : nil }
    }

    var running: Job? { state.withLock { $0.running } }

    /// Jobs waiting, not counting the running one.
    var depth: Int { state.withLock { $0.waiting.count } }

    /// Refuses new jobs and hands back the waiting ones; the worker's `next()` returns nil once idle.
    func close() -> [Job] {
        let waiting = state.withLock { state in
            state.closed = true
            defer { state.waiting = [] }
            return state.waiting
        }
        available.signal()
        return waiting
    }
}
