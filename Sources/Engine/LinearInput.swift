import CLUTKernels
import Parallel

/// A batch of input vectors for linear layers, with LUT tables built at most once per group size
/// and the int16 copy for q8 matrices built at most once.
///
/// The transformer writes the normalised activations into `values`, calls `invalidate`, and then
/// every matrix that reads them (q, k, v; gate, up) reuses the same tables.
public final class LinearInput: @unchecked Sendable {
    public let cols: Int
    /// Vectors the buffer can hold.
    public let capacity: Int
    /// [capacity][cols]
    public let values: UnsafeMutablePointer<Float>
    /// Vectors in use.
    public private(set) var count = 0
    private struct TableKind: Hashable {
        var groupSize: Int
        var precision: TablePrecision
    }
    private var tablesByKind: [TableKind: ActivationTables] = [:]
    private var fresh: Set<TableKind> = []
    /// [capacity][cols], allocated on first use by a q8 matrix.
    private var int16Values: UnsafeMutablePointer<Int16>?
    /// [capacity], one scale per vector.
    private var int16Scales: UnsafeMutablePointer<Float>?
    private var int16Fresh = false

    public init(cols: Int, capacity: Int) {
        self.cols = cols
        self.capacity = max(1, capacity)
        values = .allocate(capacity: self.capacity * cols)
        values.initialize(repeating: 0, count: self.capacity * cols)
    }

    deinit {
        values.deallocate()
        int16Values?.deallocate()
        int16Scales?.deallocate()
    }

    /// Declares that `values` now holds `count` new vectors, so tables must be rebuilt.
    public func invalidate(count: Int) {
        precondition(count <= capacity, "\(count) vectors exceed the input capacity \(capacity)")
        self.count = count
        fresh.removeAll(keepingCapacity: true)
        int16Fresh = false
    }

    /// Tables for the current vectors at `groupSize` and `precision`, built on `isa` on first use
    /// after `invalidate` (and reused by products on any path: every path builds the same bytes).
    public func tables(groupSize: Int, precision: TablePrecision, isa: KernelISA, pool: ThreadPool) -> ActivationTables {
        let kind = TableKind(groupSize: groupSize, precision: precision)
        let tables = tablesByKind[kind] ?? {
            let made = ActivationTables(cols: cols, groupSize: groupSize, capacity: capacity, precision: precision)
            tablesByKind[kind] = made
            return made
        }()
        if !fresh.contains(kind) {
            tables.build(values, count: count, stride: cols, isa: isa, pool: pool)
            fresh.insert(kind)
        }
        return tables
    }

    /// The current vectors quantized to int16 with one scale each (`elutq_quantize_int16`), built on
    /// first use after `invalidate`: q8 matrices multiply them with integer dot products.
    public func int16() -> (values: UnsafePointer<Int16>, scales: UnsafePointer<Float>) {
        let values = int16Values ?? {
            let made = UnsafeMutablePointer<Int16>.allocate(capacity: capacity * cols)
            int16Values = made
            return made
        }()
        let scales = int16Scales ?? {
            let made = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
            int16Scales = made
            return made
        }()
        if !int16Fresh {
            elutq_quantize_int16(self.values, Int64(cols), Int32(cols), Int32(count), values, scales)
            int16Fresh = true
        }
        return (UnsafePointer(values), UnsafePointer(scales))
    }
}
