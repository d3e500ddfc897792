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
    /// Whether the two norms' weights train too. They scale each input column of q/k/v and of
    /// gate/up, which the per-row group scales cannot; off, they stay as the model has them.
    public var trainsNorms = false

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

    /// Trainable arrays per block: one per linear layer, then the attention and feed-forward norms
    /// (empty when the layer is frozen or the norms do not train).
    public static let arrays = layers.count + 2
    /// Where the norms' arrays are among a block's `parameters` and gradients.
    public static let attentionNormArray = layers.count, feedForwardNormArray = layers.count + 1

    /// Empty gradients, laid out as `parameters`.
    public func zeroGradients() -> [[Float]] {
        parameters.map { [Float](repeating: 0, count: $0.count) }
    }

    /// Every trainable float, for progress messages.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
}

extension TrainableBlock {
    /// The block's `arrays` trainable arrays: every linear layer's in `layers` order (empty for
    /// frozen ones), then the two norms' weights (empty unless `trainsNorms`).
    public var parameters: [[Float]] {
        get {
            linears.map { linear in
                if case .hlq(let m) = linear { return m.parameters }
                return []
            } + (trainsNorms ? [attentionNorm, feedForwardNorm] : [[], []])
        }
        set {
            precondition(newValue.count == Self.arrays)
            precondition(trainsNorms || newValue[Self.attentionNormArray].isEmpty && newValue[Self.feedForwardNormArray].isEmpty,
                         "the norms do not train")
            for (i, values) in newValue.prefix(linears.count).enumerated() {
                if case .hlq(var m) = linears[i] {
                    m.parameters = values
                    linears[i] = .hlq(m)
                }
            }
            if trainsNorms {
                attentionNorm = newValue[Self.attentionNormArray]
                feedForwardNorm = newValue[Self.feedForwardNormArray]
            }
        }
    }

    /// The step sizes of `parameters`' arrays: each HLQ group's own size, and each norm's mean
    /// magnitude (these apply only while the norms train).
    public var stepSizes: [StepSizes] {
        linears.map { linear in
            if case .hlq(let m) = linear { return m.stepSizes }
            return StepSizes(values: [], stride: 1)
        } + [StepSizes(meanMagnitudeOf: attentionNorm), StepSizes(meanMagnitudeOf: feedForwardNorm)]
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
