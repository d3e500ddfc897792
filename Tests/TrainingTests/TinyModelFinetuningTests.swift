import Foundation
import ModelFile
import Parallel
import Testing
import TestSupport
import Training
import Evaluation
import Runtime

/// Finetuning a small random model end to end: each stage lowers what it minimises, and a run
/// resumed from a checkpoint writes the very model an uninterrupted run writes.
@Suite struct TinyModelFinetuningTests {
    static func options(_ stages: FinetuneOptions.Stages) -> FinetuneOptions {
        var o = FinetuneOptions()
        o.stages = stages
        o.samples = 12
        o.length = 48
        o.heldOutEvery = 4
        o.epochs = 3
        // The tiny model's group scales are about 0.15: these move them as 2e-3 and 1e-3 would in
        // absolute terms.
        o.blockLearningRate = 1.3e-2
        o.endToEndLearningRate = 7e-3
        o.checkpointEvery = 4
        return o
    }

    static func finetune(_ model: TinyModel, _ options: FinetuneOptions, output: String, checkpoint: String,
                         resume: Bool = false, log: (String) -> Void = { _ in }) throws -> FinetuneReport {
        let finetuner = try Finetuner(model: model.quantized, source: model.source, text: try TinyModel.text(), options: options,
                                      pool: ThreadPool(threadCount: 2))
        return try finetuner.run(output: output, checkpoint: checkpoint, resume: resume, creator: "test", log: log)
    }

    @Test func blockReconstructionLowersEveryBlocksHeldOutError() throws {
        try withTemporaryDirectory { directory in
            let model = try TinyModel(in: directory)
            let out = directory.appendingPathComponent("out.hlq").path
            let report = try Self.finetune(model, Self.options(.block), output: out, checkpoint: out + ".checkpoint")
            #expect(report.blocks.count == TinyModel.config.layers)
            for block in report.blocks {
                #expect(block.heldOutLoss.after < block.heldOutLoss.before, "block \(block.block): \(block.heldOutLoss)")
            }
            // The written model holds the trained parameters: the same bits, other scales.
            let before = try HLQFile(path: model.quantized), after = try HLQFile(path: out)
            let name = "blk.0.attn_q.weight"
            let (bitsBefore, paramsBefore) = before.hlqParts(of: before.tensor(named: name)!)
            let (bitsAfter, paramsAfter) = after.hlqParts(of: after.tensor(named: name)!)
            #expect(Array(bitsBefore) == Array(bitsAfter))
            #expect(Array(paramsBefore) != Array(paramsAfter))
            #expect(after.metadata.recipe.finetuning != nil)
            #expect(!FileManager.default.fileExists(atPath: out + ".checkpoint"), "a finished run removes its checkpoint")
        }
    }

    /// Also with the head a 4-bit HLQ tensor of its own, which stays frozen: written back as it was.
    @Test(arguments: [(FinetuneOptions.Objective.distillation, nil), (.nextToken, nil), (.distillation, 4)])
    func endToEndTuningLowersTheHeldOutLoss(objective: FinetuneOptions.Objective, headBits: Int?) throws {
        try withTemporaryDirectory { directory in
            let model = try TinyModel(in: directory, headBits: headBits)
            let out = directory.appendingPathComponent("out.hlq").path
            var options = Self.options(.e2e)
            options.objective = objective
            let report = try Self.finetune(model, options, output: out, checkpoint: out + ".checkpoint")
            let heldOut = try #require(report.endToEndHeldOut)
            #expect(heldOut.after < heldOut.before, "\(heldOut)")
            #expect(report.endToEndSteps == options.epochs * 9)
            let before = try HLQFile(path: model.quantized), after = try HLQFile(path: out)
            #expect(before.tensor(named: "output.weight").map { Array(before.data(of: $0)) }
                    == after.tensor(named: "output.weight").map { Array(after.data(of: $0)) })
        }
    }

    /// End-to-end tuning keeps the parameters with the lowest held-out loss: at a learning rate
    /// that wrecks the model, that is the model it started from, written back unchanged.
    @Test func endToEndTuningNeverWritesAWorseModel() throws {
        try withTemporaryDirectory { directory in
            let model = try TinyModel(in: directory)
            let out = directory.appendingPathComponent("out.hlq").path
            var options = Self.options(.e2e)
            options.endToEndLearningRate = 1e4
            var epochs: [String] = []
            let report = try Self.finetune(model, options, output: out, checkpoint: out + ".checkpoint") { message in
                if message.hasPrefix("epoch") { epochs.append(message) }
            }
            let heldOut = try #require(report.endToEndHeldOut)
            #expect(heldOut.after == heldOut.before, "\(heldOut); \(epochs)")
            #expect(epochs.count == options.epochs && !epochs.contains { $0.contains("kept") }, "\(epochs)")
            let before = try HLQFile(path: model.quantized), after = try HLQFile(path: out)
            for t in before.tensors {
                let same = try #require(after.tensor(named: t.name))
                #expect(Array(before.data(of: t)) == Array(after.data(of: same)), "\(t.name)")
            }
        }
    }

    /// A run stopped right after a checkpoint (a block boundary, or an end-to-end checkpoint) and
    /// resumed gives the same tensors, bit for bit, as the run that was never stopped, whether or
    /// not the norms train (trained, the checkpoint and the written model carry them).
    @Test(arguments: [("block 2/3", false), ("block 2/3", true), ("step 8/27", true)])
    func resumingGivesTheUninterruptedResult(stopAfter line: String, trainNorms: Bool) throws {
        var options = Self.options(.both)
        options.trainNorms = trainNorms
        try withTemporaryDirectory { directory in
            let model = try TinyModel(in: directory)
            let whole = directory.appendingPathComponent("whole.hlq").path
            let checkpoint = directory.appendingPathComponent("run.checkpoint").path
            let saved = directory.appendingPathComponent("saved.checkpoint").path
            var copied = false
            _ = try Self.finetune(model, options, output: whole, checkpoint: checkpoint) { message in
                // The checkpoint as a process killed at this point would have left it.
                if message.hasPrefix(line + ":") {
                    copied = (try? FileManager.default.copyItem(atPath: checkpoint, toPath: saved)) != nil
                }
            }
            #expect(copied, "the run logged '\(line)' after writing a checkpoint")
            try FileManager.default.moveItem(atPath: saved, toPath: checkpoint)
            let resumed = directory.appendingPathComponent("resumed.hlq").path
            var resumedFrom = ""
            _ = try Self.finetune(model, options, output: resumed, checkpoint: checkpoint, resume: true) { message in
                if message.hasPrefix("resuming") { resumedFrom = message }
            }
            #expect(!resumedFrom.isEmpty)
            let a = try HLQFile(path: whole), b = try HLQFile(path: resumed)
            #expect(a.tensors == b.tensors, "every tensor's offset, size and CRC-32C")
            for t in a.tensors { #expect(Array(a.data(of: t)) == Array(b.data(of: t)), "\(t.name)") }
            let source = try HLQFile(path: model.quantized), norm = "blk.1.ffn_norm.weight"
            let changed = Array(source.floats(of: source.tensor(named: norm)!)) != Array(a.floats(of: a.tensor(named: norm)!))
            #expect(changed == trainNorms, "the norms change exactly when they train")
        }
    }

    /// A finished block stage is the same whether end-to-end tuning follows: a `both` run stopped
    /// after its last block and resumed with `block` writes what a block-only run writes, and a
    /// checkpoint cannot be resumed into a stage it has not reached or has gone past.
    @Test func aResumedRunMayStopAfterTheBlocksOrGoOn() throws {
        try withTemporaryDirectory { directory in
            let model = try TinyModel(in: directory)
            let blocksOnly = directory.appendingPathComponent("blocks.hlq").path
            _ = try Self.finetune(model, Self.options(.block), output: blocksOnly,
                                  checkpoint: directory.appendingPathComponent("blocks.checkpoint").path)
            let checkpoint = directory.appendingPathComponent("run.checkpoint").path
            let afterBlocks = directory.appendingPathComponent("after-blocks.checkpoint").path
            let afterSteps = directory.appendingPathComponent("after-steps.checkpoint").path
            let midBlocks = directory.appendingPathComponent("mid-blocks.checkpoint").path
            _ = try Self.finetune(model, Self.options(.both), output: directory.appendingPathComponent("both.hlq").path,
                                  checkpoint: checkpoint) { message in
                for (line, copy) in [("block 1/3", midBlocks), ("block 3/3", afterBlocks), ("step 4/27", afterSteps)]
                where message.hasPrefix(line + ":") {
                    try? FileManager.default.copyItem(atPath: checkpoint, toPath: copy)
                }
            }
            for copy in [midBlocks, afterBlocks, afterSteps] { #expect(FileManager.default.fileExists(atPath: copy)) }
            let stopped = directory.appendingPathComponent("stopped.hlq").path
            _ = try Self.finetune(model, Self.options(.block), output: stopped, checkpoint: afterBlocks, resume: true)
            let a = try HLQFile(path: blocksOnly), b = try HLQFile(path: stopped)
            #expect(a.tensors == b.tensors, "every tensor's offset, size and CRC-32C")
            #expect(throws: FinetuneError.checkpointMismatch("it is 4 steps into end-to-end tuning; resume with --stages e2e or both")) {
                _ = try Self.finetune(model, Self.options(.block), output: stopped, checkpoint: afterSteps, resume: true)
            }
            #expect(throws: FinetuneError.checkpointMismatch("its block reconstruction stopped at block 1 of 3; resume with --stages block or both")) {
                _ = try Self.finetune(model, Self.options(.e2e), output: stopped, checkpoint: midBlocks, resume: true)
            }
        }
    }

    @Test func aModelWithoutHLQMatricesIsRefused() throws {
        try withTemporaryDirectory { directory in
            let model = try TinyModel(in: directory)
            #expect(throws: FinetuneError.notQuantized(model.source)) {
                _ = try Finetuner(model: model.source, source: model.source, text: try TinyModel.text(),
                                  options: Self.options(.both), pool: ThreadPool(threadCount: 1))
            }
        }
    }

    @Test func aCheckpointOfAnotherRunIsRefused() throws {
        try withTemporaryDirectory { directory in
            let model = try TinyModel(in: directory)
            let out = directory.appendingPathComponent("out.hlq").path
            let checkpoint = directory.appendingPathComponent("run.checkpoint").path
            var options = Self.options(.block)
            _ = try Self.finetune(model, options, output: out, checkpoint: checkpoint) { message in
                if message.hasPrefix("block 1/3:") { try? FileManager.default.copyItem(atPath: checkpoint, toPath: checkpoint + ".kept") }
            }
            try FileManager.default.moveItem(atPath: checkpoint + ".kept", toPath: checkpoint)
            options.blockLearningRate = 1e-2
            #expect(throws: FinetuneError.self) {
                try Self.finetune(model, options, output: out, checkpoint: checkpoint, resume: true)
            }
            try Data("ELUTQCKP\u{7}".utf8).write(to: URL(fileURLWithPath: checkpoint))
            #expect(throws: FinetuneError.self) {
                try Self.finetune(model, Self.options(.block), output: out, checkpoint: checkpoint, resume: true)
            }
        }
    }
}

/// The training forward scores a model as `elutq ppl` does on the runtime's LUT kernels, with
/// the head tied to float embeddings or stored apart as 4-bit HLQ (as `quantize` stores an untied
/// head, here in groups of 32).
@Suite struct TrainingForwardTests {
    @Test(arguments: [nil, 4])
    func perplexityMatchesTheRuntimes(headBits: Int?) throws {
        try withTemporaryDirectory { directory in
            let model = try TinyModel(in: directory, headBits: headBits)
            let pool = ThreadPool(threadCount: 2)
            let loaded = try LoadedModel.open(model.quantized, pool: pool)
            let tokens = loaded.tokenizer.encode(try TinyModel.text())
            let context = 64
            let runtime = try Perplexity.evaluate(Transformer(weights: loaded.weights, contextLength: context, pool: pool),
                                                  tokens: tokens, context: context, bos: nil).ppl
            let training = ModelPass(student: try StudentModel(path: model.quantized), teacher: nil, length: context, pool: pool)
                .perplexity(tokens, bos: nil)
            #expect(abs(training / runtime - 1) < 0.005, "training forward \(training), runtime \(runtime)")
        }
    }
}
