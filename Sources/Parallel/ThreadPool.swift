import CLUTKernels
import Glibc
import Synchronization

/// A fork-join pool of OS threads, cheap enough for the ~200 parallel matrix calls of one decode step.
///
/// `run` hands the same body to every participant; the calling thread is participant 0, so a pool of
/// two threads starts only one worker. After a job, workers spin for a bounded time, because the next
/// job usually follows within microseconds, and then block, so an idle pool costs no CPU and a busy
/// machine does not turn spinning into milliseconds of lost time.
///
/// Work is handed out in pieces that participants claim from a shared counter (`parallelFor`,
/// `claimPieces`), not split evenly in advance: when the host takes a core away from one worker for
/// a while, the others take over its unclaimed pieces instead of the whole step waiting for it.
///
/// One caller at a time: `run` must not be called concurrently or from inside a job.
public final class ThreadPool: @unchecked Sendable {
    /// Participants in every job, the caller included.
    public let threadCount: Int

    /// How many relax hints a worker spins through before it blocks (a few hundred microseconds).
    private static let spinLimit = 1 << 14

    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let callerWaiting = Atomic<Bool>(false)
    private let shuttingDown = Atomic<Bool>(false)
    private let running = Atomic<Bool>(false)
    /// The next unclaimed piece of the current `claimPieces` job.
    private let nextPiece = Atomic<Int>(0)
    /// The current job; written before the generation bump that publishes it.
    private var job: ((Int) -> Void)?
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var threads: [pthread_t] = []

    /// A pool with `threadCount` participants (at least 1), counting the caller.
    public init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(done, nil)
        for index in 1..<self.threadCount {
            let context = Unmanaged.passRetained(WorkerStart(pool: self, index: index)).toOpaque()
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { raw in
                let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                start.pool.workerLoop(index: start.index)
                return nil
            }, context)
            precondition(status == 0, "pthread_create failed with \(status)")
            threads.append(thread)
        }
    }

    deinit {
        shuttingDown.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        for thread in threads { pthread_join(thread, nil) }
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(wake)
        pthread_cond_destroy(done)
        mutex.deallocate()
        wake.deallocate()
        done.deallocate()
    }

    /// Runs `body(participant)` once for every participant in `0..<threadCount` and returns when all are done.
    public func run(_ body: (Int) -> Void) {
        if threadCount == 1 {
            body(0)
            return
        }
        let wasRunning = running.exchange(true, ordering: .acquiring)
        precondition(!wasRunning, "ThreadPool.run is not reentrant")
        withoutActuallyEscaping(body) { escapable in
            job = escapable
            pending.store(threadCount - 1, ordering: .sequentiallyConsistent)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(mutex)
            }
            escapable(0)
            waitForWorkers()
            job = nil
        }
        running.store(false, ordering: .releasing)
    }

    /// How many pieces per participant `parallelFor` cuts work into: enough that a stalled
    /// participant's share is soon taken over, few enough that claiming costs nothing measurable.
    public static let piecesPerParticipant = 4

    /// Runs `body` on pieces of `0..<count`, claimed by the participants until none are left, so
    /// that every index is in exactly one piece.
    public func parallelFor(_ count: Int, _ body: (Range<Int>) -> Void) {
        let pieces = min(count, threadCount * Self.piecesPerParticipant)
        claimPieces(pieces) { _, piece in body(Self.share(of: count, participant: piece, participants: pieces)) }
    }

    /// Runs `body(participant, piece)` once for every piece in `0..<pieces`; each participant claims
    /// the next unclaimed piece until none are left. With one piece or one thread it all runs on the caller.
    public func claimPieces(_ pieces: Int, _ body: (_ participant: Int, _ piece: Int) -> Void) {
        if pieces <= 0 { return }
        if threadCount == 1 || pieces == 1 {
            for piece in 0..<pieces { body(0, piece) }
            return
        }
        nextPiece.store(0, ordering: .relaxed)
        run { participant in
            while true {
                let piece = nextPiece.add(1, ordering: .relaxed).oldValue
                if piece >= pieces { return }
                body(participant, piece)
            }
        }
    }

    /// The contiguous share of `0..<count` that a participant takes when work is split evenly.
    public static func share(of count: Int, participant: Int, participants: Int) -> Range<Int> {
        let base = count / participants, extra = count % participants
        let begin = participant * base + min(participant, extra)
        return begin..<(begin + base + (participant < extra ? 1 : 0))
    }

    private func waitForWorkers() {
        var spins = 0
        while pending.load(ordering: .sequentiallyConsistent) != 0 {
            if spins < Self.spinLimit {
                elutq_cpu_relax()
                spins += 1
                continue
            }
            pthread_mutex_lock(mutex)
            callerWaiting.store(true, ordering: .sequentiallyConsistent)
            while pending.load(ordering: .sequentiallyConsistent) != 0 {
                pthread_cond_wait(done, mutex)
            }
            callerWaiting.store(false, ordering: .sequentiallyConsistent)
            pthread_mutex_unlock(mutex)
        }
    }

    private func workerLoop(index: Int) {
        var seen = 0
        while true {
            var current = generation.load(ordering: .sequentiallyConsistent)
            var spins = 0
            while current == seen && spins < Self.spinLimit {
                elutq_cpu_relax()
                spins += 1
                current = generation.load(ordering: .sequentiallyConsistent)
            }
            if current == seen {
                pthread_mutex_lock(mutex)
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen {
                    pthread_cond_wait(wake, mutex)
                }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(mutex)
                current = generation.load(ordering: .sequentiallyConsistent)
            }
            if shuttingDown.load(ordering: .sequentiallyConsistent) { return }
            seen = current
            perform(index: index)
            if pending.subtract(1, ordering: .sequentiallyConsistent).newValue == 0
                && callerWaiting.load(ordering: .sequentiallyConsistent) {
                pthread_mutex_lock(mutex)
                pthread_cond_signal(done)
                pthread_mutex_unlock(mutex)
            }
        }
    }

    /// Kept out of line so the worker's reference to the job is released before it reports completion,
    /// which `withoutActuallyEscaping` in `run` checks.
    @inline(never)
    private func perform(index: Int) {
        job!(index)
    }
}

/// What a new worker thread needs, passed through pthread_create's context pointer.
/// The pool reference is unowned(unsafe): the pool's deinit joins every worker before it is freed.
private final class WorkerStart {
    unowned(unsafe) let pool: ThreadPool
    let index: Int
    init(pool: ThreadPool, index: Int) {
        self.pool = pool
        self.index = index
    }
}
