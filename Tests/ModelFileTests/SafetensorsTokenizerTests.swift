import TestSupport
import Foundation
import Testing
import ModelFile

/// tokenizer.json, tokenizer_config.json and chat_template.jinja of a checkpoint, read into a
/// `TokenizerSpec` as llama.cpp's converter would have filled a GGUF.
@Suite struct SafetensorsTokenizerTests {
    private func spec(_ fixture: CheckpointFixture) throws -> TokenizerSpec {
        try fixture.open { source in source.tokenizer }
    }

    private static let qwen2Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    private static let llama3Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// Vocabulary ids in order, added tokens by their literal text (one past the vocabulary size),
    /// and the ids no token has padded up to config.json's vocab_size, as llama.cpp pads them.
    @Test func vocabularyInIDOrder() throws {
        let tokenizer = try spec(.llama())
        #expect(tokenizer.tokens == ["a", "b", "ab", "Ġ", "<|end|>", "[PAD5]", "[PAD6]", "<tool>"])
        #expect(tokenizer.tokenTypes == [1, 1, 1, 1, 3, 5, 5, 4])
        #expect(tokenizer.merges == ["a b", "Ġ a"])
        #expect(tokenizer.preTokenizer == "gpt2")
        #expect(tokenizer.bosID == 0, "config.json's id, without a tokenizer_config.json")
        #expect(tokenizer.eosID == 4)
        #expect(!tokenizer.addBOS)
        #expect(tokenizer.chatTemplate == nil)
    }

    /// tokenizers 0.20 and later write merges as pairs.
    @Test func mergesAsPairs() throws {
        var fixture = CheckpointFixture.llama()
        fixture.setModel("merges", [["a", "b"], ["Ġ", "a"]])
        #expect(try spec(fixture).merges == ["a b", "Ġ a"])
        fixture.setModel("merges", [["a", "b", "c"]])
        try fixture.expectOpeningError("tokenizer.json: 'model.merges[0]': a merge of 3 parts instead of 2")
    }

    /// tokenizer_config.json names the tokens by text, as a string or an AddedToken object, and wins over config.json.
    @Test func specialTokensFromTheTokenizerConfig() throws {
        var fixture = CheckpointFixture.llama()
        fixture.tokenizerConfig = ["bos_token": ["content": "<|end|>", "lstrip": false, "special": true],
                                   "eos_token": "<tool>", "chat_template": "{{ messages }}"]
        let tokenizer = try spec(fixture)
        #expect(tokenizer.bosID == 4)
        #expect(tokenizer.eosID == 7)
        #expect(tokenizer.chatTemplate == "{{ messages }}")
        fixture.tokenizerConfig = ["eos_token": "<|im_end|>"]
        try fixture.expectOpeningError("tokenizer_config.json names special token '<|im_end|>', which is not in the vocabulary")
    }

    /// config.json ids: Llama 3.1 lists several end tokens, Qwen2 has no BOS.
    @Test func specialTokensFromTheConfig() throws {
        var fixture = CheckpointFixture.llama()
        fixture.config["eos_token_id"] = [4, 2]
        fixture.config["bos_token_id"] = NSNull()
        fixture.tokenizerConfig = ["bos_token": NSNull()]
        let tokenizer = try spec(fixture)
        #expect(tokenizer.eosID == 4)
        #expect(tokenizer.bosID == nil)
        fixture.config["eos_token_id"] = 99
        try fixture.expectOpeningError("config.json: special token id 99 is outside the vocabulary of 8 tokens")
    }

    /// add_bos_token when tokenizer_config.json says; otherwise whether the post-processor's
    /// template starts with BOS, as Llama 3's does.
    @Test func addingBOS() throws {
        var fixture = CheckpointFixture.llama()
        let template: [String: Any] = ["type": "TemplateProcessing", "single": [
            ["SpecialToken": ["id": "a", "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]]]]
        fixture.tokenizer["post_processor"] = template
        #expect(try spec(fixture).addBOS)
        fixture.tokenizer["post_processor"] = ["type": "Sequence", "processors": [["type": "ByteLevel"], template]]
        #expect(try spec(fixture).addBOS)
        fixture.tokenizerConfig = ["add_bos_token": false]
        #expect(try !spec(fixture).addBOS)
        fixture.tokenizerConfig = ["add_bos_token": true]
        fixture.tokenizer["post_processor"] = NSNull()
        #expect(try spec(fixture).addBOS)
        fixture.tokenizerConfig = ["bos_token": "b"]
        fixture.tokenizer["post_processor"] = template
        #expect(try !spec(fixture).addBOS, "the template starts with a token other than BOS")
    }

    @Test func chatTemplates() throws {
        var fixture = CheckpointFixture.llama()
        fixture.tokenizerConfig = ["chat_template": [["name": "tool_use", "template": "U"], ["name": "default", "template": "D"]]]
        #expect(try spec(fixture).chatTemplate == "D")
        fixture.chatTemplateFile = "J"
        #expect(try spec(fixture).chatTemplate == "D", "tokenizer_config.json's own template comes first")
        fixture.tokenizerConfig = ["eos_token": "<|end|>"]
        #expect(try spec(fixture).chatTemplate == "J")
    }

    @Test func preTokenizerKinds() throws {
        let cases: [(String, [String: Any])] = [
            ("gpt2", ["type": "ByteLevel", "add_prefix_space": false]),
            ("smollm", ["type": "Sequence", "pretokenizers": [
                ["type": "Digits", "individual_digits": true], ["type": "ByteLevel", "use_regex": true]]]),
            ("smollm", ["type": "Sequence", "pretokenizers": [
                ["type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": true]]], ["type": "ByteLevel"]]]),
            ("qwen2", ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": Self.qwen2Pattern], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false]]]),
            ("llama3", ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": Self.llama3Pattern], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false]]]),
        ]
        for (expected, preTokenizer) in cases {
            var fixture = CheckpointFixture.llama()
            fixture.tokenizer["pre_tokenizer"] = preTokenizer
            #expect(try spec(fixture).preTokenizer == expected)
        }
    }

    /// A pipeline that is not one of the four is refused, not tokenized by the wrong rules.
    @Test func unsupportedPreTokenizers() throws {
        let cases: [([String: Any], String)] = [
            (["type": "Metaspace", "replacement": "▁"], "[Metaspace]"),
            (["type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": false], ["type": "ByteLevel"]]],
             "[Digits, ByteLevel]"),
            (["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": #"\d+"#]], ["type": "ByteLevel", "use_regex": false]]],
             #"[Split(\d+), ByteLevel]"#),
            // Qwen2's split followed by a second, GPT-2 split.
            (["type": "Sequence", "pretokenizers": [["type": "Split", "pattern": ["Regex": Self.qwen2Pattern]], ["type": "ByteLevel"]]],
             "[Split(\(Self.qwen2Pattern)), ByteLevel]"),
        ]
        for (preTokenizer, described) in cases {
            var fixture = CheckpointFixture.llama()
            fixture.tokenizer["pre_tokenizer"] = preTokenizer
            try fixture.expectOpeningError("tokenizer.json: pre-tokenizer \(described) is not one elutq supports")
        }
        var fixture = CheckpointFixture.llama()
        fixture.tokenizer["pre_tokenizer"] = NSNull()
        try fixture.expectOpeningError("tokenizer.json: pre-tokenizer [] is not one elutq supports")
    }

    @Test func invalidVocabularies() throws {
        var fixture = CheckpointFixture.llama()
        fixture.setModel("type", "WordPiece")
        try fixture.expectOpeningError("tokenizer.json: model type 'WordPiece' is not supported; only byte-level BPE is")
        fixture = .llama()
        fixture.setModel("vocab", ["a": 0, "b": 0])
        try fixture.expectOpeningError("have the same id 0")
        fixture.setModel("vocab", ["a": -1])
        try fixture.expectOpeningError("tokenizer.json: token 'a' has negative id -1")
        fixture.setModel("vocab", ["a": 0, "b": 1 << 40])
        try fixture.expectOpeningError("tokenizer.json: token id \(1 << 40) is far past the 6 tokens of the vocabulary")
        fixture = .llama()
        fixture.tokenizer["added_tokens"] = [["id": 1, "content": "x"]]
        try fixture.expectOpeningError("tokenizer.json: 'added_tokens[0].special' is missing")
        fixture.tokenizer["model"] = nil
        try fixture.expectOpeningError("tokenizer.json: 'model' is missing")
    }

    /// config.json's vocab_size sizes the token list and its heads divide the width: absurd values
    /// are errors, not an allocation that kills the process or a division by zero (found while
    /// fuzzing with FuzzCheckpoint).
    @Test func absurdConfigSizesAreErrors() throws {
        var fixture = CheckpointFixture.qwen2()
        for size in [1 << 50, Int.max, -1] {
            fixture.config["vocab_size"] = size
            try fixture.expectOpeningError("config.json: vocab_size \(size) is not a vocabulary size")
        }
        fixture = .qwen2()
        fixture.config["num_attention_heads"] = 0
        try fixture.expectOpeningError("the model has 0 attention heads")
    }
}

extension CheckpointFixture {
    /// Sets a key of tokenizer.json's `model`.
    mutating func setModel(_ key: String, _ value: Any) {
        var model = tokenizer["model"] as! [String: Any]
        model[key] = value
        tokenizer["model"] = model
    }
}
