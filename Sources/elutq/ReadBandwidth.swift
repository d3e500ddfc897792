import CLUTKernels
import Glibc
import Parallel

/// The read bandwidth of this machine: the best of several passes over a buffer larger than the caches.
enum ReadBandwidth {
    static func measure(bytes: Int, pool: ThreadPool) -> Double {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer { buffer.deallocate() }
        memset(buffer, 1, bytes)
        let chunk = bytes / pool.threadCount / 256 * 256
        var sink: UInt64 = 0
        var best = 0.0
        for _ in 0..<5 {
            let start = monotonicSeconds()
            pool.run { participant in
                let value = elutq_read_probe(buffer + participant * chunk, chunk)
                if value == 42 { sink &+= 1 }
            }
            best = max(best, Double(chunk * pool.threadCount) / (monotonicSeconds() - start))
        }
        if sink == 1 { print("") }
        return best
    }
}
