import ArgumentParser
import Parallel
import Runtime
import Training

extension FinetuneOptions.Stages: ExpressibleByArgument {}
extension FinetuneOptions.Objective: ExpressibleByArgument {}
extension FloatMatrices: ExpressibleByArgument {}

/// The settings of HLQ finetuning, shared by `elutq finetune` and `elutq quantize --finetune`.
struct FinetuneFlags: ParsableArguments {
    @Option(name: .customLong("finetune-epochs"), help: "Passes over the training sequences, per block and end to end.")
    var epochs = FinetuneOptions().epochs
    @Option(name: .customLong("finetune-lr"), help: "Peak learning rate of block reconstruction (AdamW, cosine schedule), as a fraction of each group's scale size.")
    var blockLearningRate = FinetuneOptions().blockLearningRate
    @Option(name: .customLong("finetune-e2e-lr"), help: "Peak learning rate of end-to-end tuning, as a fraction of each group's scale size.")
    var endToEndLearningRate = FinetuneOptions().endToEndLearningRate
    @Option(name: .customLong("finetune-samples"), help: "Calibration sequences (one in --finetune-held-out-every is held out).")
    var samples = FinetuneOptions().samples
    @Option(name: .customLong("finetune-length"), help: "Tokens per calibration sequence.")
    var length = FinetuneOptions().length
    @Option(name: .customLong("finetune-held-out-every"), help: "Hold out one sequence in this many, to pick the best epoch.")
    var heldOutEvery = FinetuneOptions().heldOutEvery
    @Option(name: .customLong("finetune-objective"), help: ArgumentHelp(
        "End-to-end loss: distillation (KL divergence from the float model's next-token distribution) or next-token.",
        valueName: "objective"))
    var objective = FinetuneOptions().objective
    @Flag(name: .customLong("finetune-norms"), inversion: .prefixedNo,
          help: "Train the blocks' RMSNorm weights along with the scales and midpoints.")
    var trainNorms = FinetuneOptions().trainNorms
    @Option(name: .customLong("finetune-seed"), help: "Seeds the order of the training sequences.")
    var seed = FinetuneOptions().seed
    @Option(name: .customLong("finetune-teacher"), help: ArgumentHelp(
        "How the float teacher's matrices are held: f16 (half the memory: 3 GB for a 1.5B model) or f32.",
        valueName: "precision"))
    var teacherMatrices = FinetuneOptions().teacherMatrices
    @Option(help: "Where the run's checkpoint is kept (default: next to the output, OUT.checkpoint).")
    var checkpoint: String?
    @Option(name: .customLong("checkpoint-every"), help: "End-to-end steps between checkpoints (blocks always checkpoint).")
    var checkpointEvery = FinetuneOptions().checkpointEvery
    @Flag(help: "Continue an interrupted run from its checkpoint (same model, text and settings).")
    var resume = false

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--finetune-epochs must be positive") }
        guard blockLearningRate > 0, endToEndLearningRate > 0, blockLearningRate.isFinite, endToEndLearningRate.isFinite else {
            throw ValidationError("--finetune-lr and --finetune-e2e-lr must be positive")
        }
        guard samples >= 2 else { throw ValidationError("--finetune-samples must be at least 2 (one is held out)") }
        guard (16...4096).contains(length) else { throw ValidationError("--finetune-length must be 16...4096") }
        guard heldOutEvery >= 2 else { throw ValidationError("--finetune-held-out-every must be at least 2") }
        guard checkpointEvery > 0 else { throw ValidationError("--checkpoint-every must be positive") }
    }

    func options(stages: FinetuneOptions.Stages) -> FinetuneOptions {
        var o = FinetuneOptions()
        o.stages = stages
        o.epochs = epochs
        o.blockLearningRate = blockLearningRate
        o.endToEndLearningRate = endToEndLearningRate
        o.samples = samples
        o.length = length
        o.heldOutEvery = heldOutEvery
        o.objective = objective
        o.trainNorms = trainNorms
        o.seed = seed
        o.teacherMatrices = teacherMatrices
        o.checkpointEvery = checkpointEvery
        return o
    }

    /// Runs a finetuning of `model` against `source` on `texts`, writing `output`, with progress on stderr.
    func run(model: String, source: String, texts: [String], output: String, stages: FinetuneOptions.Stages,
             common: CommonOptions) throws -> FinetuneReport {
        let pool = ThreadPool(threadCount: common.threads)
        let text = try texts.map { try readText($0, option: "calibrate") }.joined(separator: "\n\n")
        let finetuner = try Finetuner(model: model, source: source, text: text, options: options(stages: stages), pool: pool)
        common.log("finetuning \(model) against \(source): \(finetuner.student.parameterCount) trainable parameters, \(finetuner.trainingSequences) training and \(finetuner.heldOutSequences) held-out sequences")
        let report = try finetuner.run(output: output, checkpoint: checkpoint ?? output + ".checkpoint", resume: resume,
                                       creator: "elutq \(Elutq.configuration.version)", log: common.log)
        common.log(String(format: "block reconstruction %.1f s, end-to-end %.1f s", report.blockSeconds, report.endToEndSeconds))
        return report
    }
}
