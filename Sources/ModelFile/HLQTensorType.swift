import CLUTKernels

/// How a tensor's values are stored in a `.hlq` file.
///
/// Each type stores one or two parts, each starting on a 64-byte boundary of the file, so
/// every part can be handed to a kernel in place:
///
/// - `f32`, `f16`: the values, row after row.
/// - `q8`: int8 rows, then one f32 scale per row (`w = scale[r] * q[r][c]`).
/// - `hlq`: the kernels' packed bit planes, then their half-float scales and midpoints,
///   exactly as `lut_kernels.h` lays them out.
public enum HLQTensorType: Sendable, Hashable, CustomStringConvertible {
    case f32
    case f16
    /// int8 rows with one f32 scale per row.
    case q8
    /// HLQ bit planes (`bits` of them, 1 to 4) in groups of `groupSize` columns.
    case hlq(bits: Int, groupSize: Int)

    /// The type's name in the file: `f32`, `f16`, `q8` or `hlq`.
    public var kind: String {
        switch self {
        case .f32: "f32"
        case .f16: "f16"
        case .q8: "q8"
        case .hlq: "hlq"
        }
    }

    public var description: String {
        if case let .hlq(bits, groupSize) = self { return "hlq(bits: \(bits), groupSize: \(groupSize))" }
        return kind
    }

    /// The largest dimension any type accepts, which keeps the kernels' Int32 size formulas
    /// (`rows + 31`, `cols + group_size`) far from overflow.
    static let maxDimension = 1 << 30
    /// The most elements a tensor may have: far beyond any model, and small enough that no
    /// byte count computed from it can overflow.
    static let maxElements = 1 << 48

    /// What is wrong with storing a tensor of `shape` (`[cols, rows, ...]`) as this type, or nil if nothing is.
    ///
    /// Checked before `partSizes(shape:)`, whose arithmetic relies on it.
    func problem(with shape: [Int]) -> String? {
        switch self {
        case .f32, .f16:
            guard (1...4).contains(shape.count) else { return "\(self) tensors have 1 to 4 dimensions, not \(shape.count)" }
        case .q8, .hlq:
            guard shape.count == 2 else { return "\(self) tensors are matrices [cols, rows], but the shape is \(shape)" }
        }
        guard shape.allSatisfy({ (0...Self.maxDimension).contains($0) }) else {
            return "shape \(shape) has a dimension outside 0...\(Self.maxDimension)"
        }
        var elements = 1
        for dimension in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= Self.maxElements else { return "shape \(shape) has more than 2^48 elements" }
            elements = product
        }
        if case let .hlq(bits, groupSize) = self {
            guard (1...4).contains(bits) else { return "hlq takes 1 to 4 bits, not \(bits)" }
            guard (32...1024).contains(groupSize), groupSize % 32 == 0 else {
                return "hlq group size must be a multiple of 32 from 32 to 1024, not \(groupSize)"
            }
        }
        return nil
    }

    /// What each part holds, in order, for error messages.
    var partNames: [String] {
        switch self {
        case .f32: ["f32 values"]
        case .f16: ["f16 values"]
        case .q8: ["int8 rows", "f32 row scales"]
        case .hlq: ["packed bits", "half-float params"]
        }
    }

    /// Byte counts of the parts of a tensor of `shape`, which `problem(with:)` has accepted.
    func partSizes(shape: [Int]) -> [Int] {
        let elements = shape.reduce(1, *)
        switch self {
        case .f32:
            return [4 * elements]
        case .f16:
            return [2 * elements]
        case .q8:
            return [elements, 4 * shape[1]]
        case let .hlq(bits, groupSize):
            let (cols, rows) = (Int32(shape[0]), Int32(shape[1]))
            return [Int(elutq_bits_bytes(rows, cols, Int32(bits))),
                    2 * Int(elutq_params_count(rows, cols, Int32(bits), Int32(groupSize)))]
        }
    }

    /// Bytes a tensor of `shape` stores, all parts, without alignment: what its bits per weight count.
    public func byteCount(shape: [Int]) -> Int { partSizes(shape: shape).reduce(0, +) }

    /// Where each part starts within the tensor, and the tensor's total size: parts in order,
    /// each rounded up to the alignment, the last one unpadded.
    static func layout(ofParts sizes: [Int]) -> (offsets: [Int], byteCount: Int) {
        var offsets: [Int] = []
        var end = 0
        for size in sizes {
            let start = roundUp(end, to: HLQFileHeader.alignment)
            offsets.append(start)
            end = start + size
        }
        return (offsets, end)
    }
}

/// `value` rounded up to a multiple of `alignment`, a power of two.
func roundUp(_ value: Int, to alignment: Int) -> Int {
    (value + alignment - 1) & ~(alignment - 1)
}

extension HLQTensorType: Codable {
    /// Stored as `{"kind": "f32"}`, or `{"kind": "hlq", "bits": 2, "groupSize": 128}`.
    private enum CodingKeys: String, CodingKey {
        case kind, bits, groupSize
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try container.decode(String.self, forKey: .kind)
        switch kind {
        case "f32": self = .f32
        case "f16": self = .f16
        case "q8": self = .q8
        case "hlq":
            self = .hlq(bits: try container.decode(Int.self, forKey: .bits),
                        groupSize: try container.decode(Int.self, forKey: .groupSize))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: container,
                debugDescription: "unknown tensor kind '\(kind)'; this build reads f32, f16, q8 and hlq")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        if case let .hlq(bits, groupSize) = self {
            try container.encode(bits, forKey: .bits)
            try container.encode(groupSize, forKey: .groupSize)
        }
    }
}
