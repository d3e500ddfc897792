import Tokenizer

/// Tokenizing a conversation whose contents come from someone else.
extension Generator {
    /// The prompt tokens of a chat in which only the template's own markup may become special
    /// tokens: a `<|im_end|>` typed into a message stays plain text and cannot end the turn or
    /// forge another speaker.
    ///
    /// The template is rendered with a placeholder for each content; the text between the
    /// placeholders (the template's markup, roles and default system prompt) is tokenized with
    /// special tokens, and each content without. Roles are rendered as markup, so callers must
    /// only pass roles from a fixed set. At a content's edges the split may differ from one pass
    /// over the whole text (for leading or trailing whitespace); the text itself is the same.
    public func chatTokens(_ messages: [ChatMessage]) -> [Int32] {
        let placeholders = messages.indices.map { "\u{FFFF}\($0)\u{FFFF}" }
        let skeleton = chatPrompt(zip(messages, placeholders).map { ChatMessage(role: $0.role, content: $1) })
        let tokenizer = model.tokenizer
        /// Tokens of one piece, without the BOS that `encode` puts in front of each call.
        func piece(_ text: Substring, parseSpecial: Bool) -> [Int32] {
            var ids = tokenizer.encode(String(text), parseSpecial: parseSpecial)
            if tokenizer.addBOS, let bos = tokenizer.bosID, ids.first == bos { ids.removeFirst() }
            return ids
        }
        var tokens: [Int32] = []
        if tokenizer.addBOS, let bos = tokenizer.bosID { tokens.append(bos) }
        var rest = skeleton[...]
        for (message, placeholder) in zip(messages, placeholders) {
            // `chatPrompt` renders every message's content exactly once, in order.
            let slot = rest.range(of: placeholder)!
            tokens += piece(rest[..<slot.lowerBound], parseSpecial: true)
            tokens += piece(message.content[...], parseSpecial: false)
            rest = rest[slot.upperBound...]
        }
        tokens += piece(rest, parseSpecial: true)
        return tokens
    }
}
