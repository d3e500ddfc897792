/// How a group's grid of 2^B values is chosen.
public enum QuantizationMethod: String, Sendable, CaseIterable {
    /// The ELUTQ paper's Hierarchical Linear Quantization: a free scale per bit plane and a zero,
    /// fitted by alternating nearest-pattern assignment and closed-form least squares.
    case hlq
    /// Uniform asymmetric min-max rounding with an integer zero point, the baseline. It is the
    /// special case s_i = 2^i * s of the same storage, so it runs through the same kernels.
    case uniform
}
