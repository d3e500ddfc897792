import MQTT
import Runtime
import Testing
import Tokenizer

@testable import Protocol

/// Checking prompt requests: every way a request can be wrong gets its code and a message that
/// names the problem, and its reply goes where the sender can hear it.
@Suite struct PromptRequestTests {
    let topics = Topics(prefix: "elutq", device: "d1")
    let limits = RequestLimits(maxPromptBytes: 100, maxNewTokens: 50, defaults: GenerationOptions(maxTokens: 50))

    func parse(_ text: String, responseTopic: String? = nil) -> Result<PromptRequest, RejectedRequest> {
        parse(bytes: Array(text.utf8), responseTopic: responseTopic)
    }

    func parse(bytes: [UInt8], responseTopic: String? = nil) -> Result<PromptRequest, RejectedRequest> {
        let message = MQTTMessage(topic: topics.prompt, payload: bytes, responseTopic: responseTopic, correlationData: [1, 2])
        return PromptRequest.parse(message, limits: limits, topics: topics)
    }

    func rejection(_ text: String) -> RejectedRequest? {
        if case .failure(let rejected) = parse(text) { rejected } else { nil }
    }

    @Test func aFullRequest() throws {
        let request = try parse(#"""
            {"id":"r-1","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],
             "max_tokens":20,"temperature":0.5,"top_p":0.9,"top_k":10,"seed":7,"stop":["\n\n","END"],"stream":false,"group":"g"}
            """#).get()
        #expect(request.id == "r-1")
        #expect(request.messages == [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi")])
        #expect(request.options.maxTokens == 20)
        #expect(request.options.sampling.temperature == 0.5)
        #expect(request.options.sampling.topP == 0.9)
        #expect(request.options.sampling.topK == 10)
        #expect(request.options.sampling.seed == 7)
        #expect(request.options.stop == ["\n\n", "END"])
        #expect(request.stream == false)
        #expect(request.group == "g")
        #expect(request.route == ReplyRoute(topic: "elutq/d1/reply/r-1", correlationData: [1, 2]))
    }

    @Test func aPromptIsOneUserMessageWithTheDefaults() throws {
        let request = try parse(#"{"id":"a","prompt":"Hello"}"#).get()
        #expect(request.messages == [ChatMessage(role: "user", content: "Hello")])
        #expect(request.options.maxTokens == 50)
        #expect(request.stream)
    }

    @Test func repliesGoToTheResponseTopic() throws {
        let request = try parse(#"{"id":"a","prompt":"Hello"}"#, responseTopic: "app/7/replies").get()
        #expect(request.route == ReplyRoute(topic: "app/7/replies", correlationData: [1, 2]))
        guard case .failure(let rejected) = parse("nonsense", responseTopic: "app/7/replies") else { Issue.record(); return }
        #expect(rejected.route.topic == "app/7/replies")
    }

    @Test func withoutAReadableIDTheErrorGoesToReplyUnknown() {
        let cases: [(bytes: [UInt8], message: String)] = [
            (Array("not json".utf8), "not JSON"),
            ([0x7B, 0x22, 0xC3, 0x28, 0x22, 0x7D], "not valid UTF-8"),
            (Array(#"["a"]"#.utf8), "must be a JSON object"),
            (Array(#"{"prompt":"x"}"#.utf8), "has no id"),
            (Array(#"{"id":12,"prompt":"x"}"#.utf8), "id must be a string"),
            (Array(#"{"id":"a/b","prompt":"x"}"#.utf8), "id must be 1 to 128"),
            (Array(##"{"id":"#","prompt":"x"}"##.utf8), "id must be 1 to 128"),
        ]
        for (bytes, message) in cases {
            guard case .failure(let rejected) = parse(bytes: bytes) else { Issue.record("accepted \(bytes)"); continue }
            #expect(rejected.id == nil)
            #expect(rejected.route.topic == "elutq/d1/reply/unknown")
            #expect(rejected.error.code == .badRequest)
            #expect(rejected.error.message.contains(message), "\(rejected.error.message)")
        }
    }

    @Test func anOversizedPayloadIsRefusedUnread() {
        let huge = #"{"id":"big","prompt":""# + String(repeating: "x", count: limits.maxPayloadBytes) + #""}"#
        let rejected = rejection(huge)
        #expect(rejected?.error.code == .tooLarge)
        #expect(rejected?.id == nil)
    }

    @Test func fieldProblemsAreNamedAndRepliedToTheID() {
        let cases: [(String, RequestError.Code, String)] = [
            (#"{"id":"a","prompt":5}"#, .badRequest, "prompt must be a string, got a number"),
            (#"{"id":"a","prompt":""}"#, .badRequest, "prompt is empty"),
            (#"{"id":"a"}"#, .badRequest, "needs prompt or messages"),
            (#"{"id":"a","prompt":"x","messages":[]}"#, .badRequest, "both prompt and messages"),
            (#"{"id":"a","messages":"x"}"#, .badRequest, "messages must be an array"),
            (#"{"id":"a","messages":[]}"#, .badRequest, "messages is empty"),
            (#"{"id":"a","messages":[{"role":"tool","content":"x"}]}"#, .badRequest, "messages[0].role"),
            (#"{"id":"a","messages":[{"role":"user","content":1}]}"#, .badRequest, "messages[0].content"),
            (#"{"id":"a","messages":[{"role":"user","content":"x","name":"n"}]}"#, .badRequest, "only have role and content"),
            (#"{"id":"a","prompt":"x","max_tokens":"10"}"#, .badRequest, "max_tokens must be a whole number"),
            (#"{"id":"a","prompt":"x","max_tokens":0}"#, .badRequest, "max_tokens must be a whole number"),
            (#"{"id":"a","prompt":"x","max_tokens":2.5}"#, .badRequest, "max_tokens must be a whole number"),
            (#"{"id":"a","prompt":"x","max_tokens":51}"#, .tooLarge, "more than max_new_tokens = 50"),
            (#"{"id":"a","prompt":"x","temperature":"hot"}"#, .badRequest, "temperature must be a number"),
            (#"{"id":"a","prompt":"x","temperature":9}"#, .badRequest, "temperature must be a number from 0 to 5, got 9"),
            (#"{"id":"a","prompt":"x","top_p":1.5}"#, .badRequest, "top_p must be a number from 0 to 1"),
            (#"{"id":"a","prompt":"x","top_k":-1}"#, .badRequest, "top_k must be a whole number"),
            (#"{"id":"a","prompt":"x","seed":-1}"#, .badRequest, "seed must be a whole number"),
            (#"{"id":"a","prompt":"x","stop":[1]}"#, .badRequest, "stop must be a string or an array of strings"),
            (#"{"id":"a","prompt":"x","stop":""}"#, .badRequest, "stop must be"),
            (#"{"id":"a","prompt":"x","stream":"yes"}"#, .badRequest, "stream must be true or false"),
            (#"{"id":"a","prompt":"x","group":1}"#, .badRequest, "group must be a string"),
            (#"{"id":"a","prompt":"x","max_token":5}"#, .badRequest, "unknown field \"max_token\""),
        ]
        for (text, code, message) in cases {
            guard let rejected = rejection(text) else { Issue.record("accepted \(text)"); continue }
            #expect(rejected.id == "a", "\(text)")
            #expect(rejected.route.topic == "elutq/d1/reply/a", "\(text)")
            #expect(rejected.error.code == code, "\(text)")
            #expect(rejected.error.message.contains(message), "\(text): \(rejected.error.message)")
        }
    }

    @Test func thePromptLimitCountsBytesOfEveryMessage() {
        let fits = String(repeating: "é", count: 50)  // 100 bytes
        #expect(rejection(#"{"id":"a","prompt":"\#(fits)"}"#) == nil)
        let over = rejection(#"{"id":"a","messages":[{"role":"system","content":"\#(fits)"},{"role":"user","content":"x"}]}"#)
        #expect(over?.error.code == .tooLarge)
        #expect(over?.error.message == "the prompt is 101 bytes, more than max_prompt_bytes = 100")
    }

    @Test func aWildcardResponseTopicIsRefused() {
        guard case .failure(let rejected) = parse(#"{"id":"a","prompt":"x"}"#, responseTopic: "replies/#") else {
            Issue.record("accepted a wildcard response topic")
            return
        }
        #expect(rejected.error.code == .badRequest)
        #expect(rejected.route.topic == "elutq/d1/reply/a")
    }
}
