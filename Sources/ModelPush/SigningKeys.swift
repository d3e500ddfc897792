import Crypto
import Foundation
import Glibc

/// Ed25519 keys for signing manifests, in one-line text files: `elutq-ed25519-private <base64>`
/// and `elutq-ed25519-public <base64>`. A line names its kind so a public key can never be
/// loaded where a private one is meant, and the files diff and copy like any config.
public enum SigningKeys {
    static let privateTag = "elutq-ed25519-private"
    static let publicTag = "elutq-ed25519-public"

    /// Writes a new key pair: the private key at `privatePath` with mode 0600 (created that way,
    /// never readable by others even for a moment), the public key at `privatePath.pub`.
    /// Refuses to overwrite an existing private key.
    @discardableResult
    public static func generate(privatePath: String) throws -> (privateKey: Curve25519.Signing.PrivateKey, publicPath: String) {
        let key = Curve25519.Signing.PrivateKey()
        let descriptor = open(privatePath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw PushError("cannot create \(privatePath): \(String(cString: strerror(errno)))") }
        let line = Array("\(privateTag) \(key.rawRepresentation.base64EncodedString())\n".utf8)
        let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let closed = close(descriptor) == 0
        guard written == line.count, closed else {
            unlink(privatePath)
            throw PushError("cannot write \(privatePath)")
        }
        let publicPath = privatePath + ".pub"
        try "\(publicTag) \(key.publicKey.rawRepresentation.base64EncodedString())\n".write(toFile: publicPath, atomically: true, encoding: .utf8)
        return (key, publicPath)
    }

    public static func privateKey(at path: String) throws -> Curve25519.Signing.PrivateKey {
        try key(at: path, tag: privateTag, kind: "private") { try Curve25519.Signing.PrivateKey(rawRepresentation: $0) }
    }

    public static func publicKey(at path: String) throws -> Curve25519.Signing.PublicKey {
        try key(at: path, tag: publicTag, kind: "public") { try Curve25519.Signing.PublicKey(rawRepresentation: $0) }
    }

    /// Reads a key file of `tag` and makes the key from its bytes, with one message for any failure.
    private static func key<Key>(at path: String, tag: String, kind: String, _ make: (Data) throws -> Key) throws -> Key {
        let bytes = try keyBytes(path, tag: tag)
        do { return try make(bytes) } catch { throw PushError("\(path) does not hold a valid Ed25519 \(kind) key") }
    }

    /// The key's bytes from a `<tag> <base64>` line.
    private static func keyBytes(_ path: String, tag: String) throws -> Data {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw PushError("cannot read \(path): \(error.localizedDescription)")
        }
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard fields.count >= 2, fields[0] == tag, let bytes = Data(base64Encoded: String(fields[1])) else {
            throw PushError("\(path) is not an elutq key file: expected a line `\(tag) <base64>`")
        }
        return bytes
    }
}

extension SignedManifest {
    /// Signs `manifest`'s canonical bytes.
    public static func sign(_ manifest: PushManifest, with key: Curve25519.Signing.PrivateKey) throws -> SignedManifest {
        SignedManifest(manifest: manifest, signature: Array(try key.signature(for: manifest.canonicalBytes)))
    }

    /// Checks the fields and the signature against `trustedKeys`; throws the reason a device
    /// must refuse the push. An empty list refuses everything: a device nobody configured
    /// keys for cannot be given a model by anyone.
    public func verify(trustedKeys: [Curve25519.Signing.PublicKey]) throws(PushError) {
        if let problem = manifest.problem { throw PushError("bad manifest: \(problem)") }
        guard !trustedKeys.isEmpty else { throw PushError("this device trusts no signing keys (trusted_keys is empty), so it refuses every push") }
        guard let signature else { throw PushError("the manifest is not signed") }
        let signed = manifest.canonicalBytes
        guard trustedKeys.contains(where: { $0.isValidSignature(signature, for: signed) }) else {
            throw PushError("the manifest's signature does not verify against any trusted key (signed by an untrusted key, or modified after signing)")
        }
    }
}
