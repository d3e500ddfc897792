import CLUTKernels
import Glibc
import Synchronization

/// A fork-join pool of OS threads, cheap enough for the ~200 parallel matrix calls of one decode step.
///
/// A job is a number of pieces; every participant, the calling thread included, claims the next
/// unclaimed piece until none are left, and the caller returns once every claimed piece is done.
/// It does not wait for a worker that never claimed one: when the host takes a core away from a
/// worker, the caller does that worker's pieces itself instead of the whole step waiting until the
/// worker runs again. A pool of two threads starts only one worker. After a job, workers spin for
/// a bounded time, because the next job usually follows within microseconds, and then block, so an
/// idle pool costs no CPU.
///
/// One caller at a time: jobs must not be started concurrently or from inside a job.
public final class ThreadPool: @unchecked Sendable {
    /// Participants in every job, the caller included.
    public let threadCount: Int
    /// Whether jobs add to `callerWait` (for `elutq bench --profile`; off, jobs read no clock).
    public var measuresCallerWait = false
    /// Nanoseconds the caller spent waiting for other participants to finish their pieces after
    /// running out of its own: work split unevenly, or a participant that was slow to wake.
    public let callerWait = Atomic<UInt64>(0)

    /// How many relax hints a worker spins through before it blocks (a few hundred microseconds).
    private static let spinLimit = 1 << 14
    /// A claim ticket packs the low 32 bits of the job's generation, its piece count and the next
    /// piece, so that a worker arriving late can never claim a piece of a job other than the one
    /// it saw (unless it slept through 2^32 jobs).
    private static let pieceBits = 16
    private static let pieceMask = (1 << pieceBits) - 1
    private static let generationMask = (1 << 32) - 1
    /// The most pieces one job may have.
    public static let maxPieces = pieceMask

    /// Bumped to publish each job (and once more at shutdown).
    private let generation = Atomic<Int>(0)
    /// (generation << 32) | (pieces << 16) | next unclaimed piece, of the current job.
    private let ticket = Atomic<Int>(0)
    /// Claimed or unclaimed pieces of the current job that are not finished yet.
    private let remaining = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let callerWaiting = Atomic<Bool>(false)
    private let shuttingDown = Atomic<Bool>(false)
    private let running = Atomic<Bool>(false)
    /// The current job's body, called with a piece; written before the ticket that publishes it,
    /// and valid until its last piece is finished.
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
        for _ in 1..<self.threadCount {
            let context = Unmanaged.passRetained(WorkerStart(pool: self)).toOpaque()
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { raw in
                let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                start.pool.workerLoop()
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

    /// Runs `body(i)` once for every `i` in `0..<threadCount` and returns when all are done. Each
    /// `i` is a piece, not a thread: a participant may run several when another is held up.
    public func run(_ body: (Int) -> Void) {
        claimPieces(threadCount, body)
    }

    /// Splits `0..<count` into one contiguous range per participant and runs `body` on each non-empty range.
    public func parallelFor(_ count: Int, _ body: (Range<Int>) -> Void) {
        let pieces = min(threadCount, count)
        claimPieces(pieces) { piece in body(Self.share(of: count, participant: piece, participants: pieces)) }
    }

    /// Runs `body(piece)` once for every piece in `0..<pieces`, each claimed by whichever
    /// participant comes for it first, and returns when every piece is done.
    public func claimPieces(_ pieces: Int, _ body: (_ piece: Int) -> Void) {
        precondition(pieces <= Self.maxPieces, "a job has at most \(Self.maxPieces) pieces")
        if pieces <= 0 { return }
        if threadCount == 1 || pieces == 1 {
            for piece in 0..<pieces { body(piece) }
            return
        }
        let wasRunning = running.exchange(true, ordering: .acquiring)
        precondition(!wasRunning, "ThreadPool jobs are not reentrant")
        withoutActuallyEscaping(body) { escapable in
            job = escapable
            remaining.store(pieces, ordering: .sequentiallyConsistent)
            let current = generation.load(ordering: .relaxed) + 1
            ticket.store((current & Self.generationMask) << (2 * Self.pieceBits) | pieces << Self.pieceBits,
                         ordering: .sequentiallyConsistent)
            generation.store(current, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(mutex)
            }
            work(asCaller: true, generation: current)
            if measuresCallerWait {
                let start = monotonicNanoseconds()
                waitForPieces()
                callerWait.add(monotonicNanoseconds() - start, ordering: .relaxed)
            } else {
                waitForPieces()
            }
            job = nil
        }
        running.store(false, ordering: .releasing)
    }

    /// The contiguous share of `0..<count` that a participant takes when work is split evenly.
    public static func share(of count: Int, participant: Int, participants: Int) -> Range<Int> {
        let base = count / participants, extra = count % participants
        let begin = participant * base + min(participant, extra)
        return begin..<(begin + base + (participant < extra ? 1 : 0))
    }

    /// Claims and runs pieces of job `generation` until it has none left (or is over).
    private func work(asCaller: Bool, generation: Int) {
        while true {
            let claimed = ticket.load(ordering: .sequentiallyConsistent)
            let piece = claimed & Self.pieceMask, pieces = (claimed >> Self.pieceBits) & Self.pieceMask
            guard claimed >> (2 * Self.pieceBits) == generation & Self.generationMask, piece < pieces else { return }
            guard ticket.compareExchange(expected: claimed, desired: claimed + 1,
                                         ordering: .sequentiallyConsistent).exchanged else { continue }
            // The claim holds the job open: its body stays valid until this piece is counted.
            perform(piece: piece)
            if remaining.subtract(1, ordering: .sequentiallyConsistent).newValue == 0
                && !asCaller && callerWaiting.load(ordering: .sequentiallyConsistent) {
                pthread_mutex_lock(mutex)
                pthread_cond_signal(done)
                pthread_mutex_unlock(mutex)
            }
        }
    }

    private func waitForPieces() {
        var spins = 0
        while remaining.load(ordering: .sequentiallyConsistent) != 0 {
            if spins < Self.spinLimit {
                elutq_cpu_relax()
                spins += 1
                continue
            }
            pthread_mutex_lock(mutex)
            callerWaiting.store(true, ordering: .sequentiallyConsistent)
            while remaining.load(ordering: .sequentiallyConsistent) != 0 {
                pthread_cond_wait(done, mutex)
            }
            callerWaiting.store(false, ordering: .sequentiallyConsistent)
            pthread_mutex_unlock(mutex)
        }
    }

    private func workerLoop() {
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
            work(asCaller: false, generation: current)
        }
    }

    /// Kept out of line so the worker's reference to the job is released before the piece is
    /// counted as done, which `withoutActuallyEscaping` in `claimPieces` checks.
    @inline(never)
    private func perform(piece: Int) {
        job!(piece)
    }
}

/// What a new worker thread needs, passed through pthread_create's context pointer.
/// The pool reference is unowned(unsafe): the pool's deinit joins every worker before it is freed.
private final class WorkerStart {
    unowned(unsafe) let pool: ThreadPool
    init(pool: ThreadPool) {
        self.pool = pool
    }
}
