/// Per-row int8 quantization (q8) for tensors that stay near full precision: embeddings and the output head.
///
/// Each row gets one scale, max|w| / 127, so a token's embedding row is self-contained and the
/// head's rows need one multiply each after the dot product.
public enum RowQuantizer {
    /// Returns the int8 values ([rows][cols]) and one scale per row.
    public static func q8(_ weights: UnsafeBufferPointer<Float>, rows: Int, cols: Int) -> (values: [Int8], scales: [Float]) {
        precondition(weights.count == rows * cols)
        var values = [Int8](repeating: 0, count: rows * cols)
        var scales = [Float](repeating: 0, count: rows)
        for r in 0..<rows {
            var largest: Float = 0
            for c in 0..<cols { largest = max(largest, abs(weights[r * cols + c])) }
            let scale = largest / 127
            scales[r] = scale
            let inverse = scale > 0 ? 1 / scale : 0
            for c in 0..<cols { values[r * cols + c] = Int8((weights[r * cols + c] * inverse).rounded()) }
        }
        return (values, scales)
    }
}
