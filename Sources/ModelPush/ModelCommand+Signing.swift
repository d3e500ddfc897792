import Crypto
import Foundation
import ModelFile
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
/// clock, and carry a nonce not seen among the commands admitted in the last `maxAge`.
///
/// With a `file` (in the model store), the nonces survive a restart: they are written durably
/// before a command is admitted. That matters on boards without a real-time clock, which boot
/// with their clock behind: a command captured before the restart could otherwise be replayed
/// while the clock catches up. The window is kept relative to the newest command admitted rather
/// than to the clock, so a clock set back neither forgets nonces early nor lets in a command older
/// than that window (two signers' clocks may differ by at most `maxAge`). While no history is
/// known (no file, a first start, a file that is empty or damaged), a command issued before the
/// agent started is refused instead, since it may be one admitted before.
public final class CommandReplayGuard: @unchecked Sendable {
    // @unchecked Sendable: the mutable state is only touched under `lock`.
    public let maxAge: TimeInterval
    /// The nonces' file, or nil when they live in memory only.
    public let file: String?
    /// Why the nonces' file could not be used as it was, for the agent's log.
    public let problem: String?
    private let startedAt: Date
    private let lock = NSLock()
    /// Admitted nonces and when they were issued (Unix milliseconds); pruned as they age out.
    private var seen: [String: Int64] = [:]
    /// The newest `issued` admitted.
    private var newest = Int64.min
    /// Whether the nonces admitted before this start are known (read from the file, or none
    /// could have been: one has been written since).
    private var historyKnown = false

    /// A guard whose nonces live in `file` when given. A damaged file is moved aside (to
    /// `<file>.damaged`) and rewritten at the next admission.
    public init(maxAge: TimeInterval, startedAt: Date = Date(), file: String? = nil) {
        self.maxAge = maxAge
        self.startedAt = startedAt
        self.file = file
        var problem: String?
        if let file, FileManager.default.fileExists(atPath: file) {
            if let saved = Self.load(file), !saved.isEmpty {
                seen = saved
                newest = saved.values.max() ?? .min
                historyKnown = true
            } else {
                rename(file, file + ".damaged")
                problem = "\(file) was empty or damaged (moved to \(file).damaged): until a command is admitted, commands issued before this start are refused"
            }
        }
        self.problem = problem
    }

    /// Admits a command issued at `issued` (Unix milliseconds) with `nonce`, or throws why not.
    public func admit(nonce: String, issued: Int64, now: Date) throws(RequestError) {
        let nowMillis = Int64(now.timeIntervalSince1970 * 1000)
        let window = Int64(maxAge * 1000)
        let (age, overflow) = nowMillis.subtractingReportingOverflow(issued)
        guard !overflow, age.magnitude <= UInt64(window) else {
            throw RequestError(.forbidden, "the command was issued \(overflow ? "at an impossible time for" : Self.describe(age)) this device's clock; it must be within \(Int(maxAge)) s (command_max_age), so an old command cannot be replayed")
        }
        guard (1...64).contains(nonce.utf8.count), !nonce.contains(where: \.isWhitespace) else {
            throw RequestError(.forbidden, "the command's nonce must be 1 to 64 bytes without spaces")
        }
        lock.lock()
        defer { lock.unlock() }
        if !historyKnown {
            guard issued >= Int64(startedAt.timeIntervalSince1970 * 1000) else {
                throw RequestError(.forbidden, "the command was issued before this agent started, so it may be a replay; send it again")
            }
        }
        guard newest == .min || issued >= newest - window else {
            throw RequestError(.forbidden, "the command was issued more than \(Int(maxAge)) s (command_max_age) before one this device already admitted, so it may be a replay (if a signer's clock was wrong, removing \(file ?? "the agent's memory") clears the record)")
        }
        guard seen[nonce] == nil else {
            throw RequestError(.forbidden, "this signed command was already used once (same nonce); a replay is refused")
        }
        let newestNext = max(newest, issued)
        var next = seen.filter { $0.value >= newestNext - window }
        next[nonce] = issued
        if let file {
            // Recorded before it is admitted: a nonce forgotten at the next start would reopen the hole.
            let text = next.sorted { $0.value < $1.value }.map { "\($0.value) \($0.key)\n" }.joined()
            do { try DurableFile.write(Array(text.utf8), to: file) } catch {
                throw RequestError(.internal, "cannot record the command's nonce (\(error.description)), so it is refused")
            }
        }
        seen = next
        newest = newestNext
        historyKnown = true
    }

    /// The nonces a file holds, one `issued nonce` line each; nil if it is not such a file.
    private static func load(_ path: String) -> [String: Int64]? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        var seen: [String: Int64] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let issued = Int64(fields[0]) else { return nil }
            seen[String(fields[1])] = issued
        }
        return seen
    }

    /// "N s before" or "N s after" the device's clock, for a command `age` milliseconds old.
    private static func describe(_ age: Int64) -> String {
        String(format: "%.0f s %@", Double(age.magnitude) / 1000, age > 0 ? "before" : "after")
    }
}
