import AgentHarness
import Foundation
import MQTT
import Protocol
import Testing
import TestSupport

@testable import Agent

extension BrokerTests {
    /// Fleet load balancing through MQTT shared subscriptions.
    @Suite struct Fleet {
        @Test func twoAgentsShareTwentyPromptsEachAnsweredOnce() throws {
            try withHarness { harness in
                let first = try harness.startAgent("f1") { $0.group = "g"; $0.queueLength = 20 }
                let second = try harness.startAgent("f2") { $0.group = "g"; $0.queueLength = 20 }
                let ids = (0..<20).map { "fleet-\($0)" }
                for id in ids {
                    harness.client.publish("elutq/fleet/prompt", promptRequest(id, "Say one word.", maxTokens: 4),
                                           responseTopic: "test/replies/fleet", correlationData: Array(id.utf8))
                }
                var devices: [String: Int] = [:]
                for id in ids {
                    let transcript = try harness.client.reply(id)
                    let final = try #require(transcript.final, "\(id): \(String(describing: transcript.error))")
                    #expect(transcript.messages.allSatisfy { $0.correlationData == Array(id.utf8) })
                    devices[final["device"]?.string ?? "?", default: 0] += 1
                }
                #expect(devices["f1", default: 0] > 0 && devices["f2", default: 0] > 0, "\(devices)")
                // Both idle (the worker publishes the final reply just before it lets go of the job),
                // and between them they served exactly the 20: no prompt was served twice.
                try waitUntil("both agents are idle") {
                    [first, second].allSatisfy { $0.queue.depth == 0 && $0.queue.running == nil }
                }
                #expect(first.stats.snapshot.served + second.stats.snapshot.served == 20)
                #expect(first.stats.snapshot.served == devices["f1"] && second.stats.snapshot.served == devices["f2"])
            }
        }

        /// Every group gets a copy of a fleet prompt; a prompt naming a group is served by that group only.
        @Test func aPromptNamingAGroupIsServedThere() throws {
            try withHarness { harness in
                try harness.startAgent("a1") { $0.group = "north" }
                try harness.startAgent("b1") { $0.group = "south" }
                for (id, group) in [("to-north", "north"), ("to-south", "south")] {
                    harness.client.publish("elutq/fleet/prompt", promptRequest(id, "Hi!", maxTokens: 4, extra: ["group": .string(group)]))
                }
                #expect(try harness.client.reply("to-north").final?["device"]?.string == "a1")
                #expect(try harness.client.reply("to-south").final?["device"]?.string == "b1")
            }
        }
    }
}
