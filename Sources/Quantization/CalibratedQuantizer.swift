import Engine
import Foundation
import HLQ
import ModelFile
import Parallel
import Runtime
import Tokenizer

/// How calibrated quantization collects and uses its data.
public struct CalibrationOptions: Sendable {
    /// The calibration text (never the evaluation text).
    public var text: String
    /// A name for the text, recorded in the model's recipe.
    public var textName: String
    /// Tokens per calibration chunk.
    public var chunkLength = 512
    /// Most chunks to use; the text may hold fewer.
    public var chunkCount = 16
    /// Re-collect Hessians after q/k/v, after o and after gate/up, instead of once per block.
    public var trueSequential = false
    /// How much of the earlier blocks' error each layer's GPTQ target undoes (`InputDrift`): 0 aims
    /// at the float weights' outputs on the drifted inputs (plain GPTQ), 1 at the float model's own
    /// outputs (GPTAQ's asymmetric calibration), which over-fits the calibration text: SmolLM2 at 2
    /// bits scored 552 on GPL-3 with 1, 45.0 with 0.3 and 67.2 with 0. Block-sequential only.
    public var driftCorrection = 0.0
    /// GPTQ's dampening, a fraction of the Hessian's mean diagonal.
    public var dampening = 0.01
    public var actOrder = false
    /// Solve the scales and midpoints of each row in closed form after GPTQ.
    public var refit = true
    /// The refit's dampening, a fraction of the Hessian's mean diagonal: it minimises
    /// (w − ŵ)ᵀ(H + λ·mean(diag H)·I)(w − ŵ), so that beside the calibration outputs it also weighs
    /// the plain weight error. Undamped, it fits the calibration text too closely: on SmolLM2 at
    /// 2 bits it lowered every layer objective yet raised GPL-3 perplexity from 71.2 to 77.3; the
    /// README has the sweep this default comes from.
    public var refitDampening = 0.03
    /// Mixed precision: instead of the recipe's bit width, each block's HLQ layers get widths from
    /// `MixedPrecision.candidateBits` chosen to average at most this many stored bits per weight.
    public var targetBitsPerWeight: Double?

    public init(text: String, textName: String) {
        self.text = text
        self.textName = textName
    }

    /// The procedure in words, stored beside every figure it produces, with the number of chunks
    /// the text really held (`CalibratedQuantizer.calibrationChunks`), which may be fewer than asked.
    public func description(chunks: Int) -> String {
        "\(textName), \(chunks)×\(chunkLength) tokens, \(trueSequential ? "true-sequential" : "block-sequential")"
            + (driftCorrection > 0 ? ", drift correction \(driftCorrection)" : "")
            + ", damp \(dampening)\(actOrder ? ", act-order" : "")\(refit ? ", refit (damp \(refitDampening))" : "")"
            + (targetBitsPerWeight.map { ", mixed 2/3/4-bit per block at ≤ \($0) bpw" } ?? "")
    }
}

/// Why calibration cannot run.
public enum CalibrationError: Error, CustomStringConvertible, Equatable {
    case emptyText
    case textTooShort(tokens: Int, chunkLength: Int)
    case targetOutOfRange(target: Double, reachable: ClosedRange<Double>)
    case driftCorrectionNeedsBlockSequential

    public var description: String {
        switch self {
        case .emptyText: "the calibration text is empty"
        case .textTooShort(let tokens, let length):
            "the calibration text has \(tokens) tokens, fewer than one chunk of \(length); give a longer text or a smaller --calibration-length"
        case .targetOutOfRange(let target, let reachable):
            String(format: "a target of %g bits per weight is out of reach: this model's linear layers store %.3f (all at the fewest bits) to %.3f (all at the most)",
                   target, reachable.lowerBound, reachable.upperBound)
        case .driftCorrectionNeedsBlockSequential:
            "drift correction needs block-sequential calibration: true-sequential would keep every chunk's float inputs for the whole block"
        }
    }
}

/// GPTQ with HLQ, block by block, fed by the model's own activations on a calibration text.
///
/// Each block's Hessians come from one pass through that block with its float weights, fed by the
/// outputs of the earlier blocks, which are already quantized; the block's output is then
/// recomputed with its quantized weights for the next block. Only one block's float weights are in
/// memory at a time, so a 1.5B model calibrates in a few GB.
public struct CalibratedQuantizer: Sendable {
    public let base: ModelQuantizer
    public let options: CalibrationOptions

    public init(source: ModelSource, recipe: QuantizationRecipe, options: CalibrationOptions) {
        base = ModelQuantizer(source: source, recipe: recipe)
        self.options = options
    }

    /// Quantizes every tensor, handing each to `emit`; returns the stored bits per linear weight.
    /// `note` receives a summary worth keeping (what the refit gained).
    public func run(pool: ThreadPool, progress: (String) -> Void, note: (String) -> Void = { _ in },
                    emit: (String, [Int], QuantizedTensor) throws -> Void) throws -> Double {
        let source = base.source, config = source.config
        guard options.driftCorrection == 0 || !options.trueSequential else { throw CalibrationError.driftCorrectionNeedsBlockSequential }
        let chunks = try calibrationChunks()
        let mixed = try options.targetBitsPerWeight.map { try MixedPrecision(quantizer: base, target: $0) }
        let length = options.chunkLength, width = config.embeddingSize
        progress("calibrating on \(chunks.count) chunks of \(length) tokens")

        // Everything outside the blocks is quantized without data.
        var linearBits = 0.0, linearWeights = 0.0, refitRatios: [Double] = []
        for name in base.tensorNames where LinearLayer(tensorName: name).map({ $0 == .outputHead }) ?? true {
            let (shape, tensor) = try base.quantizeWithoutData(name, pool: pool)
            try emit(name, shape, tensor)
        }

        // hidden[c]: the residual stream entering the current block, chunk c, [length][width]. The
        // float embeddings (0.9 GB for a 1.5B model's vocabulary) are dropped once it is made.
        var hidden = try { () throws -> [[Float]] in
            let embeddings = try source.floats("token_embd.weight", pool: pool)
            return chunks.map { chunk in
                chunk.flatMap { token in embeddings[(Int(token) * width)..<((Int(token) + 1) * width)] }
            }
        }()
        // floatHidden[c]: the float model's residual stream entering the current block, for the drift correction.
        var floatHidden = options.driftCorrection > 0 ? hidden : nil
        let runner = BlockRunner(config: config, layers: 1, contextLength: length, maxBatch: length, pool: pool)
        for index in 0..<config.layers {
            progress("block \(index + 1)/\(config.layers)")
            let storage = FloatStorage()
            var block = try BlockWeights.float(index, from: source, into: storage, pool: pool)
            let stages: [[LinearLayer]] = options.trueSequential
                ? [[.query, .key, .value], [.attentionOutput], [.gate, .up], [.down]]
                : [[.query, .key, .value, .attentionOutput, .gate, .up, .down]]
            // Mixed precision measures every candidate on the first Hessians, block-sequential or not.
            var measured: [LinearLayer: QuantizedMatrix] = [:]
            for (number, stage) in stages.enumerated() {
                let (hessians, drifts) = collectHessians(block, runner: runner, hidden: hidden, floatHidden: floatHidden, pool: pool)
                if floatHidden != nil {  // one stage: drift correction is block-sequential only
                    advance(&floatHidden!, through: block, runner: runner)
                    let uncorrected = aimAtFloatOutputs(&block, index: index, drifts: drifts, hessians: hessians,
                                                        storage: storage, pool: pool)
                    if !uncorrected.isEmpty { note("drift correction skipped (Hessian not positive definite): \(uncorrected.joined(separator: ", "))") }
                }
                if let mixed, number == 0 {
                    measured = mixed.allocate(block, index: index, hessians: hessians, by: self, pool: pool)
                }
                for layer in stage {
                    let name = "blk.\(index).\(layer.rawValue).weight"
                    // A measured candidate is reused only when the Hessian it was made with is still current.
                    let type = measured[layer].map { HLQTensorType.hlq(bits: $0.planes, groupSize: $0.groupSize) }
                        ?? base.type(of: name)
                    let (tensor, reconstructed, refit) = try quantize(block[layer], name: name, type: type,
                                                               hessian: hessians[layer.site]!,
                                                               start: number == 0 ? measured[layer] : nil,
                                                               storage: storage, pool: pool)
                    if let refit, refit.before > 0 { refitRatios.append(refit.after / refit.before) }
                    linearBits += Double(tensor.byteCount * 8)
                    linearWeights += Double(block[layer].rows * block[layer].cols)
                    try emit(name, [block[layer].cols, block[layer].rows], tensor)
                    block[layer] = reconstructed
                }
            }
            // The next block sees this block's output with its quantized weights.
            advance(&hidden, through: block, runner: runner)
        }
        if !refitRatios.isEmpty {
            note(String(format: "refit: layer objectives %.1f%% lower on average (least %.1f%%, most %.1f%%, %d layers)",
                        100 * (1 - refitRatios.reduce(0, +) / Double(refitRatios.count)),
                        100 * (1 - refitRatios.max()!), 100 * (1 - refitRatios.min()!), refitRatios.count))
        }
        return linearWeights > 0 ? linearBits / linearWeights : 0
    }

    /// The calibration text, tokenized and cut into whole chunks. When it holds more than
    /// `chunkCount`, the chunks are taken evenly spaced over the whole of it, not from its start:
    /// several files are joined into one text, and the first chunks alone would leave the last
    /// files out.
    public func calibrationChunks() throws -> [ArraySlice<Int32>] {
        guard !options.text.isEmpty else { throw CalibrationError.emptyText }
        let tokenizer = try Tokenizer(spec: base.source.tokenizer)
        let tokens = tokenizer.encode(options.text)
        let available = tokens.count / options.chunkLength
        let count = min(options.chunkCount, available)
        guard count > 0 else { throw CalibrationError.textTooShort(tokens: tokens.count, chunkLength: options.chunkLength) }
        return (0..<count).map { i in
            let chunk = i * available / count
            return tokens[(chunk * options.chunkLength)..<((chunk + 1) * options.chunkLength)]
        }
    }

    /// H = 2·XᵀX of each linear input, over every calibration chunk, with the block as it is now;
    /// and, given the float model's stream, how far those inputs have drifted from the float model's.
    func collectHessians(_ block: BlockWeights, runner: BlockRunner, hidden: [[Float]], floatHidden: [[Float]]?,
                         pool: ThreadPool) -> (hessians: [BlockRunner.InputSite: Hessian], drifts: [BlockRunner.InputSite: InputDrift]) {
        var accumulators: [BlockRunner.InputSite: HessianAccumulator] = [:]
        for (c, chunk) in hidden.enumerated() {
            // floatInputs[site]: what the float model feeds that site for this chunk, [length][cols].
            var floatInputs: [BlockRunner.InputSite: [Float]] = [:]
            if let floatChunk = floatHidden?[c] {
                floatChunk.withUnsafeBufferPointer { runner.residual.update(from: $0.baseAddress!, count: $0.count) }
                runner.run(block, layer: 0, count: options.chunkLength, position: 0) { site, input in
                    floatInputs[site] = Array(UnsafeBufferPointer(start: input.values, count: input.count * input.cols))
                }
            }
            chunk.withUnsafeBufferPointer { runner.residual.update(from: $0.baseAddress!, count: $0.count) }
            runner.run(block, layer: 0, count: options.chunkLength, position: 0) { site, input in
                let inputs = UnsafeBufferPointer(start: input.values, count: input.count * input.cols)
                let fresh = HessianAccumulator(cols: input.cols, measuringDrift: floatHidden != nil)
                if let floats = floatInputs[site] {
                    floats.withUnsafeBufferPointer { accumulators[site, default: fresh].add(inputs, floatInputs: $0, pool: pool) }
                } else {
                    accumulators[site, default: fresh].add(inputs, pool: pool)
                }
            }
        }
        return (accumulators.mapValues(\.hessian), accumulators.compactMapValues(\.drift))
    }

    /// Runs every chunk of `stream` through `block`, in place.
    func advance(_ stream: inout [[Float]], through block: BlockWeights, runner: BlockRunner) {
        for c in stream.indices {
            stream[c].withUnsafeMutableBufferPointer { h in
                runner.residual.update(from: h.baseAddress!, count: h.count)
                runner.run(block, layer: 0, count: options.chunkLength, position: 0)
                h.baseAddress!.update(from: runner.residual, count: h.count)
            }
        }
    }

    /// Replaces the block's float weights by those whose outputs on the drifted inputs come closest
    /// to outputs `driftCorrection` of the way to the float model's (`InputDrift`), so that
    /// everything after (GPTQ, the refit, the bit allocation) aims there.
    /// Layers the recipe stores as q8 or float keep their source weights. Returns the layers left
    /// uncorrected because their dampened Hessian could not be factored.
    func aimAtFloatOutputs(_ block: inout BlockWeights, index: Int, drifts: [BlockRunner.InputSite: InputDrift],
                           hessians: [BlockRunner.InputSite: Hessian], storage: FloatStorage, pool: ThreadPool) -> [String] {
        var uncorrected: [String] = []
        for layer in LinearLayer.allCases where layer != .outputHead {
            let name = "blk.\(index).\(layer.rawValue).weight"
            guard case .hlq = base.type(of: name), case .f32(let w, let rows, let cols) = block[layer],
                  let drift = drifts[layer.site] else { continue }
            guard let corrected = drift.correcting(UnsafeBufferPointer(start: w, count: rows * cols), rows: rows,
                                                   hessian: hessians[layer.site]!, fraction: options.driftCorrection,
                                                   dampening: options.dampening, pool: pool) else {
                uncorrected.append(name)
                continue
            }
            let target = storage.allocate(rows * cols)
            target.update(from: corrected, count: rows * cols)
            block[layer] = .f32(target, rows: rows, cols: cols)
        }
        return uncorrected
    }

    /// GPTQ (and the refit) for an HLQ layer, or the data-free path for other precisions; returns
    /// the stored tensor and its float reconstruction, which the rest of the block runs on.
    /// `start`, a GPTQ result already made with this Hessian, saves doing it again. Also returns
    /// the layer objective before and after the refit, when there was one.
    func quantize(_ weight: LinearWeight, name: String, type: HLQTensorType, hessian: Hessian, start: QuantizedMatrix?,
                  storage: FloatStorage, pool: ThreadPool)
        throws -> (QuantizedTensor, LinearWeight, refit: (before: Double, after: Double)?) {
        guard case .f32(let w, let rows, let cols) = weight else { preconditionFailure("calibration runs on float weights") }
        let original = UnsafeBufferPointer(start: w, count: rows * cols)
        guard case .hlq(let bits, let groupSize) = type else {
            let tensor = try base.quantize(Array(original), shape: [cols, rows], as: type, name: name, pool: pool)
            return (tensor, weight, nil)  // q8/f16/f32 layers stay close enough to float for the next block
        }
        var q = start ?? gptq(original, rows: rows, cols: cols, bits: bits, groupSize: groupSize, hessian: hessian, pool: pool)
        let refit = options.refit
            ? Refit.refit(&q, original: original, hessian: hessian.dampened(by: options.refitDampening), pool: pool) : nil
        let reconstructed = storage.allocate(rows * cols)
        reconstructed.update(from: q.dequantized(), count: rows * cols)
        return (.hlq(PackedMatrix(q)), .f32(reconstructed, rows: rows, cols: cols), refit)
    }

    /// GPTQ by the recipe's method and these options.
    func gptq(_ original: UnsafeBufferPointer<Float>, rows: Int, cols: Int, bits: Int, groupSize: Int, hessian: Hessian,
              pool: ThreadPool) -> QuantizedMatrix {
        let method: QuantizationMethod = base.recipe.method == .uniform ? .uniform : .hlq
        return GPTQ.quantize(original, rows: rows, cols: cols, hessian: hessian,
                             options: GPTQOptions(planes: bits, groupSize: groupSize, method: method,
                                                  dampening: options.dampening, actOrder: options.actOrder),
                             pool: pool)
    }
}

extension LinearLayer {
    /// Which observed input feeds this layer.
    var site: BlockRunner.InputSite {
        switch self {
        case .query, .key, .value: .attention
        case .attentionOutput: .attentionOutput
        case .gate, .up: .feedForward
        case .down, .outputHead: .down
        }
    }
}

extension BlockWeights {
    /// The block's matrix for a linear layer kind.
    subscript(layer: LinearLayer) -> LinearWeight {
        get {
            switch layer {
            case .query: query
            case .key: key
            case .value: value
            case .attentionOutput: attentionOutput
            case .gate: gate
            case .up: up
            case .down: down
            case .outputHead: preconditionFailure("the output head is not part of a block")
            }
        }
        set {
            switch layer {
            case .query: query = newValue
            case .key: key = newValue
            case .value: value = newValue
            case .attentionOutput: attentionOutput = newValue
            case .gate: gate = newValue
            case .up: up = newValue
            case .down: down = newValue
            case .outputHead: preconditionFailure("the output head is not part of a block")
            }
        }
    }
}
