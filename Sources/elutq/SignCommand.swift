import ArgumentParser
import Foundation
import ModelPush
import Protocol

/// `elutq sign`: the signed manifest of a model, so one machine signs and another pushes.
struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a model for `elutq push`: writes MODEL.sig, its manifest with an Ed25519 signature.",
        discussion: "The manifest names the model, its size, SHA-256, block size and count and format version; the signature covers all of them.")

    @Argument(help: "The .hlq model to sign.") var model: String
    @Option(help: "The private key (elutq keygen).") var key: String
    @Option(help: "The name the model gets on the device (default: the file name without .hlq).") var name: String?
    @Option(name: .customLong("block-size"), help: "Bytes per block, 65536 to 262144.") var blockSize = PushManifest.defaultBlockSize
    @Option(name: [.customShort("o"), .long], help: "Where to write the signed manifest (default: MODEL.sig).") var output: String?

    func run() throws {
        let signed = try signedManifest(model: model, key: key, name: name, blockSize: blockSize)
        let path = output ?? model + ".sig"
        try Data(signed.document.bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        print("\(path): \(signed.manifest.name), \(signed.manifest.size) bytes, sha256 \(signed.manifest.sha256)")
    }
}

/// Hashes `model` and signs its manifest with the key at `key`, checking the fields first.
func signedManifest(model: String, key: String, name: String?, blockSize: Int) throws -> SignedManifest {
    let manifest = try PushManifest(file: model, name: name, blockSize: blockSize)
    if let problem = manifest.problem { throw ValidationError("cannot sign \(model): \(problem)") }
    do {
        return try SignedManifest.sign(manifest, with: try SigningKeys.privateKey(at: key))
    } catch {
        throw failure("\(error)")
    }
}
