import CLUTKernels
import Parallel

/// A weight matrix in any stored precision, multiplied the same way by the transformer.
///
/// Rows are outputs. The memory belongs to a mapped model file or to whoever built the view.
public enum LinearWeight: @unchecked Sendable {
    /// Packed HLQ bit planes, run on the LUT kernels. One pass over the weights serves every vector
    /// of a batch, so prefill reads them once, not once per token.
    case lut(LUTMatrix)
    /// Float32 rows, the reference path.
    case f32(UnsafePointer<Float>, rows: Int, cols: Int)
    /// Half-float rows (raw IEEE bits).
    case f16(UnsafePointer<UInt16>, rows: Int, cols: Int)
    /// int8 rows with one float scale each.
    case q8(UnsafePointer<Int8>, scales: UnsafePointer<Float>, rows: Int, cols: Int)

    public var rows: Int {
        switch self {
        case .lut(let m): m.rows
        case .f32(_, let rows, _), .f16(_, let rows, _), .q8(_, _, let rows, _): rows
        }
    }

    public var cols: Int {
        switch self {
        case .lut(let m): m.cols
        case .f32(_, _, let cols), .f16(_, _, let cols), .q8(_, _, _, let cols): cols
        }
    }

    /// Bytes one product reads from the matrix: what decode, bound by memory bandwidth, streams.
    public var streamedBytes: Int {
        switch self {
        case .lut(let m): m.packedBytes
        case .f32(_, let rows, let cols): rows * cols * 4
        case .f16(_, let rows, let cols): rows * cols * 2
        case .q8(_, _, let rows, let cols): rows * cols + rows * 4
        }
    }

    /// y[v * ldy + row] = (W x_v)[row] for every vector of `input`, on the kernels' path `isa`;
    /// threads split rows.
    public func multiply(_ input: LinearInput, into y: UnsafeMutablePointer<Float>, ldy: Int, pool: ThreadPool,
                         isa: KernelISA = .best, profile: StepProfile? = nil, as work: StepProfile.Work? = nil) {
        Self.multiply([(self, y, ldy)], input: input, pool: pool, isa: isa, profile: profile, as: work)
    }

    /// Several products of the same input (q, k and v; gate and up) in one parallel region, so a
    /// decode step pays one fork-join for them instead of one each.
    /// With a `profile`, the tables' time goes to `.tables` and the products' to `work` (by
    /// default LUT or dense products, by the first matrix's kind).
    public static func multiply(_ products: [(weight: LinearWeight, y: UnsafeMutablePointer<Float>, ldy: Int)],
                                input: LinearInput, pool: ThreadPool, isa: KernelISA = .best,
                                profile: StepProfile? = nil, as work: StepProfile.Work? = nil) {
        precondition(isa.isSupported, "this CPU cannot run the \(isa.name) kernels")
        // The input is prepared (tables, int16 copy) before the region: building tables is itself
        // split across the pool.
        let prepared = StepProfile.measure(profile, .tables) {
            products.map { product -> PreparedInput in
                precondition(input.cols == product.weight.cols, "input has \(input.cols) columns, the matrix \(product.weight.cols)")
                return product.weight.prepare(input, isa: isa, pool: pool)
            }
        }
        let kind: StepProfile.Work = if case .lut = products.first?.weight { .lutProducts } else { .denseProducts }
        StepProfile.measure(profile, work ?? kind) { runProducts(products, prepared: prepared, input: input, pool: pool, isa: isa) }
    }

    /// The products' parallel region, their inputs prepared.
    private static func runProducts(_ products: [(weight: LinearWeight, y: UnsafeMutablePointer<Float>, ldy: Int)],
                                prepared: [PreparedInput], input: LinearInput, pool: ThreadPool, isa: KernelISA) {
        // One piece per product and participant: each product's work units split evenly, the
        // pieces claimed by whichever participant comes first (a held-up one loses its pieces).
        let participants = pool.threadCount
        pool.claimPieces(products.count * participants) { piece in
            let product = products[piece / participants], prepared = prepared[piece / participants]
            let units = ThreadPool.share(of: product.weight.workUnits, participant: piece % participants, participants: participants)
            if !units.isEmpty {
                product.weight.compute(units, input: input, prepared: prepared, isa: isa, into: product.y, ldy: product.ldy)
            }
        }
    }

    /// What a matrix reads besides the float input: LUT tables for HLQ, the int16 copy for q8.
    enum PreparedInput {
        case floats
        case tables(ActivationTables)
        case int16(values: UnsafePointer<Int16>, scales: UnsafePointer<Float>)
    }

    func prepare(_ input: LinearInput, isa: KernelISA, pool: ThreadPool) -> PreparedInput {
        switch self {
        case .lut(let matrix):
            let precision = matrix.tablePrecision.forBatch(of: input.count)
            return .tables(input.tables(groupSize: matrix.groupSize, precision: precision, isa: isa, pool: pool))
        case .q8:
            let (values, scales) = input.int16()
            return .int16(values: values, scales: scales)
        case .f32, .f16: return .floats
        }
    }

    /// The pieces threads split: 32-row blocks for the LUT kernels, 4-row quads (the register block)
    /// for the dense ones.
    var workUnits: Int {
        switch self {
        case .lut(let m): m.rowBlocks
        default: (rows + 3) / 4
        }
    }

    /// The output rows of work units `units`, for every vector of `input`.
    private func compute(_ units: Range<Int>, input: LinearInput, prepared: PreparedInput, isa: KernelISA,
                         into y: UnsafeMutablePointer<Float>, ldy: Int) {
        let count = Int32(input.count)
        let firstRow = Int32(units.lowerBound * 4), endRow = Int32(min(rows, units.upperBound * 4))
        switch (self, prepared) {
        case (.lut(let matrix), .tables(let tables)):
            var a = matrix.descriptor, x = tables.descriptor
            elutq_lut_matmul(isa.kernelValue, &a, &x, y, Int64(ldy), Int32(units.lowerBound), Int32(units.upperBound))
        case (.f32(let w, _, let cols), .floats):
            elutq_f32_gemm(w, Int32(cols), input.values, Int64(cols), count, y, Int64(ldy), firstRow, endRow)
        case (.f16(let w, _, let cols), .floats):
            elutq_f16_gemm(w, Int32(cols), input.values, Int64(cols), count, y, Int64(ldy), firstRow, endRow)
        case (.q8(let w, let scales, _, let cols), .int16(let values, let valueScales)):
            elutq_q8_gemm(isa.kernelValue, w, scales, Int32(cols), values, valueScales, Int64(cols), count, y, Int64(ldy), firstRow, endRow)
        default:
            preconditionFailure("the input was prepared for another kind of matrix")
        }
    }
}
