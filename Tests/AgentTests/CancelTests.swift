import AgentHarness
import Foundation
import MQTT
import Protocol
import Testing

extension BrokerTests {
    /// Cancellation through the cancel topic. (That a cancel takes effect before the next token is
    /// shown exactly by `RequestRunnerTests.cancellationStopsWithinOneToken`.)
    @Suite struct Cancelling {
        @Test func cancelStopsARunningGeneration() throws {
            try withHarness { harness in
                try harness.startAgent("d1")
                let client = harness.client
                client.publish("elutq/d1/prompt", promptRequest("long", longPrompt, maxTokens: 256))
                _ = try client.chunks("long", atLeast: 2)
                client.publish("elutq/d1/cancel", ["id": "long"])
                let transcript = try client.reply("long")
                #expect(transcript.errorCode == "cancelled")
                #expect(transcript.chunks.count < 256)
            }
        }

        @Test func cancelTakesAWaitingRequestOutOfTheQueue() throws {
            try withHarness { harness in
                try harness.startAgent("d1") { $0.queueLength = 2 }
                let client = harness.client
                client.publish("elutq/d1/prompt", promptRequest("long", longPrompt, maxTokens: 256))
                _ = try client.chunks("long", atLeast: 1)
                client.publish("elutq/d1/prompt", promptRequest("waiting", "Hello!", maxTokens: 8))
                client.publish("elutq/d1/cancel", ["id": "waiting"])
                let waiting = try client.reply("waiting")
                #expect(waiting.errorCode == "cancelled")
                #expect(waiting.chunks.isEmpty)
                client.publish("elutq/d1/cancel", ["id": "long"])
                #expect(try client.reply("long").errorCode == "cancelled")
            }
        }
    }
}
