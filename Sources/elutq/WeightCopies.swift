import Engine
import HLQ
import Parallel

/// Copies of one matrix, laid out back to back and cycled, so each timed product streams its
/// weights from DRAM as decode does, however large the caches.
final class WeightCopies {
    private let storage: UnsafeMutableRawPointer
    private let copies: [LinearWeight]
    let rows: Int
    let cols: Int
    /// Bytes one product reads.
    let matrixBytes: Int

    /// A packed HLQ matrix, multiplied with `precision` tables.
    convenience init(_ packed: PackedMatrix, precision: TablePrecision, minimumBytes: Int) {
        self.init(parts: [packed.bits, packed.params.withUnsafeBytes { Array($0) }],
                  rows: packed.rows, cols: packed.cols, minimumBytes: minimumBytes) { parts in
            var matrix = LUTMatrix(bits: parts[0], params: parts[1], rows: packed.rows, cols: packed.cols,
                                   planes: packed.planes, groupSize: packed.groupSize)
            matrix.tablePrecision = precision
            return .lut(matrix)
        }
    }

    /// Float32 rows: the baseline the LUT kernels are held against.
    convenience init(float32 weights: [Float], rows: Int, cols: Int, minimumBytes: Int) {
        self.init(parts: [weights.withUnsafeBytes { Array($0) }], rows: rows, cols: cols, minimumBytes: minimumBytes) { parts in
            .f32(parts[0].assumingMemoryBound(to: Float.self), rows: rows, cols: cols)
        }
    }

    /// q8 rows with one scale each: the kernel of q8 output heads.
    convenience init(q8 weights: [Float], rows: Int, cols: Int, minimumBytes: Int) {
        let (values, scales) = weights.withUnsafeBufferPointer { RowQuantizer.q8($0, rows: rows, cols: cols) }
        self.init(parts: [values.withUnsafeBytes { Array($0) }, scales.withUnsafeBytes { Array($0) }],
                  rows: rows, cols: cols, minimumBytes: minimumBytes) { parts in
            .q8(parts[0].assumingMemoryBound(to: Int8.self), scales: parts[1].assumingMemoryBound(to: Float.self),
                rows: rows, cols: cols)
        }
    }

    /// Copies of the arrays `parts`, each 64-byte aligned as in a model file, `minimumBytes` at least
    /// in all; `weight` makes the matrix from one copy's part addresses.
    private init(parts: [[UInt8]], rows: Int, cols: Int, minimumBytes: Int, weight: ([UnsafeRawPointer]) -> LinearWeight) {
        let sizes = parts.map { ($0.count + 63) / 64 * 64 }
        let stride = sizes.reduce(0, +)
        let count = max(2, (minimumBytes + stride - 1) / stride)
        let storage = UnsafeMutableRawPointer.allocate(byteCount: stride * count, alignment: 64)
        copies = (0..<count).map { copy in
            var next = storage + copy * stride
            let addresses = zip(parts, sizes).map { part, size in
                defer { next += size }
                part.withUnsafeBytes { next.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                return UnsafeRawPointer(next)
            }
            return weight(addresses)
        }
        self.storage = storage
        self.rows = rows
        self.cols = cols
        matrixBytes = parts.reduce(0) { $0 + $1.count }
    }

    deinit { storage.deallocate() }

    var count: Int { copies.count }

    /// The median seconds of the product decode makes, `LinearWeight.multiply` (rows split into
    /// pieces the threads claim), of each copy in turn with the first `vectors` vectors of `x`. The
    /// warm-up call builds the input's tables or int16 copy, so the time is of the products alone.
    func medianProductSeconds(x: [Float], vectors: Int, repetitions: Int, pool: ThreadPool) -> Double {
        let input = LinearInput(cols: cols, capacity: vectors)
        input.values.update(from: x, count: vectors * cols)
        input.invalidate(count: vectors)
        var y = [Float](repeating: 0, count: vectors * rows)
        return y.withUnsafeMutableBufferPointer { out in
            medianSeconds(repetitions: repetitions) { r in
                copies[r % copies.count].multiply(input, into: out.baseAddress!, ldy: rows, pool: pool)
            }
        }
    }
}
