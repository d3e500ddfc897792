/// Settings for `GPTQ.quantize`.
public struct GPTQOptions: Sendable {
    /// Bit planes B, 1...4.
    public var planes: Int
    /// Columns per group: a multiple of 32, at most 1024.
    public var groupSize: Int
    public var method: QuantizationMethod
    /// Added to the Hessian's diagonal as a fraction of its mean (GPTQ's percdamp), so that it
    /// factors even when some inputs are nearly dependent.
    public var dampening: Double
    /// Quantize columns in order of decreasing diag(H), the inputs with the most energy first.
    public var actOrder: Bool
    /// Columns per lazy batch: within one, an error reaches the later columns' targets at once;
    /// the columns after it get the whole batch's errors in one GEMM.
    public var blockSize: Int
    /// With `.hlq`, also fit the uniform grid to each group and keep, row by row, whichever costs
    /// less: the mean-squared-optimal HLQ grid can sacrifice an outlier the layer needs.
    public var considerUniformGrid: Bool

    public init(planes: Int, groupSize: Int, method: QuantizationMethod, dampening: Double = 0.01,
                actOrder: Bool = false, blockSize: Int = 128, considerUniformGrid: Bool = true) {
        precondition((1...4).contains(planes), "planes must be 1...4")
        precondition(dampening >= 0 && blockSize > 0)
        self.planes = planes
        self.groupSize = groupSize
        self.method = method
        self.dampening = dampening
        self.actOrder = actOrder
        self.blockSize = blockSize
        self.considerUniformGrid = considerUniformGrid
    }
}
