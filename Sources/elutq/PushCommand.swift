import ArgumentParser
import Crypto
import Foundation
import Glibc
import ModelPush
import MQTT
import Protocol

/// `elutq push`: sends a signed model to a device (or to every online device of a group).
struct PushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push a .hlq model to devices over MQTT: signed manifest, then blocks with a bounded window.",
        discussion: """
            The manifest is signed with --key now, or taken from MODEL.sig (`elutq sign`). The device \
            answers with the blocks it lacks, so running the same push again after an interruption \
            resumes it. A progress bar (on a terminal) shows bytes, rate and time to go; a summary \
            line ends each device's push. --activate serves the model once it is installed, with a `use` \
            signed by --key (which it therefore needs).
            """)

    @Argument(help: "The .hlq model to push.") var model: String
    @Option(help: "The device to push to.") var device: String?
    @Option(help: "Push to every online device of this fleet group, one after another.") var fleet: String?
    @Flag(help: "Serve the model once it is installed (as `elutq use` would).") var activate = false
    @Option(help: "Sign now with this private key (elutq keygen) instead of reading MODEL.sig.") var key: String?
    @Option(help: "The signed manifest (default: MODEL.sig).") var signature: String?
    @Option(help: "The model's name on the device, when signing now (default: the file name).") var name: String?
    @Option(help: "Blocks sent and not yet acknowledged, at most.") var window = PushSender.Options().window
    @Option(help: "Seconds without an answer before the push gives up (run it again to resume).") var timeout: Double = 120
    @Flag(help: "Print one JSON summary per device instead of text.") var json = false
    @OptionGroup var broker: BrokerOptions

    func validate() throws {
        guard (device == nil) != (fleet == nil) else { throw ValidationError("give either --device or --fleet") }
        guard (1...256).contains(window) else { throw ValidationError("--window must be 1...256") }
        guard key == nil || signature == nil else { throw ValidationError("give --key or --signature, not both") }
        guard !activate || key != nil else {
            throw ValidationError("--activate sends a signed `use`, so it needs --key (or push, then `elutq use --key KEY`)")
        }
    }

    func run() throws {
        let signed = try loadSignedManifest()
        let signingKey = try key.map { try SigningKeys.privateKey(at: $0) }
        let session = try DeviceSession(broker: broker, command: "push", device: device)
        defer { session.client.stop() }
        let devices = try targets(session)
        var failed: [String] = []
        for target in devices {
            do {
                try push(signed, to: target, session: session, signingKey: signingKey)
            } catch {
                failed.append(target)
            }
        }
        if !failed.isEmpty { throw failure("the push failed on \(failed.joined(separator: ", "))") }
    }

    /// The signed manifest: made now with --key, or read from --signature / MODEL.sig and checked
    /// against the file, so a stale signature is caught here rather than on every device.
    private func loadSignedManifest() throws -> SignedManifest {
        if let key { return try signedManifest(model: model, key: key, name: name, blockSize: PushManifest.defaultBlockSize) }
        let path = signature ?? model + ".sig"
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw ValidationError("no signature at \(path): sign the model with `elutq sign \(model) --key KEY`, or pass --key")
        }
        let signed: SignedManifest
        do {
            signed = try SignedManifest(document: try JSON(parsing: Array(bytes)))
        } catch {
            throw failure("\(path) is not a signed manifest: \(error)")
        }
        let actual = try PushManifest(file: model, name: signed.manifest.name, blockSize: signed.manifest.blockSize)
        guard actual == signed.manifest else {
            throw failure("\(path) does not match \(model) (size or SHA-256 differ): sign it again")
        }
        return signed
    }

    /// The devices to push to: --device, or the online members of --fleet from the retained statuses.
    private func targets(_ session: DeviceSession) throws -> [String] {
        if let device {
            try waitUntilOnline(session.topics(device), inbox: session.inbox, deadline: Date().addingTimeInterval(timeout))
            return [device]
        }
        var online: Set<String> = []
        let deadline = Date().addingTimeInterval(1)
        while let message = session.inbox.next(timeout: deadline.timeIntervalSinceNow) {
            guard let status = try? JSON(parsing: message.payload), let name = status["device"]?.string,
                  message.topic == session.topics(name).status else { continue }
            if status["online"]?.bool == true && status["group"]?.string == fleet { online.insert(name) } else { online.remove(name) }
        }
        guard !online.isEmpty else { throw failure("no online device in group \(fleet ?? "")") }
        return online.sorted()
    }

    /// Pushes to one device; with --activate, `signingKey` (read from --key) signs the `use`.
    private func push(_ signed: SignedManifest, to device: String, session: DeviceSession,
                      signingKey: Curve25519.Signing.PrivateKey?) throws {
        let topics = session.topics(device)
        var options = PushSender.Options()
        options.window = window
        options.giveUpAfter = timeout
        let sender = PushSender(client: session.client, inbox: session.inbox, device: device, manifestTopic: topics.pushManifest,
                                blockTopic: topics.pushBlock, replyTopic: session.pushTopic, options: options)
        let bar = ProgressBar(label: "\(device): \(signed.manifest.name)", enabled: !json)
        let summary: PushSender.Summary
        do {
            summary = try sender.push(file: model, signed: signed) { done, total in bar.update(done: done, total: total) }
            bar.end()
        } catch {
            bar.end()
            if json { print((["device": .string(device), "ok": false, "error": .string("\(error)")] as JSON).serialized) }
            FileHandle.standardError.write(Data("elutq: \(device): push failed: \(error)\n".utf8))
            throw error
        }
        var activeSHA: String?
        if activate {
            let reply = try session.modelCommand(device, "use", name: signed.manifest.name, key: signingKey, timeout: timeout)
            activeSHA = reply["active"]?["sha256"]?.string
        }
        let report: JSON = [
            "device": .string(device), "ok": true, "name": .string(summary.name), "sha256": .string(signed.manifest.sha256),
            "bytes": JSON(summary.bytes), "already_present": JSON(summary.alreadyPresent), "seconds": JSON(summary.seconds),
            "megabytes_per_second": JSON(summary.megabytesPerSecond), "blocks_sent": JSON(summary.blocksSent),
            "blocks_resent": JSON(summary.blocksResent), "manifests_sent": JSON(summary.queries), "window": JSON(window),
            "active_sha256": JSON(activeSHA),
        ]
        if json {
            print(report.serialized)
        } else if summary.blocksSent == 0 {
            print("\(device): \(summary.name) was already installed\(activate ? "; now serving it" : "")")
        } else {
            let resumed = summary.alreadyPresent > 0 ? String(format: ", resumed with %.1f MB already there", Double(summary.alreadyPresent) / 1e6) : ""
            print(String(format: "%@: installed %@, %.1f MB in %.2f s, %.1f MB/s, %d blocks sent (%d re-sent)%@%@",
                         device, summary.name, Double(summary.bytes) / 1e6, summary.seconds, summary.megabytesPerSecond,
                         summary.blocksSent, summary.blocksResent, resumed, activate ? "; now serving it" : ""))
        }
    }
}

/// A progress line on stderr that overwrites itself: bytes, rate and time to go. Only on a
/// terminal, so logs and pipes get no noise.
final class ProgressBar {
    let label: String
    let enabled: Bool
    let start = Date()
    private var first: (time: Date, done: Int)?

    init(label: String, enabled: Bool) {
        self.label = label
        self.enabled = enabled && isatty(STDERR_FILENO) != 0
    }

    func update(done: Int, total: Int) {
        guard enabled else { return }
        let now = Date()
        // The rate counts from the first report, so bytes a resumed push already had do not inflate it.
        let origin = first ?? (now, done)
        if first == nil { first = origin }
        let elapsed = now.timeIntervalSince(origin.time)
        let rate = elapsed > 0 ? Double(done - origin.done) / elapsed : 0
        let eta = rate > 0 ? String(format: "%.0f s", Double(total - done) / rate) : "-"
        let width = 30
        let filled = total > 0 ? width * done / total : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = String(format: "%@ [%@] %.1f/%.1f MB  %.1f MB/s  %@ to go", label, bar, Double(done) / 1e6, Double(total) / 1e6, rate / 1e6, eta)
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
    }

    func end() {
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
