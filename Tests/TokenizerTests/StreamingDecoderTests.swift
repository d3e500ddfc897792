import XCTest

@testable import Tokenizer

final class StreamingDecoderTests: XCTestCase {
    private let multiByteText = "Robot 🤖, family 👨‍👩‍👧‍👦, 中文 and café! 👍🏽"

    /// With one token per byte, every multi-byte character arrives in pieces.
    func testByteTokensNeverSplitCharacters() throws {
        let tokenizer = try byteVocabularyTokenizer()
        let ids = tokenizer.encode(multiByteText)
        XCTAssertEqual(ids.count, multiByteText.utf8.count)
        assertWholeCharacterChunks(tokenizer, ids)
    }

    func testRealVocabularyNeverSplitsCharacters() throws {
        let fixture = try OracleFixture.shared()
        for encoding in fixture.oracle.encodings where ["emoji", "cjk", "mixed scripts", "symbols"].contains(encoding.name) {
            assertWholeCharacterChunks(try fixture.tokenizer(for: encoding), encoding.ids, "\(encoding.kind): \(encoding.name)")
        }
        assertWholeCharacterChunks(fixture.tokenizer, fixture.tokenizer.encode(multiByteText))
    }

    func testFlushReturnsAnUnfinishedCharacter() throws {
        let tokenizer = try byteVocabularyTokenizer()
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        XCTAssertEqual(decoder.push(Int32(UInt8(ascii: "a"))), "a")
        XCTAssertEqual(decoder.push(0xF0), "")
        XCTAssertEqual(decoder.push(0x9F), "")
        XCTAssertEqual(decoder.flush(), "\u{FFFD}")
        XCTAssertEqual(decoder.flush(), "")
    }

    func testInvalidIDsYieldNothing() throws {
        var decoder = StreamingDecoder(tokenizer: try byteVocabularyTokenizer())
        XCTAssertEqual(decoder.push(-1), "")
        XCTAssertEqual(decoder.push(999_999), "")
        XCTAssertEqual(decoder.flush(), "")
    }

    /// Stray bytes must not stall the stream: they come out as U+FFFD right away, as in `decode`.
    func testInvalidBytesPassThroughAsReplacement() throws {
        let tokenizer = try byteVocabularyTokenizer()
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        XCTAssertEqual(decoder.push(0x80), "\u{FFFD}")
        XCTAssertEqual(decoder.push(0xE4), "")
        XCTAssertEqual(decoder.push(Int32(UInt8(ascii: "x"))), "\u{FFFD}x")
    }

    private func assertWholeCharacterChunks(_ tokenizer: Tokenizer, _ ids: [Int32], _ label: String = "",
                                            file: StaticString = #filePath, line: UInt = #line) {
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var chunks = ids.map { decoder.push($0) }
        chunks.append(decoder.flush())
        let whole = tokenizer.decode(ids)
        XCTAssertEqual(chunks.joined(), whole, label, file: file, line: line)
        XCTAssertFalse(whole.contains("\u{FFFD}"), label, file: file, line: line)
        for chunk in chunks {
            XCTAssertFalse(chunk.contains("\u{FFFD}"), "\(label): chunk \(chunk.debugDescription)", file: file, line: line)
        }
    }
}
