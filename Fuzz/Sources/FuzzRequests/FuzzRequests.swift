import Crypto
import Foundation
import ModelPush
import MQTT
import Protocol
import Runtime

/// One payload as each request an agent reads from MQTT: a prompt, a cancel and a model command
/// (whose signature is checked against a trusted key), with the response topic a hostile client
/// may set taken from the payload's first line.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let newline = bytes.firstIndex(of: UInt8(ascii: "\n"))
    let responseTopic = newline.map { String(decoding: bytes[..<$0], as: UTF8.self) }
    let payload = Array(bytes[(newline.map { $0 + 1 } ?? 0)...])
    let message = MQTTMessage(topic: topics.prompt, payload: payload, responseTopic: responseTopic)
    _ = PromptRequest.parse(message, limits: limits, topics: topics)
    _ = CancelRequest(message)
    if case .success(let command) = ModelCommand.parse(message, topics: topics) {
        _ = try? command.action()
        try? command.verify(device: topics.device, trustedKeys: [trustedKey], replays: replays)
    }
    return 0
}

let topics = Topics(prefix: "elutq", device: "d1")
/// The agent's defaults: 8 KiB of prompt, 256 new tokens.
let limits = RequestLimits(maxPromptBytes: 8192, maxNewTokens: 256, defaults: GenerationOptions())
/// A key the commands' signatures are checked against; nothing signs with it, as nothing an
/// attacker holds does.
let trustedKey = Curve25519.Signing.PrivateKey().publicKey
let replays = CommandReplayGuard(maxAge: 300)
