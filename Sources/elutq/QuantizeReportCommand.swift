import ArgumentParser

/// `elutq quantize-report`: fits every linear weight matrix of a GGUF model with HLQ and uniform.
struct QuantizeReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize-report",
        abstract: "Fit every linear weight matrix of a model with HLQ and uniform and compare their errors.")
    func run() throws {}
}
