/// The storage type of a GGUF tensor: a plain float type, or a ggml block-quantization format.
///
/// Quantized types store a row as consecutive fixed-size blocks, each holding `blockSize`
/// elements in `bytesPerBlock` bytes (scales first or last, then packed integers). The raw
/// values are ggml's `enum ggml_type`, which is what the file stores; gaps are types ggml removed.
///
/// Every type ggml can write is listed so that any GGUF file can be parsed and its metadata
/// read; `canDequantize` says which of them this module can turn into floats.
public enum GGMLType: UInt32, Sendable, CaseIterable {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q5_0 = 6
    case q5_1 = 7
    case q8_0 = 8
    case q8_1 = 9
    case q2_K = 10
    case q3_K = 11
    case q4_K = 12
    case q5_K = 13
    case q6_K = 14
    case q8_K = 15
    case iq2_xxs = 16
    case iq2_xs = 17
    case iq3_xxs = 18
    case iq1_s = 19
    case iq4_nl = 20
    case iq3_s = 21
    case iq2_s = 22
    case iq4_xs = 23
    case i8 = 24
    case i16 = 25
    case i32 = 26
    case i64 = 27
    case f64 = 28
    case iq1_m = 29
    case bf16 = 30
    case tq1_0 = 34
    case tq2_0 = 35
    case mxfp4 = 39

    /// Elements per block: 1 for plain types, 32 for the original quants, 256 for the k-quants
    /// ("super-blocks", whose sub-block scales are themselves quantized).
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16, .f64, .i8, .i16, .i32, .i64: 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1, .iq4_nl, .mxfp4: 32
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K, .iq2_xxs, .iq2_xs, .iq3_xxs, .iq1_s, .iq3_s, .iq2_s,
            .iq4_xs, .iq1_m, .tq1_0, .tq2_0:
            256
        }
    }

    /// Bytes one block occupies in the file (ggml's `sizeof(block_…)`).
    public var bytesPerBlock: Int {
        switch self {
        case .i8: 1
        case .f16, .bf16, .i16: 2
        case .f32, .i32: 4
        case .f64, .i64: 8
        case .q4_0, .iq4_nl: 18  // f16 scale + 32 nibbles
        case .q4_1: 20  // f16 scale + f16 min + 32 nibbles
        case .q5_0: 22  // f16 scale + 32 high bits + 32 nibbles
        case .q5_1: 24  // f16 scale + f16 min + 32 high bits + 32 nibbles
        case .q8_0: 34  // f16 scale + 32 int8
        case .q8_1: 36  // f16 scale + f16 sum + 32 int8
        case .mxfp4: 17  // e8m0 scale + 32 fp4
        case .q2_K: 84
        case .q3_K: 110
        case .q4_K: 144
        case .q5_K: 176
        case .q6_K: 210
        case .q8_K: 292  // f32 scale + 256 int8 + 16 int16 partial sums
        case .iq2_xxs: 66
        case .iq2_xs: 74
        case .iq3_xxs: 98
        case .iq1_s: 50
        case .iq3_s: 110
        case .iq2_s: 82
        case .iq4_xs: 136
        case .iq1_m: 56
        case .tq1_0: 54
        case .tq2_0: 66
        }
    }

    /// Whether `GGUFFile.dequantize` supports this type.
    public var canDequantize: Bool { dequantizer != nil }

    /// ggml's name for the type, as llama.cpp prints it: `Q4_K`, `BF16`, `IQ2_XXS`.
    public var name: String {
        // The case names are ggml's, lower-cased except for the K of the k-quants.
        String(describing: self).uppercased()
    }
}
