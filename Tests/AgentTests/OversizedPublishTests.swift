import AgentHarness
import Foundation
import Glibc
import Protocol
import Testing
import TestSupport

extension BrokerTests {
    /// A hostile publish far larger than anything the agent takes.
    @Suite struct OversizedPublish {
        /// 100 MB on every topic the agent reads: the broker drops each one for the agent (which
        /// declared its Maximum Packet Size when it connected), so the agent's peak memory stays
        /// within 16 MB of what it was, and it goes on serving.
        @Test(.needs(.executables)) func aHundredMegabytesOnEveryTopicNeverReachTheAgent() throws {
            try withHarness { harness in
                let store = harness.broker.directory.appendingPathComponent("store").path
                let agent = try launch("elutq-agent", [
                    "--broker-host", "127.0.0.1", "--broker-port", String(harness.broker.port), "--device-id", "big",
                    "--group", "g", "--model", try realModelPath(), "--model-store", store, "--threads", "2",
                    "--context-size", "256", "--temperature", "0", "--log-level", "warn",
                ])
                defer { kill(agent.process.processIdentifier, SIGKILL) }
                try harness.client.status(of: "big", online: true)
                // One answer first, so the model's pages the next one touches are already resident.
                harness.client.publish("elutq/big/prompt", promptRequest("warm", "Hello!", maxTokens: 8))
                #expect(try harness.client.reply("warm").final != nil)
                let before = try Self.peakResidentBytes(of: agent.process.processIdentifier)

                let topics = Topics(prefix: "elutq", device: "big")
                let huge = [UInt8](repeating: 0x7B, count: 100 << 20)
                for topic in [topics.prompt, topics.cancel, topics.pushManifest, topics.pushBlock, topics.models,
                              topics.fleetPrompt, topics.fleetCancel] {
                    harness.client.publish(topic, bytes: huge)
                }
                // Published after them on the same connection, so the broker has handled them all.
                harness.client.publish("elutq/big/prompt", promptRequest("after", "Hello!", maxTokens: 8))
                #expect(try harness.client.reply("after").final != nil, "\(agent.stderr())")
                let after = try Self.peakResidentBytes(of: agent.process.processIdentifier)
                #expect(after - before <= 16 << 20, "peak RSS grew from \(before >> 20) MiB to \(after >> 20) MiB")
                #expect(agent.process.isRunning)
            }
        }

        /// VmHWM: the most this process has ever had resident.
        static func peakResidentBytes(of pid: Int32) throws -> Int {
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                  let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else {
                throw TestFailure("no VmHWM in /proc/\(pid)/status")
            }
            return kilobytes * 1024
        }
    }
}
