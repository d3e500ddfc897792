import ArgumentParser

/// The elutq command line: quantize, inspect and benchmark 2-bit HLQ models.
@main
struct Elutq: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "elutq",
        abstract: "2-bit HLQ language models on the CPU, with bit-serial lookup-table kernels.",
        version: "0.1.0",
        subcommands: [QuantizeCommand.self, FinetuneCommand.self, ChatTranscriptsCommand.self, VerifyCommand.self, RunCommand.self, ChatCommand.self, PerplexityCommand.self, BenchCommand.self,
                      QuantizeReportCommand.self, BenchKernelCommand.self,
                      PromptCommand.self, FleetCommand.self, WatchCommand.self,
                      KeygenCommand.self, SignCommand.self, PushCommand.self, ModelsCommand.self, UseCommand.self, RmCommand.self])
}
