#if _endian(big)
#error("ModelFile copies little-endian tensor data as is, so it needs a little-endian host")
#endif

/// Converts `blockCount` consecutive blocks of one storage type, starting at `source`, to
/// `blockCount × blockSize` floats at `destination`.
///
/// Blocks sit back to back with odd sizes (18, 22, 34 bytes…), so fields are generally not
/// aligned: the decoders load every multi-byte field with `loadUnaligned`, which is free on x86 and ARM.
typealias BlockDequantizer = (_ source: UnsafeRawPointer, _ blockCount: Int, _ destination: UnsafeMutablePointer<Float>) -> Void

extension GGMLType {
    /// The routine that turns this type's blocks into floats, if this module has one.
    var dequantizer: BlockDequantizer? {
        switch self {
        case .f32: Dequantize.f32
        case .f16: Dequantize.f16
        case .bf16: Dequantize.bf16
        case .q4_0: Dequantize.q4_0
        case .q4_1: Dequantize.q4_1
        case .q5_0: Dequantize.q5_0
        case .q5_1: Dequantize.q5_1
        case .q8_0: Dequantize.q8_0
        case .q2_K: Dequantize.q2_K
        case .q3_K: Dequantize.q3_K
        case .q4_K: Dequantize.q4_K
        case .q5_K: Dequantize.q5_K
        case .q6_K: Dequantize.q6_K
        default: nil
        }
    }
}

/// The block decoders, one per supported type, as pure functions of the raw bytes.
///
/// Each follows ggml's reference `dequantize_row_*` in both layout and arithmetic order
/// (scale times quant, then minus or plus the offset, all in `Float`), so results are
/// bit-identical to ggml's and to gguf-py's, which the tests check.
enum Dequantize {}

extension UnsafeRawPointer {
    /// The byte at `offset`.
    @inline(__always)
    func byte(_ offset: Int) -> UInt8 {
        load(fromByteOffset: offset, as: UInt8.self)
    }

    /// The little-endian IEEE half-precision float at `offset`, widened (exactly) to `Float`.
    @inline(__always)
    func half(_ offset: Int) -> Float {
        Float(Float16(bitPattern: UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
    }
}
