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
                                                   "--timeout", String(patience), "--host", "127.0.0.1", "--port", String(harness.broker.port)])
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

extension BrokerTests {
    /// `elutq prompt` gets its answer when the agent is killed mid-answer and started again: the
    /// device going offline (its will) and coming back online makes it send the request again.
    @Suite(.needs(.executables)) struct PromptThroughAgentRestart {
        @Test func theRequestIsSentAgainWhenTheDeviceIsBack() throws {
            try withHarness { harness in
                let agentArguments = ["--broker-host", "127.0.0.1", "--broker-port", String(harness.broker.port), "--device-id", "k1",
                                      "--model", try realModelPath(), "--threads", "1", "--context-size", "1024",
                                      "--request-timeout", String(patience), "--log-level", "info"]
                let first = try launch("elutq-agent", agentArguments)
                defer { kill(first.process.processIdentifier, SIGKILL) }
                try harness.client.status(of: "k1", online: true)
                // Long enough an answer that the agent is still generating it when it is killed.
                let command = try launch("elutq", ["prompt", "--device", "k1", "--max-tokens", "100", "--temperature", "0",
                                                   "--timeout", String(patience),
                                                   longPrompt, "--host", "127.0.0.1", "--port", String(harness.broker.port)])
                try waitUntil("the first streamed text") { !command.stdout().isEmpty }
                kill(first.process.processIdentifier, SIGKILL)
                _ = try first.waitForExit()
                try harness.client.status(of: "k1", online: false, fresh: true)
                let second = try launch("elutq-agent", agentArguments)
                defer {
                    kill(second.process.processIdentifier, SIGTERM)
                    _ = try? second.waitForExit()
                }
                #expect(try command.waitForExit() == 0, "\(command.stderr())")
                #expect(!first.stderr().contains("msg=served"), "\(first.stderr())")
                #expect(second.stderr().contains("msg=served"), "\(second.stderr())")
            }
        }
    }
}
