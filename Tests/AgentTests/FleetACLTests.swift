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
        static let passwords = ["kitchen-pi": "device secret", "ops-alice": "operator secret", "eve": "stranger secret"]

        /// The first code block after the ACL heading of broker.md.
        static func documentedACL() throws -> String {
            let text = try String(contentsOf: packageRoot.appendingPathComponent("firmware-notes/broker.md"), encoding: .utf8)
            guard let heading = text.range(of: "## ACL"),
                  let open = text.range(of: "```\n", range: heading.upperBound..<text.endIndex),
                  let close = text.range(of: "```", range: open.upperBound..<text.endIndex) else {
                throw TestFailure("broker.md has no ACL block")
            }
            return String(text[open.upperBound..<close.lowerBound])
        }

        /// A client logged in as `user`, subscribed to `subscriptions`, filing what arrives in `inbox`.
        func client(_ user: String, id: String, _ broker: MosquittoBroker, subscriptions: [String], inbox: MessageInbox) throws -> MQTTClient {
            var settings = MQTTConfiguration(host: "127.0.0.1", port: broker.port, clientID: id)
            settings.username = user
            settings.password = Self.passwords[user]
            settings.subscriptions = subscriptions
            let client = try MQTTClient(configuration: settings, onMessage: { inbox.append($0) })
            client.start()
            guard client.waitUntilConnected(timeout: patience) else { throw TestFailure("\(user) did not connect") }
            return client
        }

        @Test(.needs(.executables)) func aStrangerCanNeitherReadPromptsNorForgeReplies() throws {
            let broker = try MosquittoBroker(users: Self.passwords, acl: try Self.documentedACL())
            let agent = try launch("elutq-agent", [
                "--broker-host", "127.0.0.1", "--broker-port", String(broker.port), "--device-id", "kitchen-pi",
                "--group", "kitchen", "--username", "kitchen-pi", "--password", Self.passwords["kitchen-pi"]!,
                "--model", try realModelPath(), "--threads", "1", "--context-size", "256", "--temperature", "0",
                "--log-level", "info",
            ])
            defer { kill(agent.process.processIdentifier, SIGKILL) }

            let replyTopic = Topics.clientReplies(prefix: "elutq", clientID: "alice-1")
            let alice = MessageInbox()
            let operatorClient = try client("ops-alice", id: "alice-1", broker, subscriptions: [replyTopic, "elutq/+/status"], inbox: alice)
            defer { operatorClient.stop() }
            // Not `$share/kitchen/elutq/fleet/prompt`: mosquitto's acl_file grants every subscription
            // and filters deliveries, so a stranger in the shared group takes a share of the prompts,
            // which the broker then drops (broker.md says so; the dynamic security plugin is the fix).
            let eve = MessageInbox()
            let stranger = try client("eve", id: "eve-1", broker, subscriptions: [
                "elutq/fleet/prompt", "elutq/kitchen-pi/prompt", replyTopic, "#",
            ], inbox: eve)
            defer { stranger.stop() }
            try waitUntil("the operator sees the device online") {
                guard let message = alice.next(timeout: 0.1) else { return false }
                return message.topic == "elutq/kitchen-pi/status" && (try? JSON(parsing: message.payload))?["online"]?.bool == true
            }

            // The operator asks the fleet; the stranger, who could not read the request, forges an
            // answer with its correlation data anyway.
            let id = "fleet-1"
            operatorClient.publish(MQTTMessage(topic: "elutq/fleet/prompt", json: promptRequest(id, "What is the capital of France?", maxTokens: 8),
                                               qos: 1, responseTopic: replyTopic, correlationData: Array(id.utf8)))
            let forged: JSON = ["id": .string(id), "seq": 0, "text": "FORGED BY EVE", "done": true]
            stranger.publish(MQTTMessage(topic: replyTopic, json: forged, qos: 1, correlationData: Array(id.utf8)))

            var received: [JSON] = []
            while let message = alice.next(timeout: patience) {
                guard message.topic == replyTopic else { continue }
                let document = try JSON(parsing: message.payload)
                received.append(document)
                if document["done"]?.bool == true || document["error"] != nil { break }
            }
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
