import ArgumentParser
import Foundation
import Parallel
import Runtime
import Tokenizer

/// `elutq chat`: an interactive chat that keeps the conversation's history.
struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat with a model interactively; the conversation's history is kept.",
        discussion: """
            Type a message and press enter. /reset clears the history, /exit (or end of input) quits. \
            When the history outgrows the context, the oldest turns are dropped.
            """)

    @Argument(help: "A .hlq model, a GGUF file or a Hugging Face checkpoint directory.") var model: String
    @Option(help: "A system message to start the conversation with.") var system: String?
    @OptionGroup var generation: GenerationFlags
    @OptionGroup var kernel: KernelOptions
    @OptionGroup var common: CommonOptions

    func run() throws {
        let pool = ThreadPool(threadCount: common.threads)
        let loaded = try common.loadModel(model, pool: pool, arithmetic: kernel.arithmetic())
        let generator = Generator(model: loaded, contextLength: generation.ctx, pool: pool)
        let start: [ChatMessage] = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
        var history = start
        common.log("chatting with \(model); /reset clears the history, /exit quits")
        while true {
            if !common.json { FileHandle.standardError.write(Data("> ".utf8)) }
            guard let line = readLine(strippingNewline: true) else { break }
            let message = line.trimmingCharacters(in: .whitespaces)
            if message.isEmpty { continue }
            if message == "/exit" { break }
            if message == "/reset" {
                history = start
                continue
            }
            history.append(ChatMessage(role: "user", content: message))
            var tokens = loaded.tokenizer.encode(generator.chatPrompt(history))
            // Keep room for the answer: drop the oldest exchanges (never the system message).
            while tokens.count + generation.maxTokens > generation.ctx && history.count > start.count + 1 {
                history.remove(at: start.count)
                tokens = loaded.tokenizer.encode(generator.chatPrompt(history))
            }
            do {
                let result = try generator.generate(tokens, options: generation.options, onText: { piece in
                    FileHandle.standardOutput.write(Data(piece.utf8))
                    return true
                })
                print()
                history.append(ChatMessage(role: "assistant", content: result.text))
                common.log(String(format: "[%d tokens, %.1f tok/s]", result.tokensOut, result.tokensPerSecond))
            } catch {
                common.log("error: \(error)")
                history.removeLast()
            }
        }
    }
}
