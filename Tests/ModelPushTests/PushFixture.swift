import Agent
import AgentHarness
import Foundation
import ModelFile
import ModelPush
import MQTT
import Protocol
import TestSupport

/// The files push tests need, made once per test process: SmolLM2 quantized to a 4-bit HLQ
/// `.hlq` by `elutq quantize` (seconds of work), a trusted key pair and an untrusted one.
final class PushFixture: Sendable {
    static let shared = Result { try PushFixture() }

    let directory: URL
    /// SmolLM2-135M-Instruct, HLQ 4-bit g128 with q8 embeddings: the pushed model.
    let model: String
    let modelSHA256: String
    /// The private key the devices under test trust, and its public key file.
    let trustedKey: String
    let trustedPublicKey: String
    /// A key no device trusts.
    let untrustedKey: String

    private init() throws {
        directory = try makeTemporaryDirectory("push")
        model = directory.appendingPathComponent("smollm2-hlq4.hlq").path
        // Made by the CLI, as a build machine would make the model it pushes.
        let quantized = try run("elutq", ["quantize", try realModelPath(), "-o", model, "--bits", "4"])
        guard quantized.status == 0 else { throw TestFailure("elutq quantize failed:\n\(quantized.stderr)") }
        modelSHA256 = try FileDigest.sha256(path: model)
        trustedKey = directory.appendingPathComponent("trusted.key").path
        trustedPublicKey = try SigningKeys.generate(privatePath: trustedKey).publicPath
        untrustedKey = directory.appendingPathComponent("untrusted.key").path
        try SigningKeys.generate(privatePath: untrustedKey)
    }

    /// The pushed model's manifest, signed by the trusted key.
    func signedManifest(name: String = "smollm2-hlq4") throws -> SignedManifest {
        try SignedManifest.sign(try PushManifest(file: model, name: name), with: try SigningKeys.privateKey(at: trustedKey))
    }

    /// A model command's document, signed for `device` at `time` by `key` (default: the trusted key).
    func signedCommand(_ command: String, name: String?, id: String, device: String = "d1", key: String? = nil,
                       at time: Date = Date()) throws -> JSON {
        var request = ModelCommand(id: id, command: command, name: name)
        try request.sign(for: device, with: try SigningKeys.privateKey(at: key ?? trustedKey), at: time)
        return request.document
    }

    /// A file of `count` seeded random bytes in the fixture directory.
    func randomFile(_ name: String, count: Int) throws -> String {
        var random = SeededRandom(seed: 7)
        let path = directory.appendingPathComponent(name).path
        try Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// Agent settings for push tests: a fresh model store under the broker's directory, trusting the fixture's key.
func pushConfiguration(_ harness: Harness, trusted: Bool = true) throws -> (inout AgentConfiguration) -> Void {
    let fixture = try PushFixture.shared.get()
    let store = harness.broker.directory.appendingPathComponent("store-\(UUID().uuidString.prefix(6))").path
    return { configuration in
        configuration.modelStore = store
        configuration.trustedKeys = trusted ? [fixture.trustedPublicKey] : []
    }
}

/// A client that pushes as `elutq push` does, in process, so a test can act in the middle of a push.
final class PushClient {
    let client: MQTTClient
    let inbox = MessageInbox()
    let replyTopic = "test/push/\(UUID().uuidString.prefix(8))"

    init(broker: MosquittoBroker) throws {
        client = try connectedClient(broker: broker, subscriptions: [replyTopic], inbox: inbox)
    }

    deinit { client.stop() }

    func sender(device: String, options: PushSender.Options = PushSender.Options()) -> PushSender {
        let topics = Topics(prefix: "elutq", device: device)
        return PushSender(client: client, inbox: inbox, device: device, manifestTopic: topics.pushManifest, blockTopic: topics.pushBlock,
                          replyTopic: replyTopic, options: options)
    }

    /// Publishes a manifest document and returns the device's first answer to it.
    func sendManifest(_ document: JSON, device: String) throws -> PushEvent {
        client.publish(MQTTMessage(topic: Topics(prefix: "elutq", device: device).pushManifest, json: document, qos: 1,
                                   responseTopic: replyTopic))
        return try nextEvent()
    }

    func sendBlock(_ payload: [UInt8], device: String) {
        client.publish(MQTTMessage(topic: Topics(prefix: "elutq", device: device).pushBlock, payload: payload, qos: 1))
    }

    /// The next transfer event the device sends.
    func nextEvent() throws -> PushEvent {
        let deadline = Date().addingTimeInterval(patience)
        while let message = inbox.next(timeout: deadline.timeIntervalSinceNow) {
            guard let document = try? JSON(parsing: message.payload), let event = PushEvent(document: document) else { continue }
            return event
        }
        throw TestFailure("no transfer event within \(Int(patience)) s")
    }
}

/// The `.hlq` files in a store directory, and what is left in its `.incoming/`.
func storeContents(_ directory: String) -> (models: [String], incoming: [String]) {
    let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    let incoming = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/.incoming")) ?? []
    return (files.filter { $0.hasSuffix(".hlq") }.sorted(), incoming.sorted())
}
