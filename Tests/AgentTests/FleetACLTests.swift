import AgentHarness
import Foundation
import Glibc
import MQTT
import Protocol
import Testing
import TestSupport

extension BrokerTests {
    /// The ACL in firmware-notes/broker.md, exactly as documented, on a real mosquitto with three
    /// accounts: the device `kitchen-pi` (an agent in group `kitchen`), the operator `ops-alice`,
    /// and `eve`, a stranger with a valid password.
    @Suite struct FleetACL {
        @Test(.needs(.executables)) func aStrangerCanNeitherReadPromptsNorForgeReplies() throws {
            let accounts = FleetAccounts(broker: try MosquittoBroker(users: FleetAccounts.passwords,
                                                                     acl: try FleetAccounts.documentedBlock(after: "## ACL")))
            let agent = try accounts.launchDevice()
            defer { kill(agent.process.processIdentifier, SIGKILL) }
            let alice = MessageInbox()
            let operatorClient = try accounts.operatorClient(inbox: alice)
            defer { operatorClient.stop() }
            // Not `$share/kitchen/elutq/fleet/prompt`: mosquitto's acl_file grants every subscription
            // and filters deliveries, so a stranger in the shared group takes a share of the prompts,
            // which the broker then drops (broker.md says so; FleetDynsec tests the fix).
            let eve = MessageInbox()
            let stranger = try accounts.client("eve", id: "eve-1", subscriptions: [
                "elutq/fleet/prompt", "elutq/kitchen-pi/prompt", FleetAccounts.replyTopic, "#",
            ], inbox: eve)
            defer { stranger.stop() }

            // The operator asks the fleet; the stranger, who could not read the request, forges an
            // answer with its correlation data anyway.
            let id = "fleet-1"
            operatorClient.publish(FleetAccounts.fleetPrompt(id, "What is the capital of France?"))
            let forged: JSON = ["id": .string(id), "seq": 0, "text": "FORGED BY EVE", "done": true]
            stranger.publish(MQTTMessage(topic: FleetAccounts.replyTopic, json: forged, qos: 1, correlationData: Array(id.utf8)))

            let received = try FleetAccounts.replies(to: [id], in: alice)[id] ?? []
            #expect(received.last?["done"]?.bool == true, "\(received)\n\(agent.stderr())")
            #expect(received.last?["device"]?.string == "kitchen-pi")
            #expect(!received.contains { $0.serialized.contains("FORGED") }, "the forged reply reached the operator")
            // Nothing the stranger subscribed to delivered anything: not the prompt, not the replies.
            let leaked = eve.next(timeout: 2)
            #expect(leaked == nil, "the stranger received \(leaked?.topic ?? "")")
            #expect(!agent.stderr().contains("refused a subscription"), "the device lacks a right it needs:\n\(agent.stderr())")
        }
    }
}
