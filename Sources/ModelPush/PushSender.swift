import Foundation
import ModelFile
import MQTT
import Protocol

/// Sends one file to one device: the manifest, then the blocks the device says it lacks, with at
/// most `window` blocks unacknowledged at any time.
///
/// The device acknowledges each block once it is written. When acks stop coming for
/// `stallTimeout` seconds (a broker restart, an agent restart, a lost connection) the sender
/// asks again with the manifest and resumes from the device's answer, which is the truth: a
/// block it lists as missing is sent again even if it was acknowledged (an agent that crashed
/// loses the blocks written since its last flush). A cut costs the blocks in flight, at most
/// `window`, plus those; the answer to an older question is ignored, so two questions never add up.
///
/// Only events of `device` count: a fleet push hears every device on one reply topic, and a
/// device that was asked again while it verified its file answers `installed` more than once,
/// after its own push has ended. Once the device says it is verifying, the sender stops asking
/// and waits up to `giveUpAfter` seconds between its events for the outcome.
public final class PushSender {
    public struct Options: Sendable {
        /// Blocks sent and not yet acknowledged, at most.
        public var window = 16
        /// Seconds without any answer after which the sender asks for the missing blocks again.
        public var stallTimeout = 3.0
        /// Seconds without any answer after which the push fails (it can be resumed by running it again).
        public var giveUpAfter = 120.0

        public init() {}
    }

    /// What a finished push did.
    public struct Summary: Sendable {
        public var name: String
        public var bytes: Int
        /// Bytes the device already had when the push began (resumed from an earlier run).
        public var alreadyPresent: Int
        public var seconds: Double
        public var blocksSent: Int
        /// Blocks sent more than once within this run.
        public var blocksResent: Int
        /// Manifests sent: one, plus one per stall.
        public var queries: Int
        /// Megabytes (10^6 bytes) per second of the blocks this run moved.
        public var megabytesPerSecond: Double { Double(max(0, bytes - alreadyPresent)) / 1e6 / max(seconds, 1e-9) }
    }

    let client: MQTTClient
    let inbox: MessageInbox
    let device: String
    let manifestTopic: String
    let blockTopic: String
    let replyTopic: String
    let options: Options

    /// `inbox` must receive what arrives on `replyTopic`, which the client must be subscribed to;
    /// `device` is the id the device puts in its events.
    public init(client: MQTTClient, inbox: MessageInbox, device: String, manifestTopic: String, blockTopic: String,
                replyTopic: String, options: Options = Options()) {
        self.client = client
        self.inbox = inbox
        self.device = device
        self.manifestTopic = manifestTopic
        self.blockTopic = blockTopic
        self.replyTopic = replyTopic
        self.options = options
    }

    /// Pushes `file` under `signed`'s manifest and returns once the device has installed it.
    /// `progress` gets the bytes the device has acknowledged and the total, after every ack.
    /// Throws the device's reason if it rejects the push, or after `giveUpAfter` seconds of silence.
    public func push(file path: String, signed: SignedManifest,
                     progress: (_ acknowledged: Int, _ total: Int) -> Void = { _, _ in }) throws -> Summary {
        let mapped = try MappedFile(path: path)
        let manifest = signed.manifest
        guard mapped.count == manifest.size else {
            throw PushError("\(path) has \(mapped.count) bytes but the manifest says \(manifest.size): it changed after signing")
        }
        let tag = BlockMessage.transferTag(sha256: manifest.sha256)
        var state = SenderState(blockCount: manifest.blockCount)
        var summary = Summary(name: manifest.name, bytes: manifest.size, alreadyPresent: 0, seconds: 0, blocksSent: 0,
                              blocksResent: 0, queries: 0)
        let start = Date()
        var lastHeard = Date()
        var lastAsked = Date()
        func ask() {
            state.ask()
            summary.queries += 1
            lastAsked = Date()
            var document = signed.document.object!
            document["query"] = JSON(state.query)
            client.publish(MQTTMessage(topic: manifestTopic, json: .object(document), qos: 1, responseTopic: replyTopic))
        }
        func acknowledgedBytes() -> Int {
            (0..<manifest.blockCount).reduce(0) { $0 + (state.acknowledged.contains($1) ? manifest.range(ofBlock: $1).count : 0) }
        }
        ask()
        var firstAnswer = true
        var verifying = false
        while true {
            while let index = state.nextBlock(window: options.window) {
                let range = manifest.range(ofBlock: index)
                let payload = BlockMessage.encode(transfer: tag, index: index, data: UnsafeRawBufferPointer(rebasing: mapped.bytes[range]))
                client.publish(MQTTMessage(topic: blockTopic, payload: payload, qos: 1))
                summary.blocksSent += 1
            }
            // While the device verifies, a new question would only queue behind the check.
            let wake = verifying ? lastHeard.addingTimeInterval(options.giveUpAfter)
                                 : max(lastHeard, lastAsked).addingTimeInterval(options.stallTimeout)
            guard let message = inbox.next(timeout: max(0.01, wake.timeIntervalSinceNow)) else {
                if Date().timeIntervalSince(lastHeard) > options.giveUpAfter {
                    throw PushError("the device has not answered for \(Int(options.giveUpAfter)) s\(verifying ? " while verifying the file" : ""); run the push again to resume")
                }
                if !verifying, Date().timeIntervalSince(max(lastHeard, lastAsked)) >= options.stallTimeout { ask() }
                continue
            }
            guard message.topic == replyTopic, let document = try? JSON(parsing: message.payload), document["device"]?.string == device,
                  let event = PushEvent(document: document), event.sha256 == manifest.sha256 else { continue }
            lastHeard = Date()
            switch event {
            case let .missing(_, query, ranges, _):
                guard state.answered(query: query, missing: ranges) else { continue }
                if firstAnswer {
                    summary.alreadyPresent = acknowledgedBytes()
                    firstAnswer = false
                }
                progress(acknowledgedBytes(), manifest.size)
            case let .ack(_, index, _):
                guard index >= 0, index < manifest.blockCount else { continue }
                state.acknowledge(index)
                progress(acknowledgedBytes(), manifest.size)
            case .verifying:
                verifying = true
            case .installed:
                // Installed before any missing list: the device had the file already.
                if firstAnswer { summary.alreadyPresent = manifest.size }
                summary.blocksResent = state.resent
                summary.seconds = Date().timeIntervalSince(start)
                progress(manifest.size, manifest.size)
                return summary
            case let .rejected(_, reason):
                throw PushError(reason)
            }
        }
    }
}

/// The sender's bookkeeping, apart from the I/O so the window rule is easy to check.
struct SenderState {
    var acknowledged: BlockBitmap
    /// Sent and not acknowledged; never more than the window.
    private(set) var inFlight: Set<Int> = []
    /// Blocks to send, in order; `next` is the position in it.
    private var queue: [Int] = []
    private var next = 0
    private var everSent: BlockBitmap
    /// Blocks sent a second time or more.
    private(set) var resent = 0
    /// The number of the latest manifest sent; only its answer counts.
    private(set) var query = 0
    /// Waiting for the answer to `query`: nothing is sent meanwhile.
    private(set) var asking = false

    init(blockCount: Int) {
        acknowledged = BlockBitmap(count: blockCount)
        everSent = BlockBitmap(count: blockCount)
    }

    mutating func ask() {
        query += 1
        asking = true
    }

    /// Takes the device's missing list, if it answers the latest question: exactly those blocks
    /// are sent next, acknowledged before or not, and all others count as acknowledged. The
    /// in-flight set empties, because the answer says exactly which of them arrived. Returns
    /// false for a stale answer.
    mutating func answered(query: Int, missing: [Range<Int>]) -> Bool {
        guard query == self.query, asking else { return false }
        asking = false
        let count = acknowledged.count
        var isMissing = [Bool](repeating: false, count: count)
        for range in missing { for index in range.clamped(to: 0..<count) { isMissing[index] = true } }
        acknowledged = BlockBitmap(count: count)
        for index in 0..<count where !isMissing[index] { acknowledged.insert(index) }
        queue = (0..<count).filter { isMissing[$0] }
        next = 0
        inFlight = []
        return true
    }

    mutating func acknowledge(_ index: Int) {
        acknowledged.insert(index)
        inFlight.remove(index)
    }

    /// The next block to send, if the window has room and one is due.
    mutating func nextBlock(window: Int) -> Int? {
        guard !asking, inFlight.count < window else { return nil }
        while next < queue.count {
            let index = queue[next]
            next += 1
            if acknowledged.contains(index) { continue }
            inFlight.insert(index)
            if !everSent.insert(index) { resent += 1 }
            return index
        }
        return nil
    }
}
