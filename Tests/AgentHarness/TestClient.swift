import Foundation
import MQTT
import Protocol
import TestSupport

/// Everything received for one request id, in arrival order.
public struct Transcript {
    public var chunks: [(seq: Int, text: String)] = []
    public var final: JSON?
    public var error: JSON?
    /// The MQTT messages themselves, to check topics and correlation data.
    public var messages: [MQTTMessage] = []

    public var isComplete: Bool { final != nil || error != nil }
    public var errorCode: String? { error?["error"]?["code"]?.string }
    public var streamedText: String { chunks.sorted { $0.seq < $1.seq }.map(\.text).joined() }
    public var finalText: String? { final?["text"]?.string }
}

/// A test's MQTT client: publishes requests and files the replies by request id; every other
/// message (statuses, telemetry) waits in `others` for `message(where:)`.
///
/// Every wait has a generous limit and throws when it runs out, so a broken agent fails the test
/// instead of hanging it.
public final class TestClient {
    public let client: MQTTClient
    private let inbox = MessageInbox()
    private var transcripts: [String: Transcript] = [:]
    private var others: [MQTTMessage] = []

    public init(broker: MosquittoBroker, subscriptions: [String], sessionExpiry: UInt32 = 0) throws {
        client = try connectedClient(broker: broker, subscriptions: subscriptions, inbox: inbox, sessionExpiry: sessionExpiry)
    }

    deinit { client.stop() }

    public func publish(_ topic: String, _ document: JSON, responseTopic: String? = nil, correlationData: [UInt8]? = nil) {
        client.publish(MQTTMessage(topic: topic, json: document, qos: 1, responseTopic: responseTopic, correlationData: correlationData))
    }

    public func publish(_ topic: String, bytes: [UInt8]) {
        client.publish(MQTTMessage(topic: topic, payload: bytes, qos: 1))
    }

    /// Waits until the request `id` (nil: the requests without a readable id) has its final or error reply.
    public func reply(_ id: String?, timeout: Double = patience) throws -> Transcript {
        let key = id ?? "unknown"
        try pump(timeout: timeout, what: "a reply to \(key)") { transcripts[key]?.isComplete == true }
        return transcripts.removeValue(forKey: key)!
    }

    /// Waits until request `id` has streamed at least `count` chunks; returns what it has so far.
    public func chunks(_ id: String, atLeast count: Int, timeout: Double = patience) throws -> Transcript {
        try pump(timeout: timeout, what: "\(count) chunks of \(id)") {
            (transcripts[id]?.chunks.count ?? 0) >= count || transcripts[id]?.isComplete == true
        }
        return transcripts[id]!
    }

    /// The first message that is not a reply and satisfies `predicate`, waiting for it if need be.
    public func message(timeout: Double = patience, _ description: String, where predicate: (MQTTMessage) -> Bool) throws -> MQTTMessage {
        var found: MQTTMessage?
        try pump(timeout: timeout, what: description) {
            if let index = others.firstIndex(where: predicate) { found = others.remove(at: index) }
            return found != nil
        }
        return found!
    }

    /// A status document of `device` saying `online`, waiting for it.
    @discardableResult
    public func status(of device: String, online: Bool, prefix: String = "elutq", fresh: Bool = false) throws -> MQTTMessage {
        try message("\(device) \(online ? "online" : "offline")") { message in
            message.topic == "\(prefix)/\(device)/status" && (!fresh || !message.retain)
                && (try? JSON(parsing: message.payload))?["online"]?.bool == online
        }
    }

    private func pump(timeout: Double, what: String, until done: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !done() {
            guard let message = inbox.next(timeout: deadline.timeIntervalSinceNow) else {
                throw TestFailure("waited \(Int(timeout)) s for \(what) in vain")
            }
            file(message)
        }
    }

    /// Replies go to their request's transcript, keyed by the id inside them; the rest to `others`.
    private func file(_ message: MQTTMessage) {
        guard let document = try? JSON(parsing: message.payload), let fields = document.object, fields["id"] != nil,
              fields["seq"] != nil || fields["done"] != nil || fields["error"] != nil
        else {
            others.append(message)
            return
        }
        let key = fields["id"]?.string ?? "unknown"
        var transcript = transcripts[key] ?? Transcript()
        transcript.messages.append(message)
        if let seq = fields["seq"]?.int, let text = fields["text"]?.string {
            transcript.chunks.append((Int(seq), text))
        } else if fields["done"]?.bool == true {
            transcript.final = document
        } else {
            transcript.error = document
        }
        transcripts[key] = transcript
    }
}
