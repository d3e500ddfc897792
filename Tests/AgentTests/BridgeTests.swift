import AgentHarness
import Foundation
import Protocol
import Testing
import TestSupport

extension BrokerTests {
    /// A fleet beyond one broker: devices on a site mosquitto bridged to a central one, where the
    /// operator's client and `elutq exporter` connect.
    @Suite(.needs(.executables)) struct Bridging {
        @Test func siteDevicesAreServedAndMonitoredThroughTheCentralBroker() throws {
            try withHarness { harness in
                let site = try harness.bridgedSite()
                for device in ["s1", "s2"] { try harness.startAgent(device, on: site) { $0.group = "site" } }
                let port = try LoopbackPort.free()
                let exporter = try launch("elutq", ["exporter", "--listen", "127.0.0.1:\(port)"] + harness.brokerFlags)
                defer { exporter.process.terminate() }

                // Prompts to each device, and fleet prompts that the site's shared subscription hands to one member.
                for device in ["s1", "s2"] {
                    harness.client.publish("elutq/\(device)/prompt", promptRequest("to-\(device)", "Say one word.", maxTokens: 4))
                }
                for id in ["fleet-a", "fleet-b"] {
                    harness.client.publish("elutq/fleet/prompt", promptRequest(id, "Say one word.", maxTokens: 4))
                }
                #expect(try harness.client.reply("to-s1").final?["device"]?.string == "s1")
                #expect(try harness.client.reply("to-s2").final?["device"]?.string == "s2")
                let fleet = try ["fleet-a", "fleet-b"].map { try harness.client.reply($0).final?["device"]?.string }
                #expect(fleet.allSatisfy { ["s1", "s2"].contains($0) }, "\(fleet)")

                // The exporter on the central broker counts all four, by device.
                func served() -> Int {
                    let text = httpGet("http://127.0.0.1:\(port)/metrics") ?? ""
                    return text.matches(of: /elutq_requests_served_total\{device="s[12]",group="site",[^}]*\} (\d+)/).reduce(0) { $0 + Int($1.1)! }
                }
                try waitUntil("the exporter counts the four prompts", timeout: 60) { served() == 4 }
            }
        }
    }
}
