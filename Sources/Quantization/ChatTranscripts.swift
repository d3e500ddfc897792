import Foundation
import Runtime
import Tokenizer

/// Conversations a model holds from a list of questions, written out in its own chat template.
///
/// Calibration sees only the text it is given. Licence texts never show the chat markers or an
/// assistant's turn, and a model calibrated on them alone drifts furthest from the original
/// exactly where it is used: answering chat prompts. The model's own answers to ordinary
/// questions are chat-domain calibration text that needs no data set.
public enum ChatTranscripts {
    public enum Failure: Error, CustomStringConvertible {
        case noChatTemplate
        case noQuestions

        public var description: String {
            switch self {
            case .noChatTemplate: "the model has no ChatML chat template to write conversations in"
            case .noQuestions: "the questions file holds no questions (one per line; blank lines and lines starting with # are skipped)"
            }
        }
    }

    /// The questions of a file: one per line, without blank lines and `#` comments.
    public static func questions(in text: String) throws -> [String] {
        let questions = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard !questions.isEmpty else { throw Failure.noQuestions }
        return questions
    }

    /// One conversation: `question` as the user's turn and the model's answer as the assistant's,
    /// rendered as the template renders a finished conversation (system prompt included).
    public static func conversation(_ generator: Generator, question: String, options: GenerationOptions) throws -> String {
        guard let template = generator.model.chatTemplate else { throw Failure.noChatTemplate }
        let user = ChatMessage(role: "user", content: question)
        let prompt = generator.model.tokenizer.encode(generator.chatPrompt([user]), parseSpecial: true)
        let answer = try generator.generate(prompt, options: options).text
        return template.render([user, ChatMessage(role: "assistant", content: answer)], addGenerationPrompt: false)
    }
}
