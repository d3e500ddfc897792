import CLUTKernels
import Parallel

/// Products of packed HLQ matrices with activation tables: GEMV for one vector, GEMM for a batch.
///
/// One pass over the weights serves every vector of a batch: the kernels keep a group's bit planes
/// in L1 while they look up each vector's tables, so prefill reads the weights once, not once per token.
public enum LUTMatmul {
    /// y[v * ldy + row] = (A x_v)[row] for every vector built into `x`; threads split 32-row blocks.
    public static func multiply(_ a: LUTMatrix, _ x: ActivationTables, into y: UnsafeMutablePointer<Float>,
                                ldy: Int, pool: ThreadPool) {
        precondition(a.cols == x.cols && a.groupSize == x.groupSize, "tables were built for another shape")
        pool.parallelFor(a.rowBlocks) { blocks in multiply(a, x, blocks: blocks, into: y, ldy: ldy) }
    }

    /// The same for the 32-row blocks `blocks` only, on the calling thread.
    public static func multiply(_ a: LUTMatrix, _ x: ActivationTables, blocks: Range<Int>,
                                into y: UnsafeMutablePointer<Float>, ldy: Int) {
        var matrix = a.descriptor
        var tables = x.descriptor
        elutq_lut_matmul(&matrix, &tables, y, Int64(ldy), Int32(blocks.lowerBound), Int32(blocks.upperBound))
    }
}

/// The instruction-set path the kernels use, chosen once from the CPU's features.
public enum KernelISA: Int32, CaseIterable, Sendable {
    case scalar = 0, avx2 = 1, avx512vbmi = 2, neon = 3

    public static var active: KernelISA { KernelISA(rawValue: Int32(elutq_active_isa().rawValue))! }
    public var isSupported: Bool { elutq_isa_supported(elutq_isa(rawValue: UInt32(rawValue))) != 0 }
    public var name: String { String(cString: elutq_isa_name(elutq_isa(rawValue: UInt32(rawValue)))) }
    /// Makes every later kernel call use this path; false if the CPU cannot run it.
    @discardableResult
    public func force() -> Bool { elutq_force_isa(elutq_isa(rawValue: UInt32(rawValue))) != 0 }
}
