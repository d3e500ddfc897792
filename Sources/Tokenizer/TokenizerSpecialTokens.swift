/// Finds special tokens such as `<|im_start|>` in raw text, so each becomes one id instead of
/// being spelled out by BPE, and cuts the text around them.
///
/// Matching is exact on Unicode scalars and leftmost-longest: at each position the longest
/// special token that starts there wins, as in Hugging Face's added-token matching. (llama.cpp
/// instead takes one special token at a time, longest first, across the whole text; the two
/// differ only where two special tokens overlap.) The text between matches is split by the
/// pre-tokenizer on its own, so a special token also ends a word.
struct SpecialTokenMatcher: Sendable {
    /// A piece of the input: plain text to pre-tokenize, or a special token already resolved.
    enum Segment {
        case text(Range<Int>)
        case token(Int32)
    }

    private struct Entry: Sendable {
        let scalars: [Unicode.Scalar]
        let id: Int32
        let isControl: Bool
    }

    /// Candidates by first scalar, longest first, so the first match found is the longest.
    private let entriesByFirstScalar: [Unicode.Scalar: [Entry]]

    /// Collects control and user-defined tokens; other types are only reachable through BPE.
    init(tokens: [String], types: [TokenType]) {
        var entries: [Unicode.Scalar: [Entry]] = [:]
        for (index, (text, type)) in zip(tokens, types).enumerated() where type == .control || type == .userDefined {
            let scalars = Array(text.unicodeScalars)
            guard let first = scalars.first else { continue }
            entries[first, default: []].append(Entry(scalars: scalars, id: Int32(index), isControl: type == .control))
        }
        entriesByFirstScalar = entries.mapValues { $0.sorted { $0.scalars.count > $1.scalars.count } }
    }

    /// Cuts `scalars` into text stretches and special tokens, in order.
    ///
    /// Without `matchingControl`, control tokens are left as text (so untrusted input cannot
    /// inject `<|im_end|>`), while user-defined tokens are still matched: they are ordinary
    /// vocabulary added after training, and llama.cpp and Hugging Face treat them that way too.
    func segments(of scalars: [Unicode.Scalar], matchingControl: Bool) -> [Segment] {
        var segments: [Segment] = []
        var textStart = 0
        var index = 0
        while index < scalars.count {
            guard let match = longestMatch(in: scalars, at: index, matchingControl: matchingControl) else {
                index += 1
                continue
            }
            if textStart < index {
                segments.append(.text(textStart..<index))
            }
            segments.append(.token(match.id))
            index += match.scalars.count
            textStart = index
        }
        if textStart < scalars.count {
            segments.append(.text(textStart..<scalars.count))
        }
        return segments
    }

    private func longestMatch(in scalars: [Unicode.Scalar], at index: Int, matchingControl: Bool) -> Entry? {
        guard let candidates = entriesByFirstScalar[scalars[index]] else { return nil }
        return candidates.first { entry in
            (matchingControl || !entry.isControl)
                && entry.scalars.count <= scalars.count - index
                && scalars[index..<(index + entry.scalars.count)].elementsEqual(entry.scalars)
        }
    }
}
