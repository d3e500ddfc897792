import Foundation
import Testing
import TestSupport

/// `elutq chat-transcripts`, run as the built executable on the real SmolLM2: the conversations it
/// writes are the model's chat template around each question and answer, reproducible from the seed.
@Suite(.needs(.executables, .realModel)) struct ChatTranscriptsCommandLineTests {
    @Test func writesOneTemplatedConversationPerQuestion() throws {
        let model = try realModelPath()
        try withTemporaryDirectory { directory in
            let questions = directory.appendingPathComponent("questions.txt")
            try "# a comment\nWhat is the capital of France?\n\n  Name a colour.  \n".write(to: questions, atomically: true, encoding: .utf8)
            func transcripts(_ name: String) throws -> String {
                let output = directory.appendingPathComponent(name).path
                let result = try run("elutq", ["chat-transcripts", model, "--questions", questions.path, "-o", output,
                                               "--max-tokens", "8", "--seed", "5"])
                #expect(result.status == 0, "\(result.stderr)")
                #expect(result.stderr.contains("wrote 2 conversations"), "\(result.stderr)")
                return try String(contentsOfFile: output, encoding: .utf8)
            }
            let text = try transcripts("a.txt")
            let conversations = text.components(separatedBy: "<|im_start|>system\n").dropFirst()
            #expect(conversations.count == 2, "\(text)")
            for (conversation, question) in zip(conversations, ["What is the capital of France?", "Name a colour."]) {
                #expect(conversation.contains("<|im_start|>user\n\(question)<|im_end|>\n<|im_start|>assistant\n"), "\(conversation)")
                #expect(conversation.hasSuffix("<|im_end|>\n"), "\(conversation)")
                let answer = conversation.components(separatedBy: "<|im_start|>assistant\n").last!.dropLast("<|im_end|>\n".count)
                #expect(!answer.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "an empty answer")
            }
            #expect(try transcripts("b.txt") == text, "the same seed gave other answers")
        }
    }

    @Test func aQuestionListWithoutQuestionsIsRefused() throws {
        let model = try realModelPath()
        try withTemporaryDirectory { directory in
            let questions = directory.appendingPathComponent("questions.txt")
            try "# only a comment\n\n".write(to: questions, atomically: true, encoding: .utf8)
            let output = directory.appendingPathComponent("out.txt").path
            for path in [questions.path, directory.appendingPathComponent("missing.txt").path] {
                let result = try run("elutq", ["chat-transcripts", model, "--questions", path, "-o", output])
                #expect(result.status != 0)
                #expect(result.stderr.contains("no questions") || result.stderr.contains("cannot read --questions"), "\(result.stderr)")
                #expect(!FileManager.default.fileExists(atPath: output))
            }
        }
    }
}
