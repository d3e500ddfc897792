/// The element type of a safetensors tensor, as the header spells it.
///
/// Every whole-byte type of the format is listed, not only the float types this module converts,
/// so that a checkpoint carrying, say, an I64 buffer next to its weights still opens and has its
/// offsets checked; only reading such a tensor as floats fails. (The sub-byte F4 and F6 types
/// of recent versions pack elements across bytes and are rejected as unknown.)
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case bool = "BOOL"
    case u8 = "U8"
    case i8 = "I8"
    case f8e4m3 = "F8_E4M3"
    case f8e5m2 = "F8_E5M2"
    case f8e4m3fnuz = "F8_E4M3FNUZ"
    case f8e5m2fnuz = "F8_E5M2FNUZ"
    case f8e8m0 = "F8_E8M0"
    case u16 = "U16"
    case i16 = "I16"
    case f16 = "F16"
    case bf16 = "BF16"
    case u32 = "U32"
    case i32 = "I32"
    case f32 = "F32"
    case u64 = "U64"
    case i64 = "I64"
    case f64 = "F64"
    case c64 = "C64"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .bool, .u8, .i8, .f8e4m3, .f8e5m2, .f8e4m3fnuz, .f8e5m2fnuz, .f8e8m0: 1
        case .u16, .i16, .f16, .bf16: 2
        case .u32, .i32, .f32: 4
        case .u64, .i64, .f64, .c64: 8
        }
    }

    /// Whether `SafetensorsFile.readFloats` can convert this type (F32, F16 and BF16 can).
    public var canReadAsFloats: Bool { floatConverter != nil }

    /// The conversion to `Float`: GGUF's decoders for its plain float types, whose blocks are single elements.
    var floatConverter: BlockDequantizer? {
        switch self {
        case .f32: Dequantize.f32
        case .f16: Dequantize.f16
        case .bf16: Dequantize.bf16
        default: nil
        }
    }
}
