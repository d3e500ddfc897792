import ArgumentParser
import Foundation
import Parallel
import Quantization
import Runtime

/// `elutq chat-transcripts`: the model answers a list of questions, written out as chat-template
/// conversations for `elutq quantize --calibrate`.
struct ChatTranscriptsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-transcripts",
        abstract: "Have a model answer a list of questions and write the conversations as calibration text.",
        discussion: """
            Each line of --questions (blank lines and # comments skipped) becomes a user turn, and the \
            model's sampled answer the assistant's, in the model's chat template. Pass the output to \
            `elutq quantize --calibrate` beside other texts: a model calibrated on licence texts alone \
            drifts furthest from the original on chat, where it is used. Question i is sampled with seed \
            --seed + i, so the output is reproducible. The file is written to a temporary name and \
            renamed when complete.
            """)

    @Argument(help: "The model that answers: the original GGUF or checkpoint, or a .hlq model.") var model: String
    @Option(help: "A text file with one question per line.") var questions: String
    @Option(name: .shortAndLong, help: "The calibration text file to write.") var output: String
    @Option(name: .customLong("max-tokens"), help: "Most tokens per answer.") var maxTokens = 160
    @Option(help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0.7
    @Option(help: "The seed of the first question.") var seed: UInt64 = 1
    @OptionGroup var kernel: KernelOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard maxTokens > 0 else { throw ValidationError("--max-tokens must be positive") }
        guard temperature >= 0 else { throw ValidationError("--temperature must be 0 or more") }
    }

    func run() throws {
        let list = try ChatTranscripts.questions(in: try readText(questions, option: "questions"))
        let pool = ThreadPool(threadCount: common.threads)
        let loaded = try common.loadModel(model, pool: pool, arithmetic: kernel.arithmetic())
        let generator = Generator(model: loaded, contextLength: 2048, pool: pool)
        var sampling = SamplingParameters()
        sampling.temperature = temperature
        var transcripts = ""
        let start = Date()
        for (index, question) in list.enumerated() {
            sampling.seed = seed &+ UInt64(index)
            transcripts += try ChatTranscripts.conversation(
                generator, question: question, options: GenerationOptions(maxTokens: maxTokens, sampling: sampling))
            common.progress("[\(index + 1)/\(list.count)] answered, \(Int(Date().timeIntervalSince(start))) s")
        }
        common.endProgress()
        do { try Data(transcripts.utf8).write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
            throw ValidationError("cannot write \(output): \(error.localizedDescription)")
        }
        common.log("wrote \(list.count) conversations to \(output) (\(transcripts.utf8.count) bytes)")
    }
}
