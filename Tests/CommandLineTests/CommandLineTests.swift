import AgentHarness
import Foundation
import MQTT
import Protocol
import Testing
import TestSupport

extension BrokerTests {
    /// `elutq prompt`, `fleet` and `watch`, run as the built executable against an in-process agent.
    @Suite(.needs(.executables)) struct CommandLine {
        @Test func promptStreamsTheReplyAndReportsTimings() throws {
            try withHarness { harness in
                try harness.startAgent("d1")
                harness.client.publish("elutq/d1/prompt", promptRequest("direct", "What is the capital of France?", maxTokens: 16))
                let expected = try #require(try harness.client.reply("direct").finalText)
                let result = try run("elutq", ["prompt", "--device", "d1", "--max-tokens", "16", "--temperature", "0",
                                               "What is the capital of France?"] + harness.brokerFlags)
                #expect(result.status == 0, "\(result.stderr)")
                #expect(result.stdout == expected + "\n")
                #expect(result.stderr.contains("prompt tokens") && result.stderr.contains("after publish"))
            }
        }

        @Test func promptFailsOnAnErrorReply() throws {
            try withHarness { harness in
                try harness.startAgent("d1")
                let result = try run("elutq", ["prompt", "--device", "d1", "--max-tokens", "100000", "Hi"] + harness.brokerFlags)
                #expect(result.status != 0)
                #expect(result.stderr.contains("too_large"))
            }
        }

        @Test func promptTakesTheBrokerFromAConfigFile() throws {
            try withHarness { harness in
                try harness.startAgent("d1")
                let file = harness.broker.directory.appendingPathComponent("agent.conf")
                try "broker_host = 127.0.0.1\nbroker_port = \(harness.broker.port)\n".write(to: file, atomically: true, encoding: .utf8)
                let result = try run("elutq", ["prompt", "--config", file.path, "--device", "d1", "--max-tokens", "4", "Hi"])
                #expect(result.status == 0, "\(result.stderr)")
            }
        }

        @Test func fleetListsTheDevices() throws {
            try withHarness { harness in
                let agent = try harness.startAgent("d1")
                try harness.startAgent("d2")
                agent.stop()
                try harness.client.status(of: "d1", online: false, fresh: true)
                let result = try run("elutq", ["fleet", "--json"] + harness.brokerFlags)
                #expect(result.status == 0, "\(result.stderr)")
                let devices = try JSON(parsing: Array(result.stdout.utf8)).array ?? []
                let online = Dictionary(uniqueKeysWithValues: devices.compactMap { entry in
                    entry["device"]?.string.map { ($0, entry["status"]?["online"]?.bool) }
                })
                #expect(online == ["d1": false, "d2": true])
                #expect(devices.allSatisfy { $0["telemetry"]?["process.memory.usage"]?.int != nil })
                let table = try run("elutq", ["fleet"] + harness.brokerFlags)
                #expect(table.stdout.contains("SmolLM2-135M-Instruct.Q4_1"))
            }
        }

        @Test func watchShowsTelemetry() throws {
            try withHarness { harness in
                try harness.startAgent("d1")
                let result = try run("elutq", ["watch", "--device", "d1", "--count", "2"] + harness.brokerFlags)
                #expect(result.status == 0, "\(result.stderr)")
                #expect(result.stdout.contains("rss ") && result.stdout.contains("queue 0/4"))
            }
        }
    }
}
