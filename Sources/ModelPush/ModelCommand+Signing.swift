import Crypto
import Foundation
import Protocol

/// Signed `use` and `rm`: a model command that changes what a device serves must be signed by a
/// key the device trusts, for that device, recently, and only once.
extension ModelCommand {
    /// The signed bytes: the command, its name, the device it is for, when it was issued and its
    /// nonce. The device id is the device's own, never one read from the message, so a command
    /// signed for one device is refused by every other.
    public func canonicalBytes(device: String) -> [UInt8] {
        var encoder = CanonicalBytes(domain: "elutq model command v1\n")
        encoder.append(id)
        encoder.append(command)
        encoder.append(name ?? "")
        encoder.append(device)
        encoder.append(Int(issued ?? 0))
        encoder.append(nonce ?? "")
        return encoder.bytes
    }

    /// Stamps the command with the time and a fresh random nonce, and signs it for `device`.
    public mutating func sign(for device: String, with key: Curve25519.Signing.PrivateKey, at time: Date = Date()) throws {
        issued = Int64((time.timeIntervalSince1970 * 1000).rounded())
        nonce = SymmetricKey(size: .bits128).withUnsafeBytes { Data($0).base64EncodedString() }
        signature = Array(try key.signature(for: canonicalBytes(device: device)))
    }

    /// Whether the command changes the store or the served model, and so must be signed.
    public var needsSignature: Bool { command != "list" }

    /// Checks the signature against `trustedKeys` and has `replays` admit the command once;
    /// throws the reason a device must refuse it.
    public func verify(device: String, trustedKeys: [Curve25519.Signing.PublicKey], replays: CommandReplayGuard,
                       now: Date = Date()) throws(RequestError) {
        guard !trustedKeys.isEmpty else {
            throw RequestError(.forbidden, "this device trusts no signing keys (trusted_keys is empty), so it refuses every \(command)")
        }
        guard let signature, let issued, let nonce else {
            throw RequestError(.forbidden, "\(command) changes what this device serves, so it must be signed (elutq \(command) --key KEY)")
        }
        guard trustedKeys.contains(where: { $0.isValidSignature(signature, for: canonicalBytes(device: device)) }) else {
            throw RequestError(.forbidden, "the command's signature does not verify against any trusted key (signed by an untrusted key, for another device, or modified after signing)")
        }
        try replays.admit(nonce: nonce, issued: issued, now: now)
    }
}

/// Refuses a signed command seen before: each must be issued within `maxAge` of the device's
/// clock, after the agent started (the nonces it remembers do not survive a restart), and carry
/// a nonce not seen among the commands it admitted in the last `maxAge`.
public final class CommandReplayGuard: @unchecked Sendable {
    // @unchecked Sendable: `seen` is only touched under `lock`.
    public let maxAge: TimeInterval
    private let startedAt: Date
    private let lock = NSLock()
    /// Admitted nonces and when they were issued (Unix milliseconds); pruned as they age out.
    private var seen: [String: Int64] = [:]

    public init(maxAge: TimeInterval, startedAt: Date = Date()) {
        self.maxAge = maxAge
        self.startedAt = startedAt
    }

    /// Admits a command issued at `issued` (Unix milliseconds) with `nonce`, or throws why not.
    public func admit(nonce: String, issued: Int64, now: Date) throws(RequestError) {
        let nowMillis = Int64(now.timeIntervalSince1970 * 1000)
        let window = Int64(maxAge * 1000)
        let (age, overflow) = nowMillis.subtractingReportingOverflow(issued)
        guard !overflow, age.magnitude <= UInt64(window) else {
            throw RequestError(.forbidden, "the command was issued \(overflow ? "at an impossible time for" : Self.describe(age)) this device's clock; it must be within \(Int(maxAge)) s (command_max_age), so an old command cannot be replayed")
        }
        guard issued >= Int64(startedAt.timeIntervalSince1970 * 1000) else {
            throw RequestError(.forbidden, "the command was issued before this agent started, so it may be a replay; send it again")
        }
        lock.lock()
        defer { lock.unlock() }
        seen = seen.filter { nowMillis - $0.value <= window }
        guard seen[nonce] == nil else {
            throw RequestError(.forbidden, "this signed command was already used once (same nonce); a replay is refused")
        }
        seen[nonce] = issued
    }

    /// "N s before" or "N s after" the device's clock, for a command `age` milliseconds old.
    private static func describe(_ age: Int64) -> String {
        String(format: "%.0f s %@", Double(age.magnitude) / 1000, age > 0 ? "before" : "after")
    }
}
