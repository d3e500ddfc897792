import AgentHarness
import Foundation
import MQTT
import Protocol
import Testing

@testable import Agent

extension BrokerTests {
    /// Prompts through a real broker to an agent with the real model.
    @Suite struct Serving {
        @Test func streamedChunksAddUpToTheFinalReply() throws {
            try withHarness { harness in
                let agent = try harness.startAgent("d1")
                harness.client.publish("elutq/d1/prompt", promptRequest("s1", "What is the capital of France?", maxTokens: 24))
                let transcript = try harness.client.reply("s1")
                let final = try #require(transcript.final)
                #expect(!transcript.chunks.isEmpty)
                #expect(transcript.streamedText == transcript.finalText)
                #expect(transcript.messages.allSatisfy { $0.topic == "elutq/d1/reply/s1" })
                #expect((final["tokens_in"]?.int ?? 0) > 0)
                #expect((final["tokens_out"]?.int ?? 0) > 0)
                #expect(final["ttft_ms"]?.number != nil)
                #expect(final["tokens_per_s"]?.number != nil)
                #expect(["stop", "length"].contains(final["finish_reason"]?.string ?? ""))
                #expect(final["model"]?.string == "SmolLM2-135M-Instruct.Q4_1")
                #expect(final["model_sha256"]?.string == agent.identity.sha256)
                #expect(final["device"]?.string == "d1")
            }
        }

        @Test func greedyRepliesAreIdenticalAcrossRuns() throws {
            try withHarness { harness in
                try harness.startAgent("d1")
                let extra: [String: JSON] = ["temperature": 0]
                harness.client.publish("elutq/d1/prompt", promptRequest("g1", "Tell me about the sea.", maxTokens: 32, extra: extra))
                harness.client.publish("elutq/d1/prompt", promptRequest("g2", "Tell me about the sea.", maxTokens: 32, extra: extra))
                let first = try harness.client.reply("g1").finalText
                let second = try harness.client.reply("g2").finalText
                #expect(first != nil && first?.isEmpty == false)
                #expect(first == second)
            }
        }

        @Test func repliesFollowTheResponseTopicAndCorrelationData() throws {
            try withHarness { harness in
                try harness.startAgent("d1")
                harness.client.publish("elutq/d1/prompt", promptRequest("c1", "Hi!", maxTokens: 8),
                                       responseTopic: "test/replies/c1", correlationData: [9, 8, 7])
                let transcript = try harness.client.reply("c1")
                #expect(transcript.final != nil)
                #expect(transcript.messages.allSatisfy { $0.topic == "test/replies/c1" && $0.correlationData == [9, 8, 7] })
            }
        }

        @Test func requestsFromSeveralClientsAreAllAnswered() throws {
            try withHarness { harness in
                try harness.startAgent("d1") { $0.queueLength = 8 }
                let clients = try (0..<4).map { _ in try harness.newClient() }
                for (index, client) in clients.enumerated() {
                    for round in 0..<2 {
                        client.publish("elutq/d1/prompt", promptRequest("p\(index)-\(round)", "Say a word.", maxTokens: 6),
                                       responseTopic: "test/replies/p\(index)", correlationData: Array("p\(index)-\(round)".utf8))
                    }
                }
                for (index, client) in clients.enumerated() {
                    for round in 0..<2 {
                        let transcript = try client.reply("p\(index)-\(round)")
                        #expect(transcript.final != nil, "p\(index)-\(round): \(String(describing: transcript.error))")
                    }
                }
            }
        }

        /// One running, one waiting (queue_length 1): the rest are refused at once, none is left unanswered.
        @Test func aFullQueueAnswersBusy() throws {
            try withHarness { harness in
                try harness.startAgent("d1") { $0.queueLength = 1 }
                let client = harness.client
                client.publish("elutq/d1/prompt", promptRequest("long", longPrompt, maxTokens: 256))
                _ = try client.chunks("long", atLeast: 1)
                for id in ["b", "c", "d"] { client.publish("elutq/d1/prompt", promptRequest(id, "Say a word.", maxTokens: 4)) }
                #expect(try client.reply("c").errorCode == "busy")
                #expect(try client.reply("d").errorCode == "busy")
                client.publish("elutq/d1/cancel", ["id": "long"])
                #expect(try client.reply("long").errorCode == "cancelled")
                #expect(try client.reply("b").final != nil)
            }
        }
    }
}
