import Foundation
import MQTT
import Protocol
import Synchronization

/// One client of the soak: asks the device one prompt at a time, sends a request again when
/// `ResendPolicy` says it may have been lost, and files every reply by its correlation data, so
/// that an answer arriving twice or late is counted too.
final class SoakClient: @unchecked Sendable {
    struct Options {
        var host: String
        var port: Int
        var topicPrefix: String
        var device: String
        var maxTokens: Int
        /// Seconds after which a request without a final reply or an error counts as never answered.
        var deadline: Double
    }

    let index: Int
    let options: Options
    /// Read only by this client's thread until `run` returns.
    private(set) var records: [String: RequestRecord] = [:]
    /// The device's last status said online: a request goes out only then, as `elutq prompt
    /// --device` waits for it, so that a request sent into an outage is not blamed on the agent.
    private var deviceOnline = false
    private let client: MQTTClient
    private let inbox = MessageInbox()
    private let reconnected = Flag()
    private let replyTopic: String
    private let topics: Topics

    /// A few different questions, so the answers differ in length as real traffic does.
    static let questions = [
        "Give me three tips for sleeping well.", "What is the capital of France?",
        "Write a haiku about the sea.", "Explain what a CPU cache is in two sentences.",
        "Name three fruits that are red.",
    ]

    init(index: Int, options: Options) throws {
        self.index = index
        self.options = options
        let clientID = "soak-\(getpid())-\(index)"
        topics = Topics(prefix: options.topicPrefix, device: options.device)
        replyTopic = Topics.clientReplies(prefix: options.topicPrefix, clientID: clientID)
        var configuration = MQTTConfiguration(host: options.host, port: options.port, clientID: clientID)
        configuration.subscriptions = [replyTopic, topics.status]
        configuration.maximumReconnectDelay = 5
        let connections = Atomic(0)
        client = try MQTTClient(configuration: configuration, onMessage: { [inbox] in inbox.append($0) },
                                onEvent: { [reconnected] event in
                                    if event == .connected, connections.add(1, ordering: .relaxed).newValue > 1 {
                                        reconnected.set()
                                    }
                                })
    }

    /// Asks one request after another until `stopping` is set, then lingers `linger` seconds for
    /// late replies (a second answer would come then).
    func run(stopping: Flag, linger: Double) {
        client.start()
        _ = client.waitUntilConnected(timeout: 30)
        var number = 0
        while !stopping.isSet {
            ask(id: "soak-\(index)-\(number)", question: Self.questions[(index + number) % Self.questions.count])
            number += 1
        }
        let end = Date().addingTimeInterval(linger)
        while let message = inbox.next(timeout: end.timeIntervalSinceNow) { file(message) }
        client.stop()
    }

    /// Sends one request once the device is online, and waits for its final reply or an error,
    /// sending it again as `ResendPolicy` says.
    private func ask(id: String, question: String) {
        // Sampled without a seed: a request generated twice would (almost surely) differ.
        let document: JSON = ["id": .string(id), "prompt": .string(question), "max_tokens": JSON(options.maxTokens), "stream": true]
        let request = MQTTMessage(topic: topics.prompt, json: document, qos: 1, responseTopic: replyTopic, correlationData: Array(id.utf8))
        let deadline = Date().addingTimeInterval(options.deadline)
        while !deviceOnline, deadline.timeIntervalSinceNow > 0 {
            _ = reconnected.take()
            if let message = inbox.next(timeout: min(0.5, deadline.timeIntervalSinceNow)) { _ = take(message) }
        }
        records[id] = RequestRecord(id: id)
        client.publish(request)
        var resend = ResendPolicy()
        while deadline.timeIntervalSinceNow > 0, records[id]?.isSettled == false {
            var sendAgain = false
            if reconnected.take() {
                resend.clientReconnected()
                sendAgain = true
            }
            if let message = inbox.next(timeout: min(0.5, deadline.timeIntervalSinceNow)), let status = take(message) {
                sendAgain = resend.sendsAgain(onStatus: status) || sendAgain
            }
            if sendAgain {
                client.publish(request)
                records[id]?.sends += 1
            }
        }
    }

    /// Files a reply, or notes the device's status and returns it.
    private func take(_ message: MQTTMessage) -> JSON? {
        guard message.topic == topics.status else {
            file(message)
            return nil
        }
        guard let status = try? JSON(parsing: message.payload) else { return nil }
        if let online = status["online"]?.bool { deviceOnline = online }
        return status
    }

    /// Files a reply under the request its correlation data names (any request of this client).
    private func file(_ message: MQTTMessage) {
        guard message.topic == replyTopic, let correlation = message.correlationData,
              let reply = try? JSON(parsing: message.payload) else { return }
        records[String(decoding: correlation, as: UTF8.self)]?.file(reply, payload: message.payload)
    }
}
