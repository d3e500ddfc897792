import AgentHarness
import Foundation
import Testing
import TestSupport

@testable import Agent

extension BrokerTests {
    /// `elutq prompt` gets its whole answer, generated once, when the broker restarts mid-answer.
    @Suite(.needs(.executables)) struct PromptThroughBrokerRestart {
        @Test func theAnswerArrivesWholeAndIsGeneratedOnce() throws {
            try withHarness { harness in
                let agent = try harness.startAgent("d1")
                harness.client.publish("elutq/d1/prompt", promptRequest("reference", longPrompt, maxTokens: 200, extra: ["temperature": 0]))
                let expected = try #require(try harness.client.reply("reference").finalText)
                let command = try launch("elutq", ["prompt", "--device", "d1", "--max-tokens", "200", "--temperature", "0", longPrompt,
                                                   "--host", "127.0.0.1", "--port", String(harness.broker.port)])
                try waitUntil("the first streamed text") { !command.stdout().isEmpty }
                // A restart without persistence: every session and subscription is gone.
                harness.broker.kill()
                usleep(300_000)
                try harness.broker.start()
                let status = try command.waitForExit()
                #expect(status == 0, "\(command.stderr())")
                #expect(command.stderr().contains("asking again"), "\(command.stderr())")
                #expect(command.stdout().hasSuffix(expected + "\n"), "\(command.stdout())")
                #expect(agent.stats.snapshot.served == 2)
            }
        }
    }
}
