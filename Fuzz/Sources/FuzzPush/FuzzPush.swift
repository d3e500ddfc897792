import Crypto
import ModelPush
import Protocol

/// A push as a device and a sender read it: the payload as a signed manifest (checked, then its
/// signature against a trusted key), as a block message (header, length, CRC-32C), and as the
/// transfer event a device sends back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let payload = Array(UnsafeBufferPointer(start: data, count: size))
    if let block = try? BlockMessage(payload: payload) {
        _ = block.isIntact
    }
    guard let document = try? JSON(parsing: payload) else { return 0 }
    _ = PushEvent(document: document)
    if let signed = try? SignedManifest(document: document) {
        try? signed.verify(trustedKeys: [trustedKey])
    }
    return 0
}

/// A key the manifests' signatures are checked against; nothing signs with it.
let trustedKey = Curve25519.Signing.PrivateKey().publicKey
