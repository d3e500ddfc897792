import Crypto
import Dispatch
import Foundation
import ModelFile
import ModelPush
import MQTT
import Parallel
import Protocol
import Runtime
import Synchronization

/// The device's end of a push: checks manifests, writes blocks, and on the last block verifies
/// the file and has the store install it.
///
/// Everything runs on one serial queue of its own, apart from the MQTT delivery queue, so
/// writing and hashing a model never delays a prompt (and the store changes one at a time).
/// One transfer is under way at a time; a manifest for another file discards the unfinished one.
final class ModelReceiver: @unchecked Sendable {
    // @unchecked Sendable: `transfer` and `route` are only touched on `queue`.
    let store: ModelStore
    let trustedKeys: [Curve25519.Signing.PublicKey]
    let queue = DispatchQueue(label: "elutq models")
    private var transfer: IncomingTransfer?
    /// Where the current transfer's events go: the latest manifest's response topic.
    private var route: ReplyRoute?
    /// Block messages handed to `queue` and not yet processed. When none is waiting the received
    /// blocks are flushed and acknowledged at once, so a sender whose window is full never waits
    /// for a flush that waits for more blocks.
    private let waitingBlocks = Atomic<Int>(0)

    init(store: ModelStore, trustedKeys: [Curve25519.Signing.PublicKey]) {
        self.store = store
        self.trustedKeys = trustedKeys
    }

    /// A manifest message, whose events go to `route`; `sink` hears every outcome.
    func receiveManifest(_ message: MQTTMessage, route: ReplyRoute, sink: any ModelReceiverSink) {
        queue.async { [self] in manifest(message, route: route, sink) }
    }

    /// A block message of the current transfer.
    func receiveBlock(_ message: MQTTMessage, sink: any ModelReceiverSink) {
        waitingBlocks.add(1, ordering: .sequentiallyConsistent)
        queue.async { [self] in
            waitingBlocks.subtract(1, ordering: .sequentiallyConsistent)
            block(message, sink)
        }
    }

    private func manifest(_ message: MQTTMessage, route: ReplyRoute, _ sink: any ModelReceiverSink) {
        let log = sink.log
        guard let document = try? JSON(parsing: message.payload) else {
            return sink.publish(.rejected(sha256: "", reason: "the manifest is not a JSON document"), to: route)
        }
        let sha = document["sha256"]?.string ?? ""
        let signed: SignedManifest
        do {
            signed = try SignedManifest(document: document)
            try signed.verify(trustedKeys: trustedKeys)
        } catch {
            log.warn("refused a push", ["sha256": sha, "reason": error.description])
            return sink.publish(.rejected(sha256: sha, reason: error.description), to: route)
        }
        let manifest = signed.manifest
        if let stored = store.entry(sha256: manifest.sha256, log: log), stored.name == manifest.name {
            return sink.publish(.installed(sha256: sha, name: manifest.name), to: route)
        }
        if sink.isServed(store.path(of: manifest.name)) {
            return sink.publish(.rejected(sha256: sha, reason: Self.servedReason(manifest.name)), to: route)
        }
        if let current = transfer, current.manifest != manifest {
            log.info("abandoned an unfinished push for a new one", ["old": current.manifest.sha256, "new": sha])
            current.discard()
            transfer = nil
        }
        if transfer == nil {
            // Leftovers of other pushes go first, so their space counts as free.
            store.discardIncoming(except: sha)
            let resuming = FileManager.default.fileExists(atPath: "\(store.incomingDirectory)/\(sha).part")
            if !resuming, let free = store.freeBytes(), free < manifest.size + Self.diskMargin {
                return sink.publish(.rejected(sha256: sha, reason: "not enough disk space in the model store: \(manifest.size) bytes needed (plus a \(Self.diskMargin >> 20) MiB margin), \(free) free"), to: route)
            }
            do {
                transfer = try IncomingTransfer(signed, in: store.incomingDirectory)
            } catch {
                return sink.publish(.rejected(sha256: sha, reason: "\(error)"), to: route)
            }
            log.info("receiving a model", ["name": manifest.name, "sha256": sha, "bytes": manifest.size,
                                           "blocks": manifest.blockCount, "already_received": transfer!.bitmap.received])
        }
        self.route = route
        let bitmap = transfer!.bitmap
        sink.publish(.missing(sha256: sha, query: Int(document["query"]?.int ?? 0), ranges: bitmap.missingRanges, received: bitmap.received), to: route)
        if bitmap.isComplete { install(sink) }
    }

    /// Space left free beyond the model itself, so a push never fills the disk to the last byte.
    static let diskMargin = 16 << 20

    /// Why a push under the served model's name is refused: renaming over the served file would
    /// change the weights under a running model.
    static func servedReason(_ name: String) -> String {
        "\(name) is the model being served; push under another name, or switch to another model first"
    }

    /// A block message: written if it is good, then the written blocks are flushed and
    /// acknowledged when due (also after a dropped block, whose neighbours may be waiting), and the
    /// file installed once every block is on disk.
    private func block(_ message: MQTTMessage, _ sink: any ModelReceiverSink) {
        write(message, sink)
        flushIfDue(sink)
        if let transfer, transfer.bitmap.isComplete, transfer.unflushed.isEmpty { install(sink) }
    }

    private func write(_ message: MQTTMessage, _ sink: any ModelReceiverSink) {
        let log = sink.log
        let block: BlockMessage
        do {
            block = try BlockMessage(payload: message.payload)
        } catch {
            return log.warn("dropped a malformed block message", ["reason": error.description])
        }
        guard let transfer, block.transfer == BlockMessage.transferTag(sha256: transfer.manifest.sha256) else {
            // Blocks of a push whose manifest this agent has not seen (since a restart, say); the
            // sender asks again with the manifest when its acks stop.
            return log.debug("dropped a block of no current transfer", ["index": block.index])
        }
        // A bad block is dropped, not acknowledged: the sender's acks stall, it asks for the
        // missing blocks and sends this one again. One damaged message (a broker or bridge bug, a
        // bad sender) costs one block, not the whole transfer; the file is still checked whole.
        let manifest = transfer.manifest
        guard block.index < manifest.blockCount, block.data.count == manifest.range(ofBlock: block.index).count else {
            return log.warn("dropped a block that does not fit the manifest", [
                "index": block.index, "bytes": block.data.count, "blocks": manifest.blockCount, "block_size": manifest.blockSize])
        }
        guard block.isIntact else { return log.warn("dropped a block that failed its CRC-32C check", ["index": block.index]) }
        do {
            // A duplicate (a retransmission after a reconnect) is not written again; once it is on
            // disk it is acknowledged again, since the sender may have missed the first ack.
            if try !transfer.write(block) && !transfer.unflushed.contains(block.index) {
                send(.ack(sha256: manifest.sha256, index: block.index, received: transfer.bitmap.received), sink)
            }
        } catch {
            reject("\(error)", sink)
        }
    }

    /// Flushes and acknowledges the written blocks once enough have gathered, the last is in, or
    /// no further block is waiting. Each ack counts the blocks on disk up to and including it.
    private func flushIfDue(_ sink: any ModelReceiverSink) {
        guard let transfer, transfer.isFlushDue || waitingBlocks.load(ordering: .sequentiallyConsistent) == 0 else { return }
        do {
            let flushed = try transfer.flush()
            let durableBefore = transfer.bitmap.received - flushed.count
            for (k, index) in flushed.enumerated() {
                send(.ack(sha256: transfer.manifest.sha256, index: index, received: durableBefore + k + 1), sink)
            }
        } catch {
            reject("\(error)", sink)
        }
    }

    /// The last block is in: checks size, SHA-256, signature and that the file is a model, then
    /// has the store install it. Any failure before the install deletes it; the served model is
    /// never touched. The checks can take minutes on a slow board, so `verifying` goes to the
    /// sender before each, and it waits for the outcome instead of giving up.
    private func install(_ sink: any ModelReceiverSink) {
        guard let transfer else { return }
        let manifest = transfer.manifest
        func verifying() { send(.verifying(sha256: manifest.sha256), sink) }
        do {
            verifying()
            transfer.closeFiles()
            let size = (try? FileManager.default.attributesOfItem(atPath: transfer.dataPath))?[.size] as? Int ?? -1
            guard size == manifest.size else { throw PushError("the received file has \(size) bytes, the manifest says \(manifest.size)") }
            let digest = try FileDigest.sha256(path: transfer.dataPath)
            guard digest == manifest.sha256 else {
                throw PushError("SHA-256 mismatch: the manifest says \(manifest.sha256), the received file hashes to \(digest)")
            }
            try transfer.signed.verify(trustedKeys: trustedKeys)
            verifying()
            do {
                try HLQFile(path: transfer.dataPath).verify()
                verifying()
                _ = try LoadedModel.open(transfer.dataPath, pool: ThreadPool(threadCount: 1))
            } catch {
                throw PushError("the file is not a valid .hlq model: \(error)")
            }
            // Checked again here: a `use` since the manifest may have made the name the served one.
            if sink.isServed(store.path(of: manifest.name)) { throw PushError(Self.servedReason(manifest.name)) }
            try store.install(transfer.dataPath, as: manifest.name, sha256: manifest.sha256, log: sink.log)
        } catch {
            return reject("\(error)", sink)
        }
        // The model is in the store from here on: nothing below can undo that, so nothing
        // below turns the push into a rejection.
        transfer.removeBookkeeping()
        self.transfer = nil
        sink.log.info("installed a pushed model", ["name": manifest.name, "sha256": manifest.sha256, "bytes": manifest.size])
        send(.installed(sha256: manifest.sha256, name: manifest.name), sink)
    }

    /// Ends the current transfer: deletes its files and tells the sender why.
    private func reject(_ reason: String, _ sink: any ModelReceiverSink) {
        guard let transfer else { return }
        sink.log.warn("rejected a push", ["name": transfer.manifest.name, "sha256": transfer.manifest.sha256, "reason": reason])
        transfer.discard()
        self.transfer = nil
        send(.rejected(sha256: transfer.manifest.sha256, reason: reason), sink)
    }

    /// Publishes an event of the current transfer on its latest manifest's route (set whenever
    /// a transfer is).
    private func send(_ event: PushEvent, _ sink: any ModelReceiverSink) {
        guard let route else { return }
        sink.publish(event, to: route)
    }
}
