import Agent
import Foundation
import ModelFile
import ModelPush
import Protocol
import TestSupport

/// The files push tests need, made once per test process: SmolLM2 quantized to a 4-bit HLQ
/// `.hlq` by `elutq quantize` (seconds of work), a trusted key pair and an untrusted one.
public final class PushFixture: Sendable {
    public static let shared = Result { try PushFixture() }

    public let directory: URL
    /// SmolLM2-135M-Instruct, HLQ 4-bit g128 with q8 embeddings: the pushed model.
    public let model: String
    public let modelSHA256: String
    /// The private key the devices under test trust, and its public key file.
    public let trustedKey: String
    public let trustedPublicKey: String
    /// A key no device trusts.
    public let untrustedKey: String

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
    public func signedManifest(name: String = "smollm2-hlq4") throws -> SignedManifest {
        try SignedManifest.sign(try PushManifest(file: model, name: name), with: try SigningKeys.privateKey(at: trustedKey))
    }

    /// A model command's document, signed for `device` at `time` by `key` (default: the trusted key).
    public func signedCommand(_ command: String, name: String?, id: String, device: String = "d1", key: String? = nil,
                              at time: Date = Date()) throws -> JSON {
        var request = ModelCommand(id: id, command: command, name: name)
        try request.sign(for: device, with: try SigningKeys.privateKey(at: key ?? trustedKey), at: time)
        return request.document
    }

    /// A file of `count` seeded random bytes in the fixture directory.
    public func randomFile(_ name: String, count: Int) throws -> String {
        var random = SeededRandom(seed: 7)
        let path = directory.appendingPathComponent(name).path
        try Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// Agent settings for push tests: a fresh model store under the broker's directory, trusting the fixture's key.
public func pushConfiguration(_ harness: Harness, trusted: Bool = true) throws -> (inout AgentConfiguration) -> Void {
    let fixture = try PushFixture.shared.get()
    let store = harness.broker.directory.appendingPathComponent("store-\(UUID().uuidString.prefix(6))").path
    return { configuration in
        configuration.modelStore = store
        configuration.trustedKeys = trusted ? [fixture.trustedPublicKey] : []
    }
}
