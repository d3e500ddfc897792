import ModelFile

/// A block's activations over one sequence, kept by the forward pass for the backward pass.
public final class BlockTape: @unchecked Sendable {
    /// Tokens in the sequence (T), at positions 0..<T.
    public let length: Int
    /// [T][embeddingSize]: the residual stream entering the block.
    public let input: FloatBuffer
    /// [T]: 1 / rms of each input row.
    let inverseRMS1: FloatBuffer
    /// [T][embeddingSize]: normalised input of q, k and v.
    let normed1: FloatBuffer
    /// [T][q + 2·kv]: queries, keys (both rotated) and values.
    let qkv: FloatBuffer
    /// [heads][T][T]: attention probabilities, zero above the diagonal.
    let probabilities: FloatBuffer
    /// [T][heads · headSize]: attention's output, input of the output projection.
    let attended: FloatBuffer
    /// [T][embeddingSize]: the residual stream after attention.
    let middle: FloatBuffer
    /// [T]
    let inverseRMS2: FloatBuffer
    /// [T][embeddingSize]: normalised input of gate and up.
    let normed2: FloatBuffer
    /// [T][2 · feedForwardSize]: gate's then up's output, before the activation.
    let gateUp: FloatBuffer
    /// [T][feedForwardSize]: silu(gate) · up, input of down.
    let hidden: FloatBuffer
    /// [T][embeddingSize]: the residual stream leaving the block.
    public let output: FloatBuffer

    public init(config c: ModelConfig, length: Int) {
        self.length = length
        let d = c.embeddingSize, q = c.heads * c.headSize
        input = FloatBuffer(length * d)
        inverseRMS1 = FloatBuffer(length)
        normed1 = FloatBuffer(length * d)
        qkv = FloatBuffer(length * (q + 2 * c.kvSize))
        probabilities = FloatBuffer(c.heads * length * length)
        attended = FloatBuffer(length * q)
        middle = FloatBuffer(length * d)
        inverseRMS2 = FloatBuffer(length)
        normed2 = FloatBuffer(length * d)
        gateUp = FloatBuffer(length * 2 * c.feedForwardSize)
        hidden = FloatBuffer(length * c.feedForwardSize)
        output = FloatBuffer(length * d)
    }
}
