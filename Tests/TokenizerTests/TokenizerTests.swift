import Foundation
import XCTest

@testable import Tokenizer

final class TokenizerTests: XCTestCase {
    // MARK: Against the oracle (real SmolLM2 vocabulary)

    func testEncodingMatchesOracle() throws {
        let fixture = try OracleFixture.shared()
        XCTAssertEqual(fixture.tokenizer.preTokenizer, .smollm)
        XCTAssertEqual(fixture.tokenizer.vocabularySize, 49152)
        for encoding in fixture.oracle.encodings {
            let tokenizer = try fixture.tokenizer(for: encoding)
            let ids = tokenizer.encode(encoding.text, parseSpecial: encoding.parseSpecial)
            assertSameSequence(ids, encoding.ids, "\(encoding.kind): \(encoding.name), parseSpecial \(encoding.parseSpecial)")
        }
    }

    func testDecodeInvertsEncode() throws {
        let fixture = try OracleFixture.shared()
        for encoding in fixture.oracle.encodings {
            let tokenizer = try fixture.tokenizer(for: encoding)
            let ids = tokenizer.encode(encoding.text, parseSpecial: encoding.parseSpecial)
            XCTAssertEqual(tokenizer.decode(ids), encoding.text, "\(encoding.kind): \(encoding.name)")
        }
    }

    /// Every pre-tokenizer kind against Python's `regex` module running the documented patterns.
    func testSplitsMatchRegexOracle() throws {
        let fixture = try OracleFixture.shared()
        for split in fixture.oracle.splits {
            let preTokenizer = try XCTUnwrap(Tokenizer.PreTokenizer(rawValue: split.kind))
            assertSameSequence(preTokenizer.split(split.text), split.pieces, "\(split.kind): \(split.name)")
        }
    }

    func testSpecialTokensOfTheRealVocabulary() throws {
        let tokenizer = try OracleFixture.shared().tokenizer
        XCTAssertEqual(tokenizer.tokenID("<|im_start|>"), 1)
        XCTAssertEqual(tokenizer.tokenID("<|im_end|>"), 2)
        XCTAssertNil(tokenizer.tokenID("no such token"))
        XCTAssertEqual(tokenizer.eosID, 2)
        XCTAssertEqual(tokenizer.encode("<|im_end|>"), [2])
        XCTAssertGreaterThan(tokenizer.encode("<|im_end|>", parseSpecial: false).count, 1)
        XCTAssertEqual(tokenizer.decode([1, 2]), "<|im_start|><|im_end|>")
    }

    // MARK: Pre-tokenizer rules, worked out by hand from the patterns

    func testSplitsByHand() {
        let text = "Hello world123  !!\n\n"
        XCTAssertEqual(Tokenizer.PreTokenizer.gpt2.split(text), ["Hello", " world", "123", " ", " !!", "\n\n"])
        XCTAssertEqual(Tokenizer.PreTokenizer.smollm.split(text), ["Hello", " world", "1", "2", "3", " ", " !!", "\n\n"])
        // `[\r\n]*` lets the symbols keep the newlines that follow them.
        XCTAssertEqual(Tokenizer.PreTokenizer.qwen2.split(text), ["Hello", " world", "1", "2", "3", " ", " !!\n\n"])
        XCTAssertEqual(Tokenizer.PreTokenizer.llama3.split(text), ["Hello", " world", "123", " ", " !!\n\n"])
    }

    func testContractionsByHand() {
        let text = "I'LL don't"
        XCTAssertEqual(Tokenizer.PreTokenizer.gpt2.split(text), ["I", "'", "LL", " don", "'t"])
        XCTAssertEqual(Tokenizer.PreTokenizer.qwen2.split(text), ["I", "'LL", " don", "'t"])
        XCTAssertEqual(Tokenizer.PreTokenizer.llama3.split(text), ["I", "'LL", " don", "'t"])
    }

    func testWhitespaceAndDigitsByHand() {
        let text = "x\n\n  y 1234567"
        // GPT-2 keeps newlines in the whitespace run; the run leaves its last space to the word.
        XCTAssertEqual(Tokenizer.PreTokenizer.gpt2.split(text), ["x", "\n\n ", " y", " 1234567"])
        // In "y 1" the space cannot lead the digit, so it stands alone.
        XCTAssertEqual(Tokenizer.PreTokenizer.smollm.split(text),
                       ["x", "\n\n ", " y", " ", "1", "2", "3", "4", "5", "6", "7"])
        // `\s*[\r\n]+` ends whitespace at its last newline; `[^\r\n\p{L}\p{N}]?\p{L}+` lets a
        // space lead a word but not a number.
        XCTAssertEqual(Tokenizer.PreTokenizer.qwen2.split(text),
                       ["x", "\n\n", " ", " y", " ", "1", "2", "3", "4", "5", "6", "7"])
        XCTAssertEqual(Tokenizer.PreTokenizer.llama3.split(text), ["x", "\n\n", " ", " y", " ", "123", "456", "7"])
    }

    // MARK: Small hand-made vocabularies

    func testMergesApplyInRankOrder() throws {
        // "ab" is learned before "bc", so "abc" becomes "ab" + "c" although "bc" is also a token.
        let tokenizer = try byteVocabularyTokenizer(
            extra: [("ab", 1), ("bc", 1), ("abc", 1)], merges: ["a b", "b c", "ab c"])
        XCTAssertEqual(tokenizer.encode("abc"), [258])
        XCTAssertEqual(tokenizer.encode("bcb"), [257, 98])
        XCTAssertEqual(tokenizer.decode([258, 257]), "abcbc")
    }

    func testLlama3TakesWholeWordTokensWithoutMerging() throws {
        // No merge leads to "abc", yet the whole word is a token.
        let extra: [(text: String, type: Int32)] = [("ab", 1), ("abc", 1)]
        let llama3 = try byteVocabularyTokenizer(extra: extra, merges: ["a b"], preTokenizer: .llama3)
        let gpt2 = try byteVocabularyTokenizer(extra: extra, merges: ["a b"], preTokenizer: .gpt2)
        XCTAssertEqual(llama3.encode("abc"), [257])
        XCTAssertEqual(gpt2.encode("abc"), [256, 99])
    }

    func testUserDefinedTokensMatchEvenWithoutParseSpecial() throws {
        let tokenizer = try byteVocabularyTokenizer(extra: [("<ctl>", 3), ("<usr>", 4)])
        XCTAssertEqual(tokenizer.encode("a<ctl><usr>"), [97, 256, 257])
        XCTAssertEqual(tokenizer.encode("a<ctl><usr>", parseSpecial: false), [97] + Array("<ctl>".utf8).map(Int32.init) + [257])
    }

    func testLongestSpecialTokenWins() throws {
        let tokenizer = try byteVocabularyTokenizer(extra: [("<a>", 3), ("<a><b>", 3)])
        XCTAssertEqual(tokenizer.encode("<a><b><a>"), [257, 256])
    }

    func testAddsBOS() throws {
        let tokenizer = try byteVocabularyTokenizer(extra: [("<s>", 3)], bosID: 256, addBOS: true)
        XCTAssertEqual(tokenizer.encode("a"), [256, 97])
        XCTAssertEqual(tokenizer.encode(""), [256])
    }

    func testInvalidIDsDecodeToNothing() throws {
        let tokenizer = try byteVocabularyTokenizer()
        XCTAssertEqual(tokenizer.tokenBytes(-1), [])
        XCTAssertEqual(tokenizer.tokenBytes(Int32(tokenizer.vocabularySize)), [])
        XCTAssertEqual(tokenizer.decode([104, -7, 1_000_000, 105]), "hi")
        // A lone byte of a multi-byte character cannot be text on its own.
        XCTAssertEqual(tokenizer.decode([0xF0]), "\u{FFFD}")
    }

    func testRejectsInconsistentVocabularies() {
        XCTAssertThrowsError(try Tokenizer(tokens: ["a"], merges: [], tokenTypes: [], preTokenizer: .gpt2,
                                           bosID: nil, eosID: nil, addBOS: false)) { error in
            XCTAssertEqual(error as? TokenizerError, .tokenTypeCountMismatch(tokens: 1, tokenTypes: 0))
        }
        XCTAssertThrowsError(try Tokenizer(tokens: ["a"], merges: [], tokenTypes: [1], preTokenizer: .gpt2,
                                           bosID: nil, eosID: 5, addBOS: false)) { error in
            XCTAssertEqual(error as? TokenizerError, .specialTokenOutOfRange(name: "EOS", id: 5))
        }
        XCTAssertThrowsError(try Tokenizer(tokens: ["a"], merges: [], tokenTypes: [1], preTokenizer: .gpt2,
                                           bosID: nil, eosID: nil, addBOS: true)) { error in
            XCTAssertEqual(error as? TokenizerError, .missingBOS)
        }
        XCTAssertThrowsError(try Tokenizer(tokens: ["a"], merges: ["ab"], tokenTypes: [1], preTokenizer: .gpt2,
                                           bosID: nil, eosID: nil, addBOS: false)) { error in
            XCTAssertEqual(error as? TokenizerError, .malformedMerge("ab"))
        }
    }
}
