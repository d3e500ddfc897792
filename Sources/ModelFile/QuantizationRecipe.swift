import Foundation

/// How a model's weights were quantized: the defaults, the exceptions, and what it cost in bits.
public struct QuantizationRecipe: Codable, Sendable, Equatable {
    /// How group grids were fitted. The raw values are those of HLQ's `QuantizationMethod`,
    /// which this module cannot import: model files know nothing of the fitting code.
    public enum Method: String, Codable, Sendable {
        case hlq
        case uniform
    }

    public var method: Method
    /// Bit planes of every linear layer without an override.
    public var bits: Int
    /// Columns per group of every linear layer without an override.
    public var groupSize: Int
    /// Exceptions by tensor class, a `LinearLayer` raw value such as `attn_v` or `ffn_down`, or by
    /// one block's layer such as `blk.0.ffn_down` (which wins over its class): the type those
    /// matrices are stored as instead of `.hlq(bits, groupSize)`.
    public var overrides: [String: HLQTensorType]
    /// How the token embeddings are stored: f32, f16 or q8.
    public var embedding: HLQTensorType
    /// How the output head is stored, or nil when it is tied to the embeddings.
    public var output: HLQTensorType?
    /// The calibration data of a data-aware fit, in words; nil for a data-free one.
    public var calibration: String?
    /// Stored bits per weight over all linear matrices, scales and midpoints included.
    public var averageBitsPerWeight: Double
    /// How the scales and midpoints were finetuned after quantization, in words; nil if they were not.
    public var finetuning: String?

    public init(method: Method, bits: Int, groupSize: Int, overrides: [String: HLQTensorType] = [:],
                embedding: HLQTensorType, output: HLQTensorType?, calibration: String? = nil,
                averageBitsPerWeight: Double) {
        self.method = method
        self.bits = bits
        self.groupSize = groupSize
        self.overrides = overrides
        self.embedding = embedding
        self.output = output
        self.calibration = calibration
        self.averageBitsPerWeight = averageBitsPerWeight
    }
}

extension QuantizationRecipe {
    /// One line for status messages and listings, e.g. `hlq 2-bit g128, attn_v=hlq(bits: 4, groupSize: 128), embedding q8, 2.41 bpw`.
    public var summary: String {
        var parts = ["\(method.rawValue) \(bits)-bit g\(groupSize)"]
        parts += overrides.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        parts.append("embedding \(embedding)")
        if let output { parts.append("output \(output)") }
        if let calibration { parts.append("calibrated on \(calibration)") }
        if let finetuning { parts.append("finetuned: \(finetuning)") }
        parts.append(String(format: "%.2f bpw", averageBitsPerWeight))
        return parts.joined(separator: ", ")
    }
}
