extension Tokenizer {
    /// The rule that cuts text into words before BPE runs, named as in the GGUF key `tokenizer.ggml.pre`.
    ///
    /// BPE merges never cross a word boundary, so these rules decide much of the final token
    /// sequence. Each model family was trained with one regular expression, and the scanners
    /// below reproduce those expressions by hand rather than through a regex engine: the
    /// patterns need `\p{L}`/`\p{N}` classes and a lookahead, and a direct scan is both faster
    /// and easier to check against llama.cpp's own hand-written splitters.
    ///
    /// - `gpt2`: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    /// - `smollm`: first `\p{N}`, which isolates every digit and leaves the text between digits as
    ///   separate pieces, then the `gpt2` expression on each of those pieces (llama.cpp's
    ///   `smollm` regex list; Hugging Face's `Digits(individual_digits)` + `ByteLevel`).
    /// - `qwen2`: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    /// - `llama3`: as `qwen2`, but with `\p{N}{1,3}` so numbers split into groups of up to three digits.
    public enum PreTokenizer: String, Sendable {
        case gpt2, smollm, qwen2, llama3

        /// Splits `text` into the words BPE sees, as strings, for tests and debugging; `encode`
        /// uses `pieces`, which avoids building a string per word.
        func split(_ text: String) -> [String] {
            let scanner = WordScanner(scalars: Array(text.unicodeScalars))
            var pieces: [Range<Int>] = []
            self.pieces(of: scanner, in: scanner.scalars.indices, into: &pieces)
            return pieces.map { String(String.UnicodeScalarView(scanner.scalars[$0])) }
        }

        /// Appends the word ranges of `scanner.scalars[range]`, in order and covering the range exactly.
        func pieces(of scanner: WordScanner, in range: Range<Int>, into pieces: inout [Range<Int>]) {
            switch self {
            case .gpt2:
                scanner.scan(range, into: &pieces, pieceEnd: scanner.gpt2PieceEnd)
            case .smollm:
                // Digits are words of their own, and they also end the stretch that the GPT-2
                // rule sees: in "a 1" the space is a word, not a prefix of " 1".
                var start = range.lowerBound
                for index in range where scanner.classes[index] == .number {
                    scanner.scan(start..<index, into: &pieces, pieceEnd: scanner.gpt2PieceEnd)
                    pieces.append(index..<index + 1)
                    start = index + 1
                }
                scanner.scan(start..<range.upperBound, into: &pieces, pieceEnd: scanner.gpt2PieceEnd)
            case .qwen2:
                scanner.scan(range, into: &pieces) { scanner.llama3PieceEnd(at: $0, end: $1, maxDigits: 1) }
            case .llama3:
                scanner.scan(range, into: &pieces) { scanner.llama3PieceEnd(at: $0, end: $1, maxDigits: 3) }
            }
        }
    }
}

/// The character classes the pre-tokenizer patterns distinguish: `\p{L}`, `\p{N}`, `\s`, and the rest.
///
/// Unassigned code points are `other`, as in the regular expressions. llama.cpp's tables give
/// them no class at all and make each one a word of its own, a difference that only shows on
/// text with characters newer than its Unicode tables.
enum ScalarClass: UInt8 {
    case letter, number, whitespace, other

    init(_ scalar: Unicode.Scalar) {
        if scalar.isASCII {
            self = ScalarClass.ascii[Int(scalar.value)]
        } else {
            self = ScalarClass(classifying: scalar)
        }
    }

    /// ASCII dominates most text, so its classes are looked up rather than derived each time.
    private static let ascii: [ScalarClass] = (0..<128).map { ScalarClass(classifying: Unicode.Scalar(UInt8($0))) }

    private init(classifying scalar: Unicode.Scalar) {
        let properties = scalar.properties
        if properties.isWhitespace {
            self = .whitespace
            return
        }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            self = .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            self = .number
        default:
            self = .other
        }
    }
}

/// Text prepared for splitting: its scalars, their classes, and the piece rules.
///
/// Each rule answers "where does the word starting at `p` end?" for a stretch that ends at
/// `end`; the stretch matters because `\s+(?!\S)` treats its end like whitespace, and special
/// tokens cut the text into stretches that are split independently.
struct WordScanner {
    let scalars: [Unicode.Scalar]
    /// Computed once up front, since every rule consults them several times per position.
    let classes: [ScalarClass]

    init(scalars: [Unicode.Scalar]) {
        self.scalars = scalars
        self.classes = scalars.map(ScalarClass.init)
    }

    func scan(_ range: Range<Int>, into pieces: inout [Range<Int>], pieceEnd: (Int, Int) -> Int) {
        var start = range.lowerBound
        while start < range.upperBound {
            let end = pieceEnd(start, range.upperBound)
            pieces.append(start..<end)
            start = end
        }
    }

    /// GPT-2: a contraction, or one optional space followed by a run of letters, of digits or of
    /// other symbols, or else whitespace.
    func gpt2PieceEnd(at p: Int, end: Int) -> Int {
        if let contraction = contractionEnd(at: p, end: end, ignoringCase: false) {
            return contraction
        }
        let runStart = scalars[p] == " " && p + 1 < end && classes[p + 1] != .whitespace ? p + 1 : p
        if classes[runStart] != .whitespace {
            return runEnd(from: runStart, end: end, of: classes[runStart])
        }
        return whitespaceEnd(at: p, runEnd: runEnd(from: p, end: end, of: .whitespace), end: end)
    }

    /// Llama 3, and Qwen2 with `maxDigits` 1: contractions in any case; letters with at most one
    /// leading non-letter, non-digit, non-newline character; digits in groups of at most
    /// `maxDigits`; symbols with one optional leading space and any newlines that follow;
    /// whitespace up to its last newline; then the GPT-2 whitespace rule.
    func llama3PieceEnd(at p: Int, end: Int, maxDigits: Int) -> Int {
        if let contraction = contractionEnd(at: p, end: end, ignoringCase: true) {
            return contraction
        }
        let cls = classes[p]
        if cls == .letter {
            return runEnd(from: p, end: end, of: .letter)
        }
        if cls != .number && !isNewline(p) && p + 1 < end && classes[p + 1] == .letter {
            return runEnd(from: p + 1, end: end, of: .letter)
        }
        if cls == .number {
            return min(runEnd(from: p, end: end, of: .number), p + maxDigits)
        }
        let symbolStart = scalars[p] == " " && p + 1 < end && classes[p + 1] == .other ? p + 1 : p
        if classes[symbolStart] == .other {
            var symbolEnd = runEnd(from: symbolStart, end: end, of: .other)
            while symbolEnd < end && isNewline(symbolEnd) {
                symbolEnd += 1
            }
            return symbolEnd
        }
        let spaceEnd = runEnd(from: p, end: end, of: .whitespace)
        if let lastNewline = (p..<spaceEnd).last(where: isNewline) {
            return lastNewline + 1
        }
        return whitespaceEnd(at: p, runEnd: spaceEnd, end: end)
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d`, optionally matching the letters in either case.
    private func contractionEnd(at p: Int, end: Int, ignoringCase: Bool) -> Int? {
        guard scalars[p] == "'", p + 1 < end else { return nil }
        func letter(_ index: Int) -> Unicode.Scalar? {
            guard index < end else { return nil }
            let scalar = scalars[index]
            return ignoringCase ? asciiLowercased(scalar) : scalar
        }
        switch (letter(p + 1), letter(p + 2)) {
        case ("s", _), ("t", _), ("m", _), ("d", _):
            return p + 2
        case ("r", "e"), ("v", "e"), ("l", "l"):
            return p + 3
        default:
            return nil
        }
    }

    /// `\s+(?!\S)|\s+` for a whitespace run `p..<runEnd`: the run minus its last character when
    /// that character would otherwise be left to lead the next word, the whole run when the
    /// stretch ends with it or when it is a single character.
    private func whitespaceEnd(at p: Int, runEnd: Int, end: Int) -> Int {
        runEnd < end && runEnd - p > 1 ? runEnd - 1 : runEnd
    }

    private func runEnd(from start: Int, end: Int, of cls: ScalarClass) -> Int {
        var index = start
        while index < end && classes[index] == cls {
            index += 1
        }
        return index
    }

    private func isNewline(_ index: Int) -> Bool {
        scalars[index] == "\n" || scalars[index] == "\r"
    }

    private func asciiLowercased(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        ("A"..."Z").contains(scalar) ? Unicode.Scalar(scalar.value + 32)! : scalar
    }
}
