import CLUTKernels
import Parallel

/// How finely the activation tables hold each partial sum.
public enum TablePrecision: String, Sendable, CaseIterable {
    /// A second byte per entry, about 15 bits: the same perplexity as exact float dequantization
    /// even on a destroyed model. On AVX-512, 2-bit decode, bound by reading the weights, does not
    /// notice the second lookup; 4-bit decode on one thread does (about 20%), prefill does (20-40%),
    /// and on AVX2, where the kernel rather than memory bounds decode, it is about 1.45x slower.
    case precise
    /// One byte per entry, about 8 bits, as int8 activations: within 0.2% of exact float on the
    /// usable models measured (0.5% tested), with the faster prefill, and the faster decode where
    /// the kernel rather than memory is the limit (AVX2). The command line's and the agent's default.
    case int8
    /// int8 tables for a batch of several vectors (prefill) and precise ones for a single vector
    /// (decode): prefill at int8 speed, each generated token's own products with precise tables.
    case mixed

    /// The tables a batch of `count` vectors is built with: `mixed` resolved, the others as they are.
    public func forBatch(of count: Int) -> TablePrecision {
        self == .mixed ? (count > 1 ? .int8 : .precise) : self
    }
}

/// Lookup tables for a batch of input vectors: built once per vector, shared by every matrix that reads it.
///
/// q, k and v read the same normalised input, as do gate and up, so one build serves several products.
public final class ActivationTables: @unchecked Sendable {
    public let cols: Int
    public let groupSize: Int
    /// Vectors the buffers can hold.
    public let capacity: Int
    /// Vectors built by the last `build`.
    public private(set) var count = 0
    private let paddedCols: Int
    private let groups: Int
    /// [capacity][Kp / 4][16]
    private let tables: UnsafeMutablePointer<UInt8>
    /// [capacity][Kp / 4]: each slice's power-of-two multiplier.
    private let multipliers: UnsafeMutablePointer<UInt8>
    /// [capacity][groups]
    private let scales: UnsafeMutablePointer<Float>
    /// [capacity][groups]
    private let offsets: UnsafeMutablePointer<Int32>
    /// [capacity][groups]
    private let sums: UnsafeMutablePointer<Float>
    /// [capacity][Kp / 4][16]: the precise tables' second bytes, or nil for plain int8 tables.
    private let residuals: UnsafeMutablePointer<UInt8>?

    /// With `precision: .precise`, every entry gets a second byte for what int8 rounds away (lut_kernels.h).
    public init(cols: Int, groupSize: Int, capacity: Int = 1, precision: TablePrecision = .precise) {
        precondition(precision != .mixed, "tables are built precise or int8; resolve mixed with forBatch(of:)")
        self.cols = cols
        self.groupSize = groupSize
        self.capacity = max(1, capacity)
        paddedCols = Int(elutq_padded_cols(Int32(cols)))
        groups = Int(elutq_group_count(Int32(cols), Int32(groupSize)))
        tables = .allocate(capacity: self.capacity * paddedCols * 4)
        multipliers = .allocate(capacity: self.capacity * paddedCols / 4)
        scales = .allocate(capacity: self.capacity * groups)
        offsets = .allocate(capacity: self.capacity * groups)
        sums = .allocate(capacity: self.capacity * groups)
        residuals = precision == .precise ? .allocate(capacity: self.capacity * paddedCols * 4) : nil
    }

    deinit {
        tables.deallocate()
        multipliers.deallocate()
        scales.deallocate()
        offsets.deallocate()
        sums.deallocate()
        residuals?.deallocate()
    }

    /// Builds tables for `count` vectors at `x + v * stride`, each `cols` long. A batch is split
    /// across the pool by (vector, group), evenly whatever the count; a single vector, as in
    /// decoding, is built on the calling thread, because a fork-join costs more than the build
    /// (measured: 2 threads took 0.51 ms of a decode step where one took 0.29). Every path builds
    /// the same bytes, so tables built on one serve products on any.
    public func build(_ x: UnsafePointer<Float>, count: Int, stride: Int, isa: KernelISA = .best, pool: ThreadPool? = nil) {
        precondition(count <= capacity, "batch of \(count) exceeds table capacity \(capacity)")
        precondition(isa.isSupported, "this CPU cannot run the \(isa.name) kernels")
        self.count = count
        // Groups [first, first + n) of vector v.
        let buildGroups = { (v: Int, first: Int, n: Int) in
            let out = elutq_table_output(
                tables: self.tables + v * self.paddedCols * 4, multipliers: self.multipliers + v * self.paddedCols / 4,
                scales: self.scales + v * self.groups, offsets: self.offsets + v * self.groups, sums: self.sums + v * self.groups,
                residuals: self.residuals.map { $0 + v * self.paddedCols * 4 })
            elutq_build_tables(isa.kernelValue, x + v * stride, Int32(self.cols), Int32(self.groupSize),
                               Int32(first), Int32(first + n), out)
        }
        // Items are (vector, group) pairs in order; a range of them covers whole and partial vectors.
        let build = { (items: Range<Int>) in
            var item = items.lowerBound
            while item < items.upperBound {
                let v = item / self.groups, first = item % self.groups
                let n = min(self.groups - first, items.upperBound - item)
                buildGroups(v, first, n)
                item += n
            }
        }
        if let pool, count > 1 {
            pool.parallelFor(count * groups, build)
        } else {
            build(0..<(count * groups))
        }
    }

    /// The kernels' descriptor of the built batch.
    var descriptor: elutq_lut_tables {
        elutq_lut_tables(tables: tables, multipliers: multipliers, scales: scales, offsets: offsets, sums: sums,
                         residuals: residuals,
                         count: Int32(count), cols: Int32(cols), group_size: Int32(groupSize))
    }
}
