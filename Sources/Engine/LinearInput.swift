import Parallel

/// A batch of input vectors for linear layers, with LUT tables built at most once per group size.
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
    private var tablesByGroupSize: [Int: ActivationTables] = [:]
    private var fresh: Set<Int> = []

    public init(cols: Int, capacity: Int) {
        self.cols = cols
        self.capacity = max(1, capacity)
        values = .allocate(capacity: self.capacity * cols)
        values.initialize(repeating: 0, count: self.capacity * cols)
    }

    deinit { values.deallocate() }

    /// Declares that `values` now holds `count` new vectors, so tables must be rebuilt.
    public func invalidate(count: Int) {
        precondition(count <= capacity, "\(count) vectors exceed the input capacity \(capacity)")
        self.count = count
        fresh.removeAll(keepingCapacity: true)
    }

    /// Tables for the current vectors at `groupSize`, built on first use after `invalidate`.
    public func tables(groupSize: Int, pool: ThreadPool) -> ActivationTables {
        let tables = tablesByGroupSize[groupSize] ?? {
            let made = ActivationTables(cols: cols, groupSize: groupSize, capacity: capacity)
            tablesByGroupSize[groupSize] = made
            return made
        }()
        if !fresh.contains(groupSize) {
            tables.build(values, count: count, stride: cols, pool: pool)
            fresh.insert(groupSize)
        }
        return tables
    }
}
