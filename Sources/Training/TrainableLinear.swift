import ModelFile

/// A linear layer during finetuning: an HLQ matrix whose scales and midpoints train, or a frozen
/// float matrix (a layer the recipe kept at q8, f16 or f32).
public enum TrainableLinear: Sendable {
    case hlq(TrainableMatrix)
    /// [rows][cols]
    case frozen(rows: Int, cols: Int, weights: [Float])

    public var rows: Int {
        switch self {
        case .hlq(let m): m.rows
        case .frozen(let rows, _, _): rows
        }
    }

    public var cols: Int {
        switch self {
        case .hlq(let m): m.cols
        case .frozen(_, let cols, _): cols
        }
    }

    /// Trainable floats (0 for a frozen layer).
    public var parameterCount: Int {
        if case .hlq(let m) = self { return m.parameters.count }
        return 0
    }

    /// Dense weights of `rows` into `out`, row r at `out + (r - rows.lowerBound) * ldo`.
    func dequantize(rows range: Range<Int>, into out: UnsafeMutablePointer<Float>, ldo: Int) {
        switch self {
        case .hlq(let m):
            m.dequantize(rows: range, into: out, ldo: ldo)
        case .frozen(_, let cols, let weights):
            weights.withUnsafeBufferPointer { w in
                for r in range {
                    (out + (r - range.lowerBound) * ldo).update(from: w.baseAddress! + r * cols, count: cols)
                }
            }
        }
    }
}

/// A transformer block's weights during finetuning.
public struct TrainableBlock: Sendable {
    /// [embeddingSize]
    public var attentionNorm: [Float]
    /// [embeddingSize]
    public var feedForwardNorm: [Float]
    /// Biases of q, k and v (qwen2), or nil; frozen.
    public var queryBias, keyBias, valueBias: [Float]?
    /// The seven linear layers, in `TrainableBlock.layers` order.
    public var linears: [TrainableLinear]

    /// The order of `linears`: q, k and v, the attention output, gate and up, down.
    public static let layers: [LinearLayer] = [.query, .key, .value, .attentionOutput, .gate, .up, .down]

    public init(attentionNorm: [Float], feedForwardNorm: [Float], queryBias: [Float]?, keyBias: [Float]?,
                valueBias: [Float]?, linears: [TrainableLinear]) {
        precondition(linears.count == Self.layers.count, "a block has \(Self.layers.count) linear layers")
        self.attentionNorm = attentionNorm
        self.feedForwardNorm = feedForwardNorm
        self.queryBias = queryBias
        self.keyBias = keyBias
        self.valueBias = valueBias
        self.linears = linears
    }

    /// Empty gradients, one per linear layer, laid out as its parameters.
    public func zeroGradients() -> [[Float]] {
        linears.map { [Float](repeating: 0, count: $0.parameterCount) }
    }

    /// Every trainable float, for progress messages.
    public var parameterCount: Int { linears.reduce(0) { $0 + $1.parameterCount } }
}

extension TrainableBlock {
    /// The trainable arrays of every layer (empty for frozen ones), in `layers` order.
    public var parameters: [[Float]] {
        get {
            linears.map { linear in
                if case .hlq(let m) = linear { return m.parameters }
                return []
            }
        }
        set {
            for (i, values) in newValue.enumerated() {
                if case .hlq(var m) = linears[i] {
                    m.parameters = values
                    linears[i] = .hlq(m)
                }
            }
        }
    }

    /// Rounds every trainable parameter to the half float a file stores.
    public mutating func roundToStored() {
        for i in linears.indices {
            if case .hlq(var m) = linears[i] {
                m.roundToStored()
                linears[i] = .hlq(m)
            }
        }
    }
}
