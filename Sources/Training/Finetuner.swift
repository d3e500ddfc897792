import Foundation
import ModelFile
import Parallel
import Runtime
import Tokenizer

/// What a finetuning run did, stage by stage.
public struct FinetuneReport: Sendable {
    public var blocks: [BlockReport] = []
    public var blockSeconds = 0.0
    /// End-to-end: held-out loss before (at the start of this run, or of its resumption) and
    /// after, and the steps taken.
    public var endToEndHeldOut: (before: Double, after: Double)?
    public var endToEndSteps = 0
    public var endToEndSeconds = 0.0
}

/// Finetunes a quantized model's scales and midpoints (optionally its norms) against the float model it was made from:
/// block reconstruction, then end-to-end tuning, with a checkpoint after every block and every
/// `checkpointEvery` end-to-end steps.
public final class Finetuner {
    public let student: StudentModel
    let teacher: ModelWeights
    let samples: CalibrationSamples
    let options: FinetuneOptions
    let pool: ThreadPool
    let fingerprint: String

    /// Opens the quantized model and its float source, and cuts `text` into sequences.
    public init(model: String, source: String, text: String, options: FinetuneOptions, pool: ThreadPool) throws {
        do { student = try StudentModel(path: model) } catch { throw FinetuneError.unreadable(path: model, reason: "\(error)") }
        guard student.parameterCount > 0 else { throw FinetuneError.notQuantized(model) }
        for i in student.blocks.indices { student.blocks[i].trainsNorms = options.trainNorms }
        // A .hlq source (float tensors in elutq's own format) is used in place; a GGUF file or a
        // checkpoint directory is dequantized, its matrices held as `teacherMatrices` says.
        do { teacher = try LoadedModel.open(source, pool: pool, floatMatrices: options.teacherMatrices).weights } catch {
            throw FinetuneError.unreadable(path: source, reason: "\(error)")
        }
        let (s, t) = (student.config, teacher.config)
        for (name, a, b) in [("blocks", s.layers, t.layers), ("embedding size", s.embeddingSize, t.embeddingSize),
                             ("feed-forward size", s.feedForwardSize, t.feedForwardSize), ("heads", s.heads, t.heads),
                             ("key/value heads", s.kvHeads, t.kvHeads), ("vocabulary", s.vocabularySize, t.vocabularySize)]
        where a != b {
            throw FinetuneError.sourceMismatch("\(name): \(a) in the quantized model, \(b) in the source")
        }
        let tokenizer = try Tokenizer(spec: student.file.metadata.tokenizer)
        var samples = try CalibrationSamples(tokens: tokenizer.encode(text), length: options.length, count: options.samples,
                                             heldOutEvery: options.heldOutEvery)
        // Every sequence starts as `elutq ppl` starts its chunks.
        if tokenizer.addBOS, let bos = tokenizer.bosID {
            for i in samples.training.indices { samples.training[i][0] = bos }
            for i in samples.heldOut.indices { samples.heldOut[i][0] = bos }
        }
        self.samples = samples
        self.options = options
        self.pool = pool
        // The run's identity: the quantized tensors, the float source, the sequences and the settings.
        var crc = student.file.tensors.reduce(UInt32(0)) { crc, t in withUnsafeBytes(of: t.crc32c) { CRC32C.checksum($0, seed: crc) } }
        crc = CRC32C.checksum(Array(try ModelSources.sha256(source).utf8), seed: crc)
        for sequence in samples.training + samples.heldOut { crc = sequence.withUnsafeBytes { CRC32C.checksum($0, seed: crc) } }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // Which stages run is not part of it: a finished block stage is the same whether or not
        // end-to-end tuning follows, so a run can stop after it, or go on to it, on resume.
        var identity = options
        identity.stages = .both
        let settings = String(decoding: try encoder.encode(identity), as: UTF8.self)
        // The step rule is named too: a checkpoint of a build whose rates were absolute is refused.
        fingerprint = String(format: "%08x ", crc) + "steps in units of each group's size " + settings
    }

    public var trainingSequences: Int { samples.training.count }
    public var heldOutSequences: Int { samples.heldOut.count }

    /// Runs the stages (continuing from `checkpoint` when `resume` and it exists) and writes the
    /// finetuned model to `output`. The checkpoint is removed once the model is written.
    public func run(output: String, checkpoint path: String, resume: Bool, creator: String,
                    log: (String) -> Void) throws -> FinetuneReport {
        var report = FinetuneReport()
        var completedBlocks = 0, restored: Checkpoint?
        if resume, FileManager.default.fileExists(atPath: path) {
            let checkpoint = try Checkpoint(path: path, weightDecay: options.weightDecay)
            guard checkpoint.fingerprint == fingerprint else {
                throw FinetuneError.checkpointMismatch("its model, text or settings differ")
            }
            guard checkpoint.parameters.map(\.count) == student.parameters.map(\.count) else {
                throw FinetuneError.badCheckpoint("its arrays do not have the sizes of this model's parameters")
            }
            let layers = student.config.layers
            if options.stages == .e2e && checkpoint.completedBlocks < layers && checkpoint.endToEndSteps == 0 {
                throw FinetuneError.checkpointMismatch("its block reconstruction stopped at block \(checkpoint.completedBlocks) of \(layers); resume with --stages block or both")
            }
            if !options.stages.runsEndToEnd && checkpoint.endToEndSteps > 0 {
                throw FinetuneError.checkpointMismatch("it is \(checkpoint.endToEndSteps) steps into end-to-end tuning; resume with --stages e2e or both")
            }
            student.parameters = checkpoint.parameters
            completedBlocks = checkpoint.completedBlocks
            restored = checkpoint
            log("resuming from \(path): \(completedBlocks) blocks done, \(checkpoint.endToEndSteps) end-to-end steps")
        }
        func save(blocks: Int, steps: Int, optimizer: AdamW?, best: HeldOutBest? = nil) throws {
            try Checkpoint(fingerprint: fingerprint, completedBlocks: blocks, endToEndSteps: steps,
                           parameters: student.parameters, optimizer: optimizer, best: best).write(to: path)
        }

        let layers = student.config.layers
        if options.stages.runsBlocks && completedBlocks < layers {
            let start = Date()
            log("block reconstruction: \(layers) blocks, \(samples.training.count) sequences (+\(samples.heldOut.count) held out) of \(options.length) tokens, \(options.epochs) epochs")
            let stage = BlockReconstruction(student: student, teacher: teacher, samples: samples, options: options, pool: pool)
            stage.skip(blocks: completedBlocks)
            for index in completedBlocks..<layers {
                let r = stage.train(block: index)
                report.blocks.append(r)
                try save(blocks: index + 1, steps: 0, optimizer: nil)
                let elapsed = Date().timeIntervalSince(start), done = index + 1 - completedBlocks
                let eta = elapsed / Double(done) * Double(layers - index - 1)
                // The training loss is an epoch's mean while it trains: first epoch -> last.
                let training = options.epochs == 1 ? String(format: "%.5g (the epoch's mean)", r.trainingLoss.first)
                    : String(format: "%.5g -> %.5g (first and last epochs' means)", r.trainingLoss.first, r.trainingLoss.last)
                log(String(format: "block %d/%d: training %@, held-out %.5g -> %.5g (%d epochs kept), %.1f s, ETA %@",
                           index + 1, layers, training, r.heldOutLoss.before, r.heldOutLoss.after, r.epochsKept, r.seconds,
                           Self.duration(eta)))
            }
            report.blockSeconds = Date().timeIntervalSince(start)
        }
        if options.stages.runsEndToEnd {
            let start = Date()
            let stage = EndToEndTuning(student: student, teacher: teacher,
                                       samples: samples, options: options, pool: pool)
            if let restored, let optimizer = restored.optimizer, let best = restored.best {
                stage.restore(step: restored.endToEndSteps, optimizer: optimizer, best: best)
            }
            // A resumed run measures where it stands without making it a candidate: the run it
            // continues measured (and kept) only at epoch ends.
            let before = restored?.optimizer == nil ? stage.measureHeldOut() : stage.heldOutLoss()
            log(String(format: "end-to-end %@: %d steps, held-out loss %.5g", options.objective.rawValue, stage.totalSteps, before))
            let first = stage.step
            while stage.step < stage.totalSteps {
                let loss = stage.trainStep()
                let epochEnds = stage.step % samples.training.count == 0
                if epochEnds {
                    let heldOut = stage.measureHeldOut()
                    log(String(format: "epoch %d: held-out loss %.5g%@", stage.step / samples.training.count, heldOut,
                               heldOut == stage.best?.loss ? " (best so far, kept)" : ""))
                }
                if stage.step % options.checkpointEvery == 0 || epochEnds {
                    try save(blocks: layers, steps: stage.step, optimizer: stage.optimizer, best: stage.best)
                }
                let done = stage.step - first, elapsed = Date().timeIntervalSince(start)
                let eta = elapsed / Double(done) * Double(stage.totalSteps - stage.step)
                log(String(format: "step %d/%d: loss %.5g, %.1f s/step, ETA %@", stage.step, stage.totalSteps, loss,
                           elapsed / Double(done), Self.duration(eta)))
            }
            stage.keepBest()
            let after = stage.best?.loss ?? before
            report.endToEndHeldOut = (before, after)
            report.endToEndSteps = stage.step
            report.endToEndSeconds = Date().timeIntervalSince(start)
        }
        try student.write(to: output, finetuning: options.summary, creator: creator)
        try? FileManager.default.removeItem(atPath: path)
        return report
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}
