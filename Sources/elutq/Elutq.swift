import ArgumentParser
import Foundation
import Training

/// The elutq command line: quantize, inspect and benchmark 2-bit HLQ models.
@main
struct Elutq: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "elutq",
        abstract: "2-bit HLQ language models on the CPU, with bit-serial lookup-table kernels.",
        version: "0.1.0",
        subcommands: [QuantizeCommand.self, FinetuneCommand.self, ChatTranscriptsCommand.self, VerifyCommand.self, RunCommand.self, ChatCommand.self, PerplexityCommand.self, BenchCommand.self,
                      QuantizeReportCommand.self, BenchKernelCommand.self,
                      PromptCommand.self, FleetCommand.self, WatchCommand.self, ExporterCommand.self, DashboardCommand.self,
                      KeygenCommand.self, SignCommand.self, PushCommand.self, ModelsCommand.self, UseCommand.self, RmCommand.self])

    /// ArgumentParser's main, except for errors one of our commands throws while it runs (a model
    /// that cannot be loaded, a broker that does not answer): the command line was right, so they
    /// print their message alone and exit 1, not 64 with the usage. Errors in parsing and
    /// `validate()`, an `ExitCode` or `CleanExit` thrown by `run()`, and the commands ArgumentParser
    /// adds itself (`help`, which reports through an error) keep ArgumentParser's handling.
    static func main() {
        var command: ParsableCommand
        do {
            command = try parseAsRoot(withDefaultValues(CommandLine.arguments.dropFirst()))
        } catch {
            exit(withError: error)
        }
        do {
            try command.run()
        } catch {
            guard isOurs(type(of: command)), !(error is ExitCode), !(error is CleanExit) else { exit(withError: error) }
            FileHandle.standardError.write(Data("Error: \(message(for: error))\n".utf8))
            Foundation.exit(EXIT_FAILURE)
        }
    }

    /// Options whose value may be left out, the value a bare one means, and the values it takes:
    /// `quantize --finetune` is `--finetune both`. (ArgumentParser has no option with an optional value.)
    static let defaultValues = ["--finetune": (value: "both", accepted: FinetuneOptions.Stages.allCases.map(\.rawValue))]

    /// The arguments with the default filled in after each option of `defaultValues` that is not
    /// followed by one of its values; only `quantize` takes these options.
    static func withDefaultValues(_ arguments: ArraySlice<String>) -> [String] {
        guard arguments.first == "quantize" else { return Array(arguments) }
        var out: [String] = []
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            out.append(argument)
            if argument == "--" { out += rest; break }
            if let option = defaultValues[argument], !(rest.first.map(option.accepted.contains) ?? false) {
                out.append(option.value)
            }
        }
        return out
    }

    private static func isOurs(_ command: ParsableCommand.Type) -> Bool {
        ([Elutq.self] + configuration.subcommands).contains { $0 == command }
    }
}
