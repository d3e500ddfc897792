import ArgumentParser
import Foundation
import Training

/// `elutq finetune`: train an existing `.hlq` model's scales and midpoints against its float source.
struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Finetune a .hlq model's scales and midpoints against the float model it was made from.",
        discussion: """
            The bit patterns stay as quantization chose them; each group's scales and midpoint are trained \
            (with --finetune-norms, the blocks' norm weights too). \
            Block reconstruction (--stages block) tunes block by block so that each quantized block, fed the \
            quantized stream, reproduces the float block's output; end-to-end tuning (--stages e2e) then trains \
            all of them at once on the whole model's output (knowledge distillation by default). Progress is \
            printed per block and per step. A checkpoint is written after every block and every \
            --checkpoint-every steps; --resume continues an interrupted run to the same result. \
            Calibrate on text other than what you evaluate on.
            """)

    @Argument(help: "The quantized .hlq model.") var input: String
    @Option(help: "The float model it was made from (GGUF file or Hugging Face checkpoint directory).") var source: String
    @Option(help: "Calibration text file; repeat to join several.") var calibrate: [String] = []
    @Option(name: .shortAndLong, help: "The finetuned .hlq file to write.") var output: String
    @Option(help: "Which stages run: block, e2e or both.") var stages = FinetuneOptions.Stages.both
    @OptionGroup(title: "Finetuning") var finetune: FinetuneFlags
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard !calibrate.isEmpty else { throw ValidationError("--calibrate is required: finetuning learns from text") }
    }

    func run() throws {
        _ = try finetune.run(model: input, source: source, texts: calibrate, output: output, stages: stages, common: common)
        print("wrote \(output)")
    }
}
