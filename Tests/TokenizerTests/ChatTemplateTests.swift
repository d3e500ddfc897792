import XCTest

@testable import Tokenizer

final class ChatTemplateTests: XCTestCase {
    /// SmolLM2-135M-Instruct's `tokenizer.chat_template`, as stored in its GGUF.
    private let smolLM2Template = """
        {% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system
        You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>
        ' }}{% endif %}{{'<|im_start|>' + message['role'] + '
        ' + message['content'] + '<|im_end|>' + '
        '}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant
        ' }}{% endif %}
        """

    func testSmolLM2DefaultSystemPrompt() throws {
        let template = try XCTUnwrap(ChatTemplate(template: smolLM2Template))
        XCTAssertEqual(template.defaultSystemPrompt, "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        XCTAssertEqual(
            template.render([ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: true),
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
                + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(
            template.render([ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi")],
                            addGenerationPrompt: false),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n")
    }

    /// The model's own template run by Jinja (via the oracle script) renders the same text.
    func testMatchesJinjaRenderingOfTheModelTemplate() throws {
        let oracle = try OracleFixture.shared().oracle
        let template = try XCTUnwrap(ChatTemplate(template: try XCTUnwrap(oracle.vocab.chatTemplate)))
        XCTAssertFalse(oracle.chats.isEmpty)
        for chat in oracle.chats {
            let messages = chat.messages.map { ChatMessage(role: $0.role, content: $0.content) }
            XCTAssertEqual(template.render(messages, addGenerationPrompt: chat.addGenerationPrompt), chat.rendered,
                           "\(chat.name), generation prompt \(chat.addGenerationPrompt)")
        }
    }

    /// Qwen2-style templates write the newline as the escape `\n` inside the Jinja string, and
    /// first build a system turn from the messages, which must not be taken for the default.
    func testEscapedDefaultAfterANonConstantSystemTurn() throws {
        let template = try XCTUnwrap(ChatTemplate(template: #"""
            {%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
            {%- else %}{{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}{%- endif %}
            """#))
        XCTAssertEqual(template.defaultSystemPrompt, "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
    }

    func testPlainChatMLHasNoDefaultSystemPrompt() throws {
        let template = try XCTUnwrap(ChatTemplate(template: #"""
            {% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}
            """#))
        XCTAssertNil(template.defaultSystemPrompt)
        XCTAssertEqual(template.render([ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: false),
                       "<|im_start|>user\nHi<|im_end|>\n")
        XCTAssertEqual(template.render([], addGenerationPrompt: true), "<|im_start|>assistant\n")
    }

    func testRejectsTemplatesThatAreNotChatML() {
        XCTAssertNil(ChatTemplate(template: "{{ bos_token }}{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}"))
    }
}
