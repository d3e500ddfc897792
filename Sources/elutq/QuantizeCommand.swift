import ArgumentParser
import Foundation
import Glibc
import ModelFile
import Parallel
import Quantization
import Training

/// `elutq quantize`: turn a GGUF file or a Hugging Face checkpoint into a `.hlq` model.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a GGUF file or Hugging Face checkpoint into a .hlq model.",
        discussion: """
            Linear layers get --bits bit planes in groups of --group-size columns, fitted by --method \
            (hlq: the paper's free per-plane scales; uniform: min-max with an integer zero point). \
            --recipe overrides precisions per tensor class, e.g. 'attn=4,mlp=2,embedding=q8,output=hlq4', \
            or per block, e.g. 'blk.0-2.ffn_down=hlq4/256'. \
            By default embeddings are q8, a tied head reads them, and an untied head is hlq4/64 \
            (it is read whole every token; 'output=q8' keeps it at 8 bits). \
            With --calibrate, GPTQ fits the layers block by block on the model's own activations; \
            --target-bpw then picks 2, 3 or 4 bits per layer to meet an average. \
            The model is written to a temporary file next to OUT, synced and renamed, so an interrupted \
            run never leaves a partial model behind.
            """)

    @Argument(help: "A GGUF file or a Hugging Face checkpoint directory.") var input: String
    @Option(name: .shortAndLong, help: "The .hlq file to write.") var output: String
    @Option(help: "Bit planes of the linear layers (1-4).") var bits = 2
    @Option(name: .customLong("group-size"), help: "Columns per group (a multiple of 32, at most 1024).") var groupSize = 128
    @Option(help: "hlq or uniform.") var method = "hlq"
    @Option(help: ArgumentHelp("Per-class or per-block precisions, e.g. 'attn=4,mlp=2,embedding=q8,output=q8'.",
                               discussion: "Classes: attn, mlp, embedding, output or one layer (attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down), optionally in some blocks only (blk.0.ffn_down, blk.0-3.attn). Precisions: 3, hlq3, hlq3/256 (bits/group size), q8, f16, f32. Block items win over class items. Under 3.5 bits, --bits 3 with 'mlp=hlq3/256,attn_k=hlq4,attn_v=hlq4' kept SmolLM2 closest to the original on chat: keys and values need bits most."))
    var recipe = ""
    @OptionGroup(title: "Calibration (GPTQ)") var calibration: CalibrationFlags
    @Option(help: ArgumentHelp(
        "After GPTQ, finetune the scales and midpoints on the calibration text: block, e2e or both (a bare --finetune is both).",
        discussion: "See `elutq finetune --help`; the --finetune-* options below tune it.", valueName: "stages"))
    var finetune: FinetuneOptions.Stages?
    @OptionGroup(title: "Finetuning") var finetuning: FinetuneFlags
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try validateQuantization(bits: bits, groupSize: groupSize)
        guard QuantizationRecipe.Method(rawValue: method) != nil else { throw ValidationError("--method must be hlq or uniform") }
        if finetune != nil && calibration.calibrate.isEmpty {
            throw ValidationError("--finetune needs --calibrate: it trains on the calibration text")
        }
    }

    struct Report: Codable {
        var output: String
        var bytes: Int
        var bitsPerWeight: Double
        var seconds: Double
        var recipe: QuantizationRecipe
    }

    func run() throws {
        let start = monotonicSeconds()
        let pool = ThreadPool(threadCount: common.threads)
        let spec = try RecipeSpec(recipe, defaultGroupSize: groupSize)
        let source: ModelSource
        do {
            source = try ModelSources.open(input)
        } catch {
            throw ValidationError("cannot read \(input): \(error)")
        }
        if let highest = spec.highestBlock, highest >= source.config.layers {
            throw ValidationError("--recipe names block \(highest), but \(input) has blocks 0-\(source.config.layers - 1)")
        }
        var recipe = QuantizationRecipe(
            for: source.config, method: QuantizationRecipe.Method(rawValue: method)!, bits: bits, groupSize: groupSize,
            overrides: spec.overrides, embedding: spec.embedding, output: spec.output)
        // With --finetune, GPTQ's model is an intermediate file next to the output, removed at the end.
        let quantized = finetune == nil ? output : Self.intermediatePath(for: output)
        common.log("quantizing \(input) (\(source.config.architecture), \(source.config.layers) blocks) to \(quantized)")
        let writer = try HLQFileWriter(destination: quantized)
        InterruptCleanup.remove(writer.temporaryPath)
        defer { InterruptCleanup.remove(nil) }
        let quantizer = ModelQuantizer(source: source, recipe: recipe)
        var weightsByType: [HLQTensorType: Int] = [:]
        let emit = { (name: String, shape: [Int], tensor: QuantizedTensor) throws in
            if LinearLayer(tensorName: name) != nil { weightsByType[tensor.type, default: 0] += shape.reduce(1, *) }
            try tensor.withParts { try writer.append(name: name, type: tensor.type, shape: shape, parts: $0) }
        }
        if let options = try calibration.options() {
            let calibrated = CalibratedQuantizer(source: source, recipe: recipe, options: options)
            recipe.calibration = options.description(chunks: try calibrated.calibrationChunks().count)
            common.log("calibrating: \(recipe.calibration!)")
            recipe.averageBitsPerWeight = try calibrated.run(pool: pool, progress: { common.progress($0) },
                                                             note: { common.log($0) }, emit: emit)
        } else {
            recipe.averageBitsPerWeight = try quantizer.run(pool: pool, progress: { index, count, name in
                common.progress("[\(index)/\(count)] \(name)")
            }, emit: emit)
        }
        common.endProgress()
        let linearWeights = Double(weightsByType.values.reduce(0, +))
        common.log("linear weights: " + weightsByType.sorted { $0.value > $1.value }
            .map { String(format: "%@ %.1f%%", $0.key.description, 100 * Double($0.value) / linearWeights) }.joined(separator: ", "))
        common.log("hashing the source")
        let metadata = HLQFileMetadata(
            config: source.config, tokenizer: source.tokenizer, recipe: recipe,
            sourceSHA256: try ModelSources.sha256(input), creator: "elutq \(Elutq.configuration.version)", created: Date())
        try writer.finish(metadata: metadata)
        if let finetune {
            // Removed at the end, on an error, and on an interrupt too.
            InterruptCleanup.remove(quantized)
            defer { try? FileManager.default.removeItem(atPath: quantized) }
            common.log(String(format: "quantized in %.1f s", monotonicSeconds() - start))
            _ = try finetuning.run(model: quantized, source: input, texts: calibration.calibrate, output: output,
                                   stages: finetune, common: common)
            recipe = try HLQFile(path: output).metadata.recipe
        }
        let bytes = (try FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
        let report = Report(output: output, bytes: bytes, bitsPerWeight: recipe.averageBitsPerWeight,
                            seconds: monotonicSeconds() - start, recipe: recipe)
        if common.json {
            try common.printJSON(report)
        } else {
            print(String(format: "wrote %@: %.1f MB, %.3f bits per linear weight (scales and midpoints included), %.1f s",
                         output, Double(bytes) / 1e6, report.bitsPerWeight, report.seconds))
        }
    }
}

extension QuantizeCommand {
    /// Where GPTQ's model goes before finetuning: a hidden file beside the output.
    static func intermediatePath(for output: String) -> String {
        let url = URL(fileURLWithPath: output)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).quantized.hlq").path
    }
}

/// The options of `elutq quantize --calibrate`.
struct CalibrationFlags: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Calibrate GPTQ on this text file (not the evaluation text); repeat to join several.",
        discussion: "For a chat model, add the model's own answers (`elutq chat-transcripts`): calibrated on other text alone, it drifts furthest from the original on chat."))
    var calibrate: [String] = []
    @Option(name: .customLong("calibration-chunks"), help: "Most calibration chunks, taken evenly over the joined texts.") var chunks = 16
    @Option(name: .customLong("calibration-length"), help: "Tokens per calibration chunk.") var length = 512
    @Flag(name: .customLong("true-sequential"), help: "Re-collect Hessians after q/k/v, o and gate/up.") var trueSequential = false
    @Option(name: .customLong("drift-correction"), help: ArgumentHelp(
        "How much of the earlier blocks' error each layer undoes, 0 to 1.",
        discussion: "Each block is fed the outputs of the already quantized blocks before it. At 0, GPTQ reproduces "
            + "the float weights' outputs on those drifted inputs; at 1, the float model's own outputs (asymmetric "
            + "calibration, as in GPTAQ), which over-fits the calibration text; 0.3 measured best on SmolLM2 "
            + "(2-bit GPL-3 perplexity 67.2 -> 45.0). Costs a second pass of the float model over the calibration "
            + "text and drift products as large as the Hessians (2-bit SmolLM2: 76 s instead of 51); "
            + "block-sequential only."))
    var driftCorrection = 0.0
    @Flag(name: .customLong("act-order"), help: "Quantize columns in order of decreasing Hessian diagonal.") var actOrder = false
    @Flag(name: .customLong("no-refit"), help: "Skip the closed-form refit of scales and midpoints.") var noRefit = false
    @Option(help: "GPTQ dampening, a fraction of the Hessian's mean diagonal.") var dampening = 0.01
    @Option(name: .customLong("refit-dampening"),
            help: "The refit's dampening, a fraction of the Hessian's mean diagonal (weighs the plain weight error too).")
    var refitDampening = 0.03
    @Option(name: .customLong("target-bpw"), help: ArgumentHelp(
        "Mixed precision: average at most this many stored bits per linear weight (scales and midpoints included).",
        discussion: "Per block, every HLQ layer is quantized at 2, 3 and 4 bits and the widths with the least total "
            + "Hessian-weighted error within the budget are kept. Needs --calibrate; replaces --bits."))
    var targetBitsPerWeight: Double?

    func validate() throws {
        guard chunks > 0, length >= 16 else { throw ValidationError("--calibration-chunks must be positive and --calibration-length at least 16") }
        guard (0...1).contains(driftCorrection) else { throw ValidationError("--drift-correction must be from 0 to 1") }
        guard driftCorrection == 0 || !trueSequential else {
            throw ValidationError("--drift-correction works block by block; it cannot be combined with --true-sequential")
        }
        guard dampening >= 0 else { throw ValidationError("--dampening must not be negative") }
        guard refitDampening >= 0 else { throw ValidationError("--refit-dampening must not be negative") }
        if let target = targetBitsPerWeight {
            guard !calibrate.isEmpty else { throw ValidationError("--target-bpw needs --calibrate: the layers' errors are measured on it") }
            guard target.isFinite, target > 0 else { throw ValidationError("--target-bpw must be a positive number of bits") }
        }
    }

    /// The calibration settings, or nil without --calibrate.
    func options() throws -> CalibrationOptions? {
        guard !calibrate.isEmpty else { return nil }
        let texts = try calibrate.map { try readText($0, option: "calibrate") }
        var options = CalibrationOptions(text: texts.joined(separator: "\n\n"),
                                         textName: calibrate.map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: " + "))
        options.chunkCount = chunks
        options.chunkLength = length
        options.trueSequential = trueSequential
        options.driftCorrection = driftCorrection
        options.actOrder = actOrder
        options.refit = !noRefit
        options.dampening = dampening
        options.refitDampening = refitDampening
        options.targetBitsPerWeight = targetBitsPerWeight
        return options
    }
}

/// Deletes a half-written model's temporary file when the user interrupts (SIGINT/SIGTERM):
/// the file is never renamed into place, so nothing is lost, and nothing is left behind either.
enum InterruptCleanup {
    nonisolated(unsafe) private static var path: UnsafeMutablePointer<CChar>?

    /// Sets (or, with nil, clears) the file to remove on an interrupt.
    static func remove(_ file: String?) {
        let old = path
        path = file.map { strdup($0) }
        free(old)
        guard file != nil else { return }
        let handler: @convention(c) (Int32) -> Void = { signal in
            if let path = InterruptCleanup.path { unlink(path) }
            _exit(128 + signal)
        }
        Glibc.signal(SIGINT, handler)
        Glibc.signal(SIGTERM, handler)
    }
}
