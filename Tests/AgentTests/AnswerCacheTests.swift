import AgentHarness
import Foundation
import MQTT
import Protocol
import Runtime
import Testing
import Tokenizer

@testable import Agent

/// The answers an agent keeps for requests sent again: bounded, and only for the very request.
@Suite struct AnswerCacheTests {
    static func request(_ id: String, _ prompt: String = "Hi", topic: String = "client/a/reply") -> PromptRequest {
        PromptRequest(id: id, messages: [ChatMessage(role: "user", content: prompt)], options: GenerationOptions(), stream: true,
                      group: nil, route: ReplyRoute(topic: topic, correlationData: nil))
    }

    static func answer(_ text: String) -> JSON { ["id": "x", "done": true, "text": .string(text)] }

    @Test func theSameRequestFindsItsAnswer() {
        let cache = AnswerCache()
        cache.store(Self.answer("Paris"), for: Self.request("r1"))
        #expect(cache.answer(for: Self.request("r1"))?["text"]?.string == "Paris")
    }

    /// Another prompt under the same id, or the same id on another client's reply topic, is not it.
    @Test func anotherRequestUnderTheSameIdDoesNot() {
        let cache = AnswerCache()
        cache.store(Self.answer("Paris"), for: Self.request("r1"))
        #expect(cache.answer(for: Self.request("r1", "Hello")) == nil)
        #expect(cache.answer(for: Self.request("r1", topic: "client/eve/reply")) == nil)
        var options = Self.request("r1")
        options.options.maxTokens = 7
        #expect(cache.answer(for: options) == nil)
    }

    @Test func theOldestAnswersGoFirstBeyondTheCount() {
        let cache = AnswerCache(capacity: 3)
        for i in 0..<5 { cache.store(Self.answer("a\(i)"), for: Self.request("r\(i)")) }
        #expect(cache.count == 3)
        #expect(cache.answer(for: Self.request("r1")) == nil)
        #expect(cache.answer(for: Self.request("r2")) != nil && cache.answer(for: Self.request("r4")) != nil)
    }

    @Test func theBytesStayBounded() {
        let cache = AnswerCache(capacity: 100, byteLimit: 1000)
        // Each answer serializes to some 430 bytes: two fit in 1000, three do not.
        for i in 0..<10 { cache.store(Self.answer(String(repeating: "x", count: 400)), for: Self.request("r\(i)")) }
        #expect(cache.count == 2)
        // An answer larger than the whole bound is not kept at all.
        cache.store(Self.answer(String(repeating: "y", count: 2000)), for: Self.request("big"))
        #expect(cache.answer(for: Self.request("big")) == nil && cache.count == 2)
    }

    /// Storing the same request again replaces its answer rather than keeping two.
    @Test func aStoredRequestIsReplaced() {
        let cache = AnswerCache()
        cache.store(Self.answer("one"), for: Self.request("r1"))
        cache.store(Self.answer("two"), for: Self.request("r1"))
        #expect(cache.count == 1 && cache.answer(for: Self.request("r1"))?["text"]?.string == "two")
    }
}

extension BrokerTests {
    /// A client that sends a request again (after losing its answer) gets the answer, never a
    /// second generation.
    @Suite struct RequestsSentAgain {
        @Test func aFinishedRequestIsAnsweredAgainFromTheAnswersKept() throws {
            try withHarness { harness in
                let agent = try harness.startAgent("d1")
                // Sampled with no seed: generated again, the text would almost surely differ.
                let request = promptRequest("again", "Tell me a story about a cat.", maxTokens: 24, extra: ["temperature": 1.0])
                harness.client.publish("elutq/d1/prompt", request)
                let first = try #require(try harness.client.reply("again").final)
                harness.client.publish("elutq/d1/prompt", request)
                let second = try harness.client.reply("again")
                #expect(second.final == first)
                #expect(second.chunks.isEmpty)
                #expect(agent.stats.snapshot.served == 1)
            }
        }

        @Test func aRequestSentAgainWhileRunningIsNotRefused() throws {
            try withHarness { harness in
                let agent = try harness.startAgent("d1")
                let request = promptRequest("running", longPrompt, maxTokens: 48)
                harness.client.publish("elutq/d1/prompt", request)
                _ = try harness.client.chunks("running", atLeast: 1)
                harness.client.publish("elutq/d1/prompt", request)
                let transcript = try harness.client.reply("running")
                #expect(transcript.error == nil, "\(String(describing: transcript.error))")
                #expect(transcript.final != nil)
                #expect(agent.stats.snapshot.served == 1 && agent.stats.snapshot.failed == 0)
            }
        }

        /// Another prompt under the id of one still running is refused, not answered with the other's text.
        @Test func anotherPromptUnderTheIdOfARunningOneIsRefused() throws {
            try withHarness { harness in
                try harness.startAgent("d1")
                harness.client.publish("elutq/d1/prompt", promptRequest("same-id", longPrompt, maxTokens: 48))
                _ = try harness.client.chunks("same-id", atLeast: 1)
                harness.client.publish("elutq/d1/prompt", promptRequest("same-id", "Say no.", maxTokens: 6))
                #expect(try harness.client.reply("same-id").errorCode == "bad_request")
                #expect(try harness.client.reply("same-id").final != nil)
            }
        }

        @Test func anIdReusedForAnotherPromptIsGeneratedAfresh() throws {
            try withHarness { harness in
                let agent = try harness.startAgent("d1")
                harness.client.publish("elutq/d1/prompt", promptRequest("reused", "Say yes.", maxTokens: 6))
                _ = try harness.client.reply("reused")
                harness.client.publish("elutq/d1/prompt", promptRequest("reused", "Say no.", maxTokens: 6))
                #expect(try harness.client.reply("reused").final != nil)
                #expect(agent.stats.snapshot.served == 2)
            }
        }
    }
}
