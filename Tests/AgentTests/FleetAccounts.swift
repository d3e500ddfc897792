import AgentHarness
import Foundation
import MQTT
import Protocol
import TestSupport

/// The three accounts of the broker.md access tests, on a broker configured as broker.md says: the
/// device `kitchen-pi` (an agent in group `kitchen`), the operator `ops-alice`, and `eve`, a
/// stranger with a valid password.
struct FleetAccounts {
    static let passwords = ["kitchen-pi": "device secret", "ops-alice": "operator secret", "eve": "stranger secret"]
    /// Where the operator's client (id `alice-1`) hears replies.
    static let replyTopic = Topics.clientReplies(prefix: "elutq", clientID: "alice-1")

    let broker: MosquittoBroker

    /// The first code block after `heading` in firmware-notes/broker.md whose fence names `language`
    /// (none by default), so the configuration tested is the one documented.
    static func documentedBlock(after heading: String, language: String = "") throws -> String {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("firmware-notes/broker.md"), encoding: .utf8)
        guard let start = text.range(of: heading),
              let open = text.range(of: "```\(language)\n", range: start.upperBound..<text.endIndex),
              let close = text.range(of: "```", range: open.upperBound..<text.endIndex) else {
            throw TestFailure("broker.md has no \(language) block after \(heading)")
        }
        return String(text[open.upperBound..<close.lowerBound])
    }

    /// `elutq-agent` logged in as `kitchen-pi`, in group `kitchen`, serving the real SmolLM2.
    func launchDevice() throws -> LaunchedProcess {
        try launch("elutq-agent", [
            "--broker-host", "127.0.0.1", "--broker-port", String(broker.port), "--device-id", "kitchen-pi",
            "--group", "kitchen", "--username", "kitchen-pi", "--password", Self.passwords["kitchen-pi"]!,
            "--model", try realModelPath(), "--threads", "1", "--context-size", "256", "--temperature", "0",
            "--request-timeout", String(patience), "--log-level", "info",
        ])
    }

    /// A client logged in as `user`, subscribed to `subscriptions`, filing what arrives in `inbox` and
    /// its connection events (a refused subscription among them) in `events`.
    func client(_ user: String, id: String, subscriptions: [String], inbox: MessageInbox, events: EventLog = EventLog()) throws -> MQTTClient {
        var settings = MQTTConfiguration(host: "127.0.0.1", port: broker.port, clientID: id)
        settings.username = user
        settings.password = Self.passwords[user]
        settings.subscriptions = subscriptions
        let client = try MQTTClient(configuration: settings, onMessage: { inbox.append($0) }, onEvent: events.append)
        client.start()
        guard client.waitUntilConnected(timeout: patience) else { throw TestFailure("\(user) did not connect") }
        return client
    }

    /// The operator's client, hearing its replies and the statuses; returned once it sees the device online.
    func operatorClient(inbox: MessageInbox) throws -> MQTTClient {
        let client = try client("ops-alice", id: "alice-1", subscriptions: [Self.replyTopic, "elutq/+/status"], inbox: inbox)
        try waitUntil("the operator sees the device online") {
            guard let message = inbox.next(timeout: 0.1) else { return false }
            return message.topic == "elutq/kitchen-pi/status" && (try? JSON(parsing: message.payload))?["online"]?.bool == true
        }
        return client
    }

    /// A prompt for whichever member of a group the broker hands it to, answered on the operator's reply topic.
    static func fleetPrompt(_ id: String, _ text: String) -> MQTTMessage {
        MQTTMessage(topic: "elutq/fleet/prompt", json: promptRequest(id, text, maxTokens: 8), qos: 1,
                    responseTopic: replyTopic, correlationData: Array(id.utf8))
    }

    /// The replies on the operator's reply topic, by request id, until each of `ids` has its last
    /// (done or an error) or nothing arrives for `patience` seconds.
    static func replies(to ids: Set<String>, in inbox: MessageInbox) throws -> [String: [JSON]] {
        var replies: [String: [JSON]] = [:]
        var unfinished = ids
        while !unfinished.isEmpty, let message = inbox.next(timeout: patience) {
            guard message.topic == replyTopic else { continue }
            let document = try JSON(parsing: message.payload)
            let id = document["id"]?.string ?? ""
            replies[id, default: []].append(document)
            if document["done"]?.bool == true || document["error"] != nil { unfinished.remove(id) }
        }
        return replies
    }
}
