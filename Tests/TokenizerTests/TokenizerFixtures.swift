import Foundation
import TestSupport
import XCTest

@testable import Tokenizer

/// Reference data from `tools/dev/tokenizer-oracle.py` for the real SmolLM2 GGUF, and the Swift
/// tokenizer built from the very same vocabulary.
///
/// The script runs once per test process: it takes a few seconds, and every oracle test needs
/// the same output. A missing model, Python or package fails the tests with the fix to apply,
/// because skipping would hide that nothing was compared. Only a unit-test run
/// (`ELUTQ_TESTS=unit`) skips them, here, since XCTest cases cannot declare `.needs`.
struct OracleFixture: Sendable {
    let oracle: TokenizerOracle
    /// The model's own tokenizer.
    let tokenizer: Tokenizer
    /// The same vocabulary under each pre-tokenizer kind, to check the oracle's swapped-rule encodings.
    let tokenizerByKind: [Tokenizer.PreTokenizer: Tokenizer]

    static func shared() throws -> OracleFixture {
        try XCTSkipIf(TestNeed.unitTestsOnly, "needs the real model and the Python oracle; ELUTQ_TESTS=unit runs unit tests only")
        return try cached.get()
    }

    private static let cached = Result { try OracleFixture() }

    /// The tokenizer under the pre-tokenizer kind an oracle encoding was made with.
    func tokenizer(for encoding: TokenizerOracle.Encoding) throws -> Tokenizer {
        guard let tokenizer = Tokenizer.PreTokenizer(rawValue: encoding.kind).flatMap({ tokenizerByKind[$0] }) else {
            throw TestFailure("unknown pre-tokenizer kind \(encoding.kind)")
        }
        return tokenizer
    }

    private init() throws {
        let model = try realModelPath()
        let output = FileManager.default.temporaryDirectory
            .appendingPathComponent("tokenizer-oracle-\(ProcessInfo.processInfo.processIdentifier).json")
        defer { try? FileManager.default.removeItem(at: output) }
        try runPythonTool("tokenizer-oracle.py", [model, output.path],
                          installHint: "The tokenizer oracle needs python3 and: pip install -r tools/setup/test-requirements.txt")
        oracle = try JSONDecoder().decode(TokenizerOracle.self, from: Data(contentsOf: output))
        let vocab = oracle.vocab
        let kinds: [Tokenizer.PreTokenizer] = [.gpt2, .smollm, .qwen2, .llama3]
        let byKind = try Dictionary(uniqueKeysWithValues: kinds.map { kind in
            (kind, try Tokenizer(tokens: vocab.tokens, merges: vocab.merges, tokenTypes: vocab.tokenTypes,
                                 preTokenizer: kind, bosID: vocab.bosID, eosID: vocab.eosID, addBOS: vocab.addBOS))
        })
        guard let own = Tokenizer.PreTokenizer(rawValue: vocab.pre).flatMap({ byKind[$0] }) else {
            throw TestFailure("unsupported pre-tokenizer \(vocab.pre)")
        }
        tokenizerByKind = byKind
        tokenizer = own
    }
}

/// The JSON `tools/dev/tokenizer-oracle.py` writes; see the script for what each part means.
struct TokenizerOracle: Decodable, Sendable {
    struct Vocab: Decodable, Sendable {
        let tokens: [String]
        let merges: [String]
        let tokenTypes: [Int32]
        let pre: String
        let bosID: Int32?
        let eosID: Int32?
        let addBOS: Bool
        let chatTemplate: String?
    }

    struct Encoding: Decodable, Sendable {
        let kind: String
        let name: String
        let text: String
        let parseSpecial: Bool
        let ids: [Int32]
    }

    struct Split: Decodable, Sendable {
        let kind: String
        let name: String
        let text: String
        let pieces: [String]
    }

    struct Chat: Decodable, Sendable {
        struct Message: Decodable, Sendable {
            let role: String
            let content: String
        }

        let name: String
        let messages: [Message]
        let addGenerationPrompt: Bool
        let rendered: String
    }

    let vocab: Vocab
    let encodings: [Encoding]
    let splits: [Split]
    let chats: [Chat]
}

/// A tiny vocabulary for unit tests: the 256 single-byte tokens (ids 0...255, in byte order),
/// then `extra` tokens written as raw text with their types, joined by `merges` ("a b" lines in
/// raw text too).
func byteVocabularyTokenizer(extra: [(text: String, type: Int32)] = [], merges: [String] = [],
                             preTokenizer: Tokenizer.PreTokenizer = .gpt2,
                             bosID: Int32? = nil, addBOS: Bool = false) throws -> Tokenizer {
    func spelled(_ text: String) -> String { ByteLevel.tokenText(of: Array(text.utf8)) }
    let byteTokens = ByteLevel.scalarForByte.map { String($0) }
    let tokens = byteTokens + extra.map { $0.type == 1 ? spelled($0.text) : $0.text }
    let types = [Int32](repeating: 1, count: 256) + extra.map(\.type)
    let mergeLines = merges.map { $0.split(separator: " ").map { spelled(String($0)) }.joined(separator: " ") }
    return try Tokenizer(tokens: tokens, merges: mergeLines, tokenTypes: types, preTokenizer: preTokenizer,
                         bosID: bosID, eosID: nil, addBOS: addBOS)
}

/// Fails with the first differing position and a little context, since the arrays compared
/// here can hold thousands of elements.
func assertSameSequence<T: Equatable>(_ actual: [T], _ expected: [T], _ label: String,
                                      file: StaticString = #filePath, line: UInt = #line) {
    guard actual != expected else { return }
    let first = zip(actual, expected).enumerated().first { $1.0 != $1.1 }?.offset ?? min(actual.count, expected.count)
    let window = max(0, first - 3)..<(first + 4)
    XCTFail("""
        \(label): differs at index \(first) (counts \(actual.count) vs \(expected.count))
          got      \(actual[window.clamped(to: actual.indices)])
          expected \(expected[window.clamped(to: expected.indices)])
        """, file: file, line: line)
}
