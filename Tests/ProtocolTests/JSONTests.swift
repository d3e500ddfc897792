import Protocol
import Testing

/// The JSON value type over json-c: what it accepts, what it refuses, and how it prints.
@Suite struct JSONTests {
    @Test func parsesEveryKindOfValue() throws {
        let document = try JSON(parsing: Array(#"{"s":"h\u00e9\n","i":-42,"d":0.5,"b":true,"n":null,"a":[1,"x"],"o":{"k":[]}}"#.utf8))
        #expect(document == ["s": "hé\n", "i": -42, "d": 0.5, "b": true, "n": nil, "a": [1, "x"], "o": ["k": []]])
        #expect(document["i"]?.int == -42)
        #expect(document["d"]?.number == 0.5)
        #expect(document["s"]?.int == nil)
    }

    @Test func bareValuesAndWhitespaceAreDocuments() throws {
        #expect(try JSON(parsing: Array("42".utf8)) == 42)
        #expect(try JSON(parsing: Array(" \"x\" \n".utf8)) == "x")
    }

    @Test func stringsKeepEmbeddedNUL() throws {
        let document = try JSON(parsing: Array(#"["a\u0000b"]"#.utf8))
        #expect(document.array?.first?.string == "a\u{0}b")
        #expect(document.serialized == #"["a\u0000b"]"#)
    }

    @Test func refusesWhatIsNotOneDocument() {
        #expect(throws: JSONParseError.invalidUTF8) { try JSON(parsing: [0x7B, 0xFF, 0x7D]) }
        #expect(throws: JSONParseError.trailingCharacters) { try JSON(parsing: Array("{}\u{0}{}".utf8)) }
        #expect(throws: JSONParseError.tooDeep) { try JSON(parsing: Array((String(repeating: "[", count: 40) + String(repeating: "]", count: 40)).utf8)) }
        for text in ["", "{", "{\"a\":}", "[1,]", "nul", "{} {}", "[1] x", "/* c */ 1", "\"unterminated"] {
            #expect(throws: JSONParseError.self, "\(text)") { try JSON(parsing: Array(text.utf8)) }
        }
    }

    @Test func aLoneSurrogateBecomesTheReplacementCharacter() throws {
        #expect(try JSON(parsing: Array(#"["\ud800x"]"#.utf8)) == ["\u{FFFD}x"])
    }

    @Test func printsSortedCompactAndShortest() {
        let document: JSON = ["b": 0.1, "a": [true, nil], "c": "/é\"", "d": 3]
        #expect(document.serialized == #"{"a":[true,null],"b":0.1,"c":"/é\"","d":3}"#)
        #expect(JSON(Double.nan) == .null)
    }

    @Test func roundTrips() throws {
        let document: JSON = ["text": "line\nbreak \u{1F600}", "values": [1, -2.25, 1e300, 0], "empty": "", "nested": ["x": [[]]]]
        #expect(try JSON(parsing: document.bytes) == document)
    }
}
