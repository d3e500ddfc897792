import CLUTKernels

/// A packed HLQ matrix used in place, as a view: its bytes belong to a mapped file or an `OwnedLUTMatrix`.
public struct LUTMatrix: @unchecked Sendable {
    /// The kernels' descriptor (pointers, shape, planes, group size).
    public let descriptor: elutq_lut_matrix
    /// The activation tables this matrix is multiplied with.
    public var tablePrecision = TablePrecision.precise

    /// A view over packed bits and half-float params laid out as `lut_kernels.h` defines.
    /// The caller keeps the memory alive and unchanged for as long as the view is used.
    public init(bits: UnsafeRawPointer, params: UnsafeRawPointer, rows: Int, cols: Int, planes: Int, groupSize: Int) {
        descriptor = elutq_lut_matrix(
            bits: bits.assumingMemoryBound(to: UInt8.self),
            params: params.assumingMemoryBound(to: UInt16.self),
            rows: Int32(rows), cols: Int32(cols), planes: Int32(planes), group_size: Int32(groupSize))
    }

    public var rows: Int { Int(descriptor.rows) }
    public var cols: Int { Int(descriptor.cols) }
    public var planes: Int { Int(descriptor.planes) }
    public var groupSize: Int { Int(descriptor.group_size) }
    /// Row blocks of 32, the unit threads split.
    public var rowBlocks: Int { (rows + 31) / 32 }
    /// Bytes the kernel streams per product: bit planes plus params.
    public var packedBytes: Int {
        Int(elutq_bits_bytes(descriptor.rows, descriptor.cols, descriptor.planes))
            + 2 * Int(elutq_params_count(descriptor.rows, descriptor.cols, descriptor.planes, descriptor.group_size))
    }
}

/// Heap storage for a packed matrix that did not come from a mapped file (tests, benchmarks, fresh quantization).
public final class OwnedLUTMatrix: @unchecked Sendable {
    private let bits: UnsafeMutableRawPointer
    private let params: UnsafeMutableRawPointer
    /// The in-place view; valid while this object lives.
    public let matrix: LUTMatrix

    /// Copies packed bit planes and half-float params (raw bits), laid out as `lut_kernels.h`
    /// defines, into 64-byte-aligned memory, the alignment a model file gives them too.
    public init(bits packedBits: [UInt8], params packedParams: [UInt16], rows: Int, cols: Int, planes: Int, groupSize: Int) {
        let bits = UnsafeMutableRawPointer.allocate(byteCount: max(packedBits.count, 1), alignment: 64)
        let params = UnsafeMutableRawPointer.allocate(byteCount: max(packedParams.count * 2, 1), alignment: 64)
        packedBits.withUnsafeBytes { bits.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        packedParams.withUnsafeBytes { params.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        self.bits = bits
        self.params = params
        matrix = LUTMatrix(bits: bits, params: params, rows: rows, cols: cols, planes: planes, groupSize: groupSize)
    }

    deinit {
        bits.deallocate()
        params.deallocate()
    }
}
