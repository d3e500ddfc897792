import AgentHarness
import Foundation
import Glibc
import MQTT
import Protocol
import Testing
import TestSupport

extension BrokerTests {
    /// The dynamic security configuration in firmware-notes/broker.md, as documented with the
    /// passwords added, on a real mosquitto with the plugin and the accounts of `FleetACL`; `eve`,
    /// whom the file does not list, is added as a client with no role.
    @Suite struct FleetDynsec {
        @Test(.needs(.executables)) func aStrangerIsRefusedEverySubscriptionSoEveryFleetPromptIsAnswered() throws {
            let configuration = try FleetAccounts.documentedBlock(after: "## Dynamic security", language: "json")
            let accounts = FleetAccounts(broker: try MosquittoBroker(users: FleetAccounts.passwords, dynamicSecurity: configuration))
            let agent = try accounts.launchDevice()
            defer { kill(agent.process.processIdentifier, SIGKILL) }
            let alice = MessageInbox()
            let operatorClient = try accounts.operatorClient(inbox: alice)
            defer { operatorClient.stop() }

            // The stranger tries to join the device's group and to read everything else. The acl_file
            // grants each of these subscriptions, so their refusal is the plugin at work.
            let subscriptions = ["$share/kitchen/elutq/fleet/prompt", "elutq/fleet/prompt", "elutq/kitchen-pi/prompt", FleetAccounts.replyTopic, "#"]
            let eve = MessageInbox()
            let refusals = EventLog()
            let stranger = try accounts.client("eve", id: "eve-1", subscriptions: subscriptions, inbox: eve, events: refusals)
            defer { stranger.stop() }
            // The client hands its events to its delivery queue, so they may trail its coming online.
            try waitUntil("the broker refuses every subscription of the stranger", timeout: 10) {
                subscriptions.allSatisfy { refusals.count(of: .subscriptionRefused(topic: $0)) == 1 }
            }

            // Four fleet prompts at once: a stranger in the group would be handed some of them, which
            // nobody would answer (the acl_file lost 2 of 4). The stranger forges an answer to one.
            let ids = (1...4).map { "fleet-\($0)" }
            for id in ids {
                operatorClient.publish(FleetAccounts.fleetPrompt(id, "What is the capital of France?"))
            }
            let forged: JSON = ["id": .string(ids[0]), "seq": 0, "text": "FORGED BY EVE", "done": true]
            stranger.publish(MQTTMessage(topic: FleetAccounts.replyTopic, json: forged, qos: 1, correlationData: Array(ids[0].utf8)))

            let replies = try FleetAccounts.replies(to: Set(ids), in: alice)
            for id in ids {
                let received = replies[id] ?? []
                #expect(received.last?["done"]?.bool == true, "\(id) was not answered: \(received)\n\(agent.stderr())")
                #expect(received.last?["device"]?.string == "kitchen-pi", "\(id)")
            }
            #expect(!replies.values.joined().contains { $0.serialized.contains("FORGED") }, "the forged reply reached the operator")
            let leaked = eve.next(timeout: 2)
            #expect(leaked == nil, "the stranger received \(leaked?.topic ?? "")")
            #expect(!agent.stderr().contains("refused a subscription"), "the device lacks a right it needs:\n\(agent.stderr())")
        }
    }
}
