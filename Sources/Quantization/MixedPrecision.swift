import Engine
import HLQ
import ModelFile
import Parallel
import Runtime

/// Mixed precision at a target average bits per weight: per block, each HLQ layer is quantized by
/// GPTQ at 2, 3 and 4 bits, each result is priced by its calibration objective (w − ŵ)ᵀH(w − ŵ),
/// and `BitAllocation` picks the widths with the least summed objective whose stored bits
/// (scales and midpoints included) average at most the target.
///
/// The budget is per block, not global: every block meets the target on its own, so the model does
/// too, and objectives are only compared between the layers of one block, which see the same
/// tokens through the same residual stream (the stream's scale grows with depth, so objectives of
/// different blocks are not in the same units). It also keeps the pipeline one pass: a block is
/// allocated when its Hessians are collected, and the chosen candidate is the layer's GPTQ result.
/// Layers the recipe does not store as HLQ keep their type and spend their share of the budget.
struct MixedPrecision {
    static let candidateBits = [2, 3, 4]

    let quantizer: ModelQuantizer
    let target: Double

    /// Refuses a target that no choice of widths reaches, or that every choice undercuts.
    init(quantizer: ModelQuantizer, target: Double) throws {
        self.quantizer = quantizer
        self.target = target
        let reachable = try Self.reachable(quantizer)
        guard target.isFinite, target >= reachable.lowerBound, target <= reachable.upperBound else {
            throw CalibrationError.targetOutOfRange(target: target, reachable: reachable)
        }
    }

    /// The lowest and highest average stored bits per weight of the blocks' linear layers.
    static func reachable(_ quantizer: ModelQuantizer) throws -> ClosedRange<Double> {
        var cheapest = 0.0, dearest = 0.0, weights = 0.0
        for name in quantizer.tensorNames {
            guard let layer = LinearLayer(tensorName: name), layer != .outputHead else { continue }
            guard let shape = quantizer.source.shape(of: name) else { throw ModelSourceError.missingTensor(name) }
            let costs = candidates(quantizer.type(of: name)).map { Double($0.byteCount(shape: shape) * 8) }
            cheapest += costs.min()!
            dearest += costs.max()!
            weights += Double(shape.reduce(1, *))
        }
        guard weights > 0 else { throw ModelSourceError.invalid("the model has no linear layers to quantize") }
        return (cheapest / weights)...(dearest / weights)
    }

    /// The types a layer may take: every candidate width at its group size if the recipe stores it
    /// as HLQ, else the recipe's type alone.
    static func candidates(_ type: HLQTensorType) -> [HLQTensorType] {
        guard case .hlq(_, let groupSize) = type else { return [type] }
        return candidateBits.map { .hlq(bits: $0, groupSize: groupSize) }
    }

    /// Measures every candidate of block `index` on `hessians` and returns, for each HLQ layer, the
    /// GPTQ result at its chosen width (before any refit).
    func allocate(_ block: BlockWeights, index: Int, hessians: [BlockRunner.InputSite: Hessian],
                  by calibrated: CalibratedQuantizer, pool: ThreadPool) -> [LinearLayer: QuantizedMatrix] {
        let layers = LinearLayer.allCases.filter { $0 != .outputHead }
        var results: [LinearLayer: [QuantizedMatrix]] = [:]
        var candidates: [[(bits: Int, storedBits: Double, error: Double)]] = []
        var weights: [Int] = []
        for layer in layers {
            guard case .f32(let w, let rows, let cols) = block[layer] else { preconditionFailure("calibration runs on float weights") }
            let name = "blk.\(index).\(layer.rawValue).weight", shape = [cols, rows]
            let original = UnsafeBufferPointer(start: w, count: rows * cols)
            let hessian = hessians[layer.site]!
            var options: [(bits: Int, storedBits: Double, error: Double)] = []
            for type in Self.candidates(quantizer.type(of: name)) {
                let storedBits = Double(type.byteCount(shape: shape) * 8) / Double(rows * cols)
                guard case .hlq(let bits, let groupSize) = type else {
                    options.append((0, storedBits, 0))  // fixed: one option, so its error does not matter
                    continue
                }
                let q = calibrated.gptq(original, rows: rows, cols: cols, bits: bits, groupSize: groupSize,
                                        hessian: hessian, pool: pool)
                options.append((bits, storedBits, LayerObjective.error(original: original, quantized: q,
                                                                       hessian: hessian, pool: pool)))
                results[layer, default: []].append(q)
            }
            candidates.append(options)
            weights.append(rows * cols)
        }
        let chosen = BitAllocation.allocate(candidates, weights: weights, targetBitsPerWeight: target)
        var picked: [LinearLayer: QuantizedMatrix] = [:]
        for (layer, bits) in zip(layers, chosen) {
            if let q = results[layer]?.first(where: { $0.planes == bits }) { picked[layer] = q }
        }
        return picked
    }
}
