import CLUTKernels
import Engine
import Glibc
import HLQ
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

/// Copies of one packed matrix, laid out back to back, cycled so each product streams from DRAM.
final class WeightCopies {
    private let storage: UnsafeMutableRawPointer
    private let views: [LUTMatrix]
    let matrixBytes: Int

    init(_ packed: PackedMatrix, minimumBytes: Int) {
        let bitsBytes = (packed.bits.count + 63) / 64 * 64
        let paramBytes = (packed.params.count * 2 + 63) / 64 * 64
        let stride = bitsBytes + paramBytes
        let count = max(2, (minimumBytes + stride - 1) / stride)
        storage = .allocate(byteCount: stride * count, alignment: 64)
        var views: [LUTMatrix] = []
        for c in 0..<count {
            let base = storage + c * stride
            packed.bits.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            packed.params.withUnsafeBytes { (base + bitsBytes).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            views.append(LUTMatrix(bits: base, params: base + bitsBytes, rows: packed.rows, cols: packed.cols,
                                   planes: packed.planes, groupSize: packed.groupSize))
        }
        self.views = views
        matrixBytes = views[0].packedBytes
    }

    deinit { storage.deallocate() }

    var count: Int { views.count }
    subscript(index: Int) -> LUTMatrix { views[index % views.count] }
}

/// Copies of a dense matrix (float32, or q8 rows with their scales), cycled the same way, for the
/// float GEMV baseline and the q8 kernel of output heads.
struct DenseCopies {
    enum Storage { case f32, q8 }
    private enum Copies {
        case f32([[Float]])
        case q8([[Int8]], scales: [Float])
    }
    private let copies: Copies
    let rows: Int
    let cols: Int
    /// Bytes one product reads.
    let matrixBytes: Int

    init(_ weights: [Float], rows: Int, cols: Int, storage: Storage, minimumBytes: Int) {
        self.rows = rows
        self.cols = cols
        switch storage {
        case .f32:
            matrixBytes = weights.count * 4
            copies = .f32((0..<max(2, (minimumBytes + matrixBytes - 1) / matrixBytes)).map { _ in Array(weights) })
        case .q8:
            let (q8, scales) = weights.withUnsafeBufferPointer { RowQuantizer.q8($0, rows: rows, cols: cols) }
            matrixBytes = q8.count + scales.count * 4
            copies = .q8((0..<max(2, (minimumBytes + matrixBytes - 1) / matrixBytes)).map { _ in Array(q8) }, scales: scales)
        }
    }

    func time(x: [Float], repetitions: Int, pool: ThreadPool) -> Double {
        var y = [Float](repeating: 0, count: rows)
        let input = LinearInput(cols: cols, capacity: 1)
        input.values.update(from: x, count: cols)
        input.invalidate(count: 1)
        return y.withUnsafeMutableBufferPointer { out in
            medianSeconds(repetitions: repetitions) { r in
                switch copies {
                case .f32(let floats):
                    floats[r % floats.count].withUnsafeBufferPointer { w in
                        LinearWeight.f32(w.baseAddress!, rows: rows, cols: cols).multiply(input, into: out.baseAddress!, ldy: rows, pool: pool)
                    }
                case .q8(let bytes, let scales):
                    bytes[r % bytes.count].withUnsafeBufferPointer { w in
                        scales.withUnsafeBufferPointer { s in
                            LinearWeight.q8(w.baseAddress!, scales: s.baseAddress!, rows: rows, cols: cols)
                                .multiply(input, into: out.baseAddress!, ldy: rows, pool: pool)
                        }
                    }
                }
            }
        }
    }
}
