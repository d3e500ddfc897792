import HLQ
import ModelFile
import TestSupport
import Training

/// Small random blocks for the gradient checks: grouped key/value heads, ragged groups, biases.
enum TinyBlocks {
    /// 4 query heads over 2 key/value heads of 8; 40 inputs and 72 hidden units, so groups of 32
    /// leave a short last group of 8 in every matrix.
    static func config(rope: RopeStyle = .interleaved, bias: Bool = false) -> ModelConfig {
        ModelConfig(architecture: bias ? "qwen2" : "llama", name: "tiny", layers: 2, embeddingSize: 40, feedForwardSize: 72,
                    heads: 4, kvHeads: 2, headSize: 8, vocabularySize: 50, contextLength: 64, ropeTheta: 10000,
                    ropeStyle: rope, ropeScaling: nil, normEpsilon: 1e-5, tiedEmbeddings: true, attentionBias: bias)
    }

    /// A random HLQ matrix: random patterns, scales around 0.15, midpoints near 0.
    static func matrix(rows: Int, cols: Int, planes: Int = 2, random: inout SeededRandom) -> TrainableMatrix {
        var q = QuantizedMatrix(rows: rows, cols: cols, planes: planes, groupSize: 32)
        for i in q.patterns.indices { q.patterns[i] = UInt8.random(in: 0..<(1 << planes), using: &random) }
        for i in q.scales.indices { q.scales[i] = Float16(Float.random(in: 0.08...0.25, using: &random)) }
        for i in q.midpoints.indices { q.midpoints[i] = Float16(Float.random(in: -0.05...0.05, using: &random)) }
        return TrainableMatrix(q)
    }

    /// A block of `config`, every layer HLQ except `frozen` (given as dense floats).
    static func block(_ c: ModelConfig, frozen: Set<Int> = [], random: inout SeededRandom) -> TrainableBlock {
        let d = c.embeddingSize, q = c.heads * c.headSize, f = c.feedForwardSize
        let shapes = [(q, d), (c.kvSize, d), (c.kvSize, d), (d, q), (f, d), (f, d), (d, f)]
        let linears = shapes.enumerated().map { index, shape -> TrainableLinear in
            if frozen.contains(index) {
                return .frozen(rows: shape.0, cols: shape.1, weights: random.weights(shape.0 * shape.1, scale: 0.15))
            }
            return .hlq(matrix(rows: shape.0, cols: shape.1, random: &random))
        }
        func norm() -> [Float] { (0..<d).map { _ in Float.random(in: 0.7...1.3, using: &random) } }
        func bias(_ n: Int) -> [Float]? { c.attentionBias ? random.weights(n, scale: 0.1) : nil }
        return TrainableBlock(attentionNorm: norm(), feedForwardNorm: norm(), queryBias: bias(q), keyBias: bias(c.kvSize),
                              valueBias: bias(c.kvSize), linears: linears)
    }
}
