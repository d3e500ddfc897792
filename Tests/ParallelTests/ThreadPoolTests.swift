import Foundation
import NIOConcurrencyHelpers
import Parallel
import Synchronization
import Testing

/// The fork-join pool: every index runs exactly once, and claimed pieces flow away from a stalled participant.
@Suite struct ThreadPoolTests {
    /// Counts how often each index was visited, from any thread.
    final class Visits: Sendable {
        let counts: NIOLockedValueBox<[Int]>
        init(_ count: Int) { counts = NIOLockedValueBox(Array(repeating: 0, count: count)) }
        func visit(_ i: Int) { counts.withLockedValue { $0[i] += 1 } }
        var all: [Int] { counts.withLockedValue { $0 } }
    }

    @Test(arguments: [1, 2, 3])
    func parallelForVisitsEveryIndexOnce(threads: Int) {
        let pool = ThreadPool(threadCount: threads)
        for count in [0, 1, 2, 7, 8, 9, 100, 1031] {
            let visits = Visits(count)
            pool.parallelFor(count) { range in range.forEach(visits.visit) }
            #expect(visits.all == Array(repeating: 1, count: count), "count \(count)")
        }
    }

    /// Many short jobs of different sizes back to back, as a decode step makes them: a worker that
    /// arrives late to a finished job must never run a piece of it, or of the next one, twice.
    @Test func backToBackJobsRunEachPieceOnce() {
        let pool = ThreadPool(threadCount: 2)
        for job in 0..<20_000 {
            let pieces = 1 + job % 5
            let visits = Visits(pieces)
            pool.claimPieces(pieces, visits.visit)
            if visits.all != Array(repeating: 1, count: pieces) {
                Issue.record("job \(job): pieces ran \(visits.all) times")
                return
            }
        }
    }

    @Test func runGivesEveryParticipantOneCall() {
        let pool = ThreadPool(threadCount: 3)
        let visits = Visits(3)
        for _ in 0..<1000 { pool.run(visits.visit) }
        #expect(visits.all == [1000, 1000, 1000])
    }

    /// The worker sleeps in its first piece, as when the host takes its core away; the caller, which
    /// waits until then, must take every remaining piece instead of leaving a fixed half to it.
    @Test func piecesFlowAwayFromAStalledParticipant() {
        let pool = ThreadPool(threadCount: 2)
        let pieces = 64
        let owner = Visits(pieces * 2)  // owner.counts[piece * 2 + participant], the caller being 0
        let stalled = Atomic<Bool>(false)
        let caller = pthread_self()
        pool.claimPieces(pieces) { piece in
            let participant = pthread_equal(pthread_self(), caller) != 0 ? 0 : 1
            owner.visit(piece * 2 + participant)
            if participant == 1 && !stalled.exchange(true, ordering: .relaxed) { usleep(200_000) }
            while participant == 0 && !stalled.load(ordering: .relaxed) { sched_yield() }
        }
        let counts = owner.all
        let byParticipant = (0..<2).map { p in stride(from: p, to: counts.count, by: 2).reduce(0) { $0 + counts[$1] } }
        #expect(byParticipant[0] + byParticipant[1] == pieces)
        #expect((0..<pieces).allSatisfy { counts[$0 * 2] + counts[$0 * 2 + 1] == 1 })
        #expect(byParticipant[1] == 1, "the stalled participant ran \(byParticipant[1]) pieces")
    }

    @Test func claimPiecesWithOneThreadRunsInOrderOnTheCaller() {
        let pool = ThreadPool(threadCount: 1)
        let caller = pthread_self()
        var order: [Int] = []
        pool.claimPieces(5) { piece in
            #expect(pthread_equal(pthread_self(), caller) != 0)
            order.append(piece)
        }
        #expect(order == [0, 1, 2, 3, 4])
    }
}
