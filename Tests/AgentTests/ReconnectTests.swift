import AgentHarness
import Foundation
import MQTT
import Protocol
import Testing

extension BrokerTests {
    /// The broker dies mid-generation and comes back: the agent reconnects by itself, keeps the
    /// generation's output and delivers the reply.
    ///
    /// The broker keeps sessions on disk and the test client has a persistent session, so the
    /// reply finds the client whichever of the two reconnects first, as it would in production.
    @Suite struct Reconnecting {
        @Test func aBrokerRestartMidGenerationLosesNoReply() throws {
            try withHarness(persistence: true, clientSessionExpiry: 600) { harness in
                try harness.startAgent("d1")
                try harness.broker.saveDatabase()
                let client = harness.client
                client.publish("elutq/d1/prompt", promptRequest("through", longPrompt, maxTokens: 96))
                _ = try client.chunks("through", atLeast: 1)
                harness.broker.kill()
                try harness.broker.start()
                let transcript = try client.reply("through")
                let final = try #require(transcript.final, "\(String(describing: transcript.error))")
                #expect((final["tokens_out"]?.int ?? 0) > 0)
                #expect(final["text"]?.string?.isEmpty == false)
                // A live (not retained) status shows the agent itself announced it is back.
                try client.status(of: "d1", online: true, fresh: true)
            }
        }
    }
}
