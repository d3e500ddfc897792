import AgentHarness
import Foundation
import Glibc
import MQTT
import Protocol
import Testing
import TestSupport

@testable import Agent

extension BrokerTests {
    /// The retained status, the will, and telemetry.
    @Suite struct Presence {
        @Test func theStatusDescribesTheAgentAndItsModel() throws {
            try withHarness { harness in
                try harness.startAgent("d1") { $0.group = "kitchen" }
                // The retained copy, as a newcomer sees it.
                let watcher = try harness.newClient(subscriptions: ["elutq/d1/status"])
                let status = try JSON(parsing: try watcher.status(of: "d1", online: true).payload)
                #expect(status["device"]?.string == "d1")
                #expect(status["agent_version"]?.string == Agent.version)
                #expect(status["group"]?.string == "kitchen")
                #expect(status["model"]?["name"]?.string == "SmolLM2-135M-Instruct.Q4_1")
                // The SHA-256 tools/setup/fetch-model checks the download against.
                #expect(status["model"]?["sha256"]?.string == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
                #expect(status["model"]?["format"]?.string == "f32")
                #expect(status["model"]?["quantization"] == .null)
                let capabilities = status["capabilities"]?.array?.compactMap(\.string) ?? []
                #expect(capabilities.contains("stream") && capabilities.contains("cancel") && capabilities.contains("fleet"))
                #expect(status["limits"]?["context_size"]?.int == 512)
            }
        }

        @Test func telemetryReportsMemoryLoadAndLatency() throws {
            try withHarness { harness in
                try harness.startAgent("d1")
                harness.client.publish("elutq/d1/prompt", promptRequest("t1", "Hello!", maxTokens: 8))
                _ = try harness.client.reply("t1")
                let watcher = try harness.newClient(subscriptions: ["elutq/d1/telemetry"])
                let message = try watcher.message("telemetry after a request") { message in
                    (try? JSON(parsing: message.payload))?["elutq.requests.served"]?.int == 1
                }
                let telemetry = try JSON(parsing: message.payload)
                #expect((telemetry["process.memory.usage"]?.int ?? 0) > 0)
                #expect((telemetry["elutq.memory.anonymous"]?.int ?? 0) > 0)
                #expect(telemetry["elutq.memory.file_backed"]?.int != nil)
                #expect(telemetry["elutq.model.mapped_size"]?.int != nil)
                #expect((telemetry["system.linux.memory.available"]?.int ?? 0) > 0)
                #expect(telemetry["system.cpu.load_average.1m"]?.number != nil)
                #expect(telemetry["elutq.queue.depth"]?.int == 0)
                #expect(telemetry["elutq.requests.failed"]?.int == 0)
                #expect(telemetry["gen_ai.server.time_to_first_token"]?["last"]?.number != nil)
                #expect(telemetry["gen_ai.server.time_to_first_token"]?["p95"]?.number != nil)
                #expect(telemetry["elutq.tokens_per_second"]?["p50"]?.number != nil)
                #expect((telemetry["gen_ai.client.token.usage"]?["output"]?.int ?? 0) > 0)
                #expect((telemetry["process.uptime"]?.number ?? 0) > 0)
            }
        }

        @Test func aCleanStopPublishesOffline() throws {
            try withHarness { harness in
                let agent = try harness.startAgent("d1")
                agent.stop()
                try harness.client.status(of: "d1", online: false, fresh: true)
            }
        }

        /// The agent as its own process, killed without warning: the broker publishes its will.
        @Test(.needs(.executables)) func sigkillLeavesTheOfflineWill() throws {
            try withHarness { harness in
                let agent = try launchAgent(harness, device: "k1")
                defer { kill(agent.process.processIdentifier, SIGKILL) }
                try harness.client.status(of: "k1", online: true)
                kill(agent.process.processIdentifier, SIGKILL)
                try harness.client.status(of: "k1", online: false, fresh: true)
            }
        }

        /// SIGTERM while a request runs: the request is answered (finished or cancelled), the
        /// status goes offline and the process exits 0.
        @Test(.needs(.executables)) func sigtermShutsDownCleanly() throws {
            try withHarness { harness in
                let agent = try launchAgent(harness, device: "t1")
                defer { kill(agent.process.processIdentifier, SIGKILL) }
                try harness.client.status(of: "t1", online: true)
                harness.client.publish("elutq/t1/prompt", promptRequest("running", longPrompt, maxTokens: 128))
                _ = try harness.client.chunks("running", atLeast: 1)
                kill(agent.process.processIdentifier, SIGTERM)
                let transcript = try harness.client.reply("running")
                #expect(transcript.final != nil || transcript.errorCode == "cancelled")
                try harness.client.status(of: "t1", online: false, fresh: true)
                #expect(try agent.waitForExit() == 0, "\(agent.stderr())")
            }
        }

        private func launchAgent(_ harness: Harness, device: String) throws -> LaunchedProcess {
            try launch("elutq-agent", [
                "--broker-host", "127.0.0.1", "--broker-port", String(harness.broker.port), "--device-id", device,
                "--model", try realModelPath(), "--threads", "2", "--context-size", "512", "--temperature", "0",
                "--log-level", "warn",
            ])
        }
    }
}
