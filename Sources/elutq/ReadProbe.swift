import CLUTKernels
import Glibc
import Parallel

/// The read bandwidth of this machine: passes with wide loads over a buffer larger than the caches,
/// one share of it per thread of the pool.
///
/// This VM's bandwidth drifts by a third within seconds, so a kernel's share of it is measured in
/// rounds: a probe pass, then the kernel, then the next pass, and the share is the median of the
/// rounds' shares (`bench-kernel`, `bench --read-probe`), never a kernel time against a probe taken
/// at another moment.
final class ReadProbe {
    private let buffer: UnsafeMutableRawPointer
    private let pool: ThreadPool
    /// Bytes each thread reads, a whole number of the probe's 256-byte steps.
    private let chunk: Int

    init(bytes: Int, pool: ThreadPool) {
        buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        memset(buffer, 1, bytes)
        self.pool = pool
        chunk = bytes / pool.threadCount / 256 * 256
    }

    deinit { buffer.deallocate() }

    /// Bytes a second of the best of `passes` passes over the buffer. The probe's result is not
    /// needed: the call goes to C, which the optimiser cannot see into, and the C function folds
    /// every load into what it returns, so no read is dropped.
    func bestRate(of passes: Int) -> Double {
        var best = 0.0
        for _ in 0..<max(1, passes) {
            let start = monotonicSeconds()
            pool.run { participant in _ = elutq_read_probe(self.buffer + participant * self.chunk, self.chunk) }
            best = max(best, Double(chunk * pool.threadCount) / (monotonicSeconds() - start))
        }
        return best
    }
}
