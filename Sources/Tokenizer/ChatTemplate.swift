/// One turn of a conversation.
public struct ChatMessage: Sendable, Hashable {
    /// "system", "user" or "assistant" in ChatML; passed through as written.
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// Renders conversations in ChatML, the format of models whose GGUF `tokenizer.chat_template` uses `<|im_start|>`.
///
/// GGUF ships its chat format as a Jinja program. Rather than run Jinja, this recognises the
/// ChatML family, which all render each message the same way, and reads from the template the
/// one thing they differ in: the system prompt some of them insert when the conversation does
/// not start with one (SmolLM2's "You are a helpful AI assistant named SmolLM, …").
public struct ChatTemplate: Sendable {
    /// The system prompt rendered before a conversation whose first message is not a system one.
    public let defaultSystemPrompt: String?

    /// Returns nil for templates that are not ChatML.
    public init?(template: String) {
        guard template.contains("<|im_start|>") else { return nil }
        defaultSystemPrompt = Self.defaultSystemPrompt(in: template)
    }

    /// `<|im_start|>role\ncontent<|im_end|>\n` per message, plus `<|im_start|>assistant\n` to
    /// let the model answer when `addGenerationPrompt` is set.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        var turns = messages
        if let defaultSystemPrompt, let first = messages.first, first.role != "system" {
            turns.insert(ChatMessage(role: "system", content: defaultSystemPrompt), at: 0)
        }
        var text = turns.map { "<|im_start|>\($0.role)\n\($0.content)<|im_end|>\n" }.joined()
        if addGenerationPrompt {
            text += "<|im_start|>assistant\n"
        }
        return text
    }

    /// Finds a system turn written out as a constant in the template, e.g.
    /// `'<|im_start|>system\nYou are …<|im_end|>\n'`.
    ///
    /// Only a prompt that lies entirely inside one quoted Jinja string counts; a system turn
    /// assembled from `message['content']` closes the string before `<|im_end|>` and is skipped.
    /// The newline after "system" may be a real newline (SmolLM2) or the escape `\n` (Qwen2).
    private static func defaultSystemPrompt(in template: String) -> String? {
        let opening = "<|im_start|>system"
        var searchStart = template.startIndex
        while let found = template[searchStart...].firstRange(of: opening) {
            searchStart = found.upperBound
            guard found.lowerBound > template.startIndex else { continue }
            let quote = template[template.index(before: found.lowerBound)]
            guard quote == "'" || quote == "\"" else { continue }
            var rest = template[found.upperBound...]
            if rest.hasPrefix("\n") {
                rest = rest.dropFirst()
            } else if rest.hasPrefix("\\n") {
                rest = rest.dropFirst(2)
            } else {
                continue
            }
            guard let end = rest.firstRange(of: "<|im_end|>"),
                  let prompt = unescapedLiteral(rest[..<end.lowerBound], quote: quote)
            else { continue }
            return prompt
        }
        return nil
    }

    /// The value of the inside of a Jinja string literal, or nil if the literal ends before `raw` does.
    private static func unescapedLiteral(_ raw: Substring, quote: Character) -> String? {
        var value = ""
        var escaping = false
        for character in raw {
            if escaping {
                value.append(character == "n" ? "\n" : character == "t" ? "\t" : character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else if character == quote {
                return nil
            } else {
                value.append(character)
            }
        }
        return escaping ? nil : value
    }
}
