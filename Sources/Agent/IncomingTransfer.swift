import Foundation
import Glibc
import ModelFile
import ModelPush
import Protocol

/// A model being received: the file, its block bitmap and its manifest, side by side in the
/// store's `.incoming/` directory and named after the file's SHA-256.
///
/// Each block is written in place and its bit set in memory. The receiver calls `flush` every
/// `flushInterval` blocks, whenever no further block is waiting, and after the last one: the file
/// goes to disk (`fdatasync`) first and only then the bitmap, so the bitmap on disk never claims a
/// block that a crash or power cut could still take away. Blocks are acknowledged only once
/// flushed, so every acknowledged block survives, and what a resumed push sends again is at most
/// what was unacknowledged: the sender's window. The manifest is stored beside them so a resumed
/// transfer is only continued under the very same manifest; any other starts over.
final class IncomingTransfer {
    let signed: SignedManifest
    private(set) var bitmap: BlockBitmap
    let dataPath: String
    let bitmapPath: String
    let manifestPath: String
    private var data: Int32
    private var bits: Int32
    /// Blocks written since the last flush, whose bits are not on disk yet (not acknowledged).
    private(set) var unflushed: [Int] = []

    /// Most blocks between two flushes: 2 MiB at the default block size, so a flush (tens of
    /// milliseconds on an SD card) costs a few percent of the transfer at most. It is half the
    /// sender's default window, so acknowledgements flow while the next blocks arrive.
    static let flushInterval = 8

    /// Whether the blocks written so far should be flushed now, even with more on the way.
    var isFlushDue: Bool { unflushed.count >= Self.flushInterval || bitmap.isComplete }

    var manifest: PushManifest { signed.manifest }

    /// Continues the transfer of `signed` found in `directory`, or starts it afresh.
    init(_ signed: SignedManifest, in directory: String) throws {
        let base = "\(directory)/\(signed.manifest.sha256)"
        self.signed = signed
        dataPath = base + ".part"
        bitmapPath = base + ".bitmap"
        manifestPath = base + ".manifest"
        let count = signed.manifest.blockCount
        let stored = (try? Data(contentsOf: URL(fileURLWithPath: manifestPath))).flatMap { try? JSON(parsing: Array($0)) }
            .flatMap { try? SignedManifest(document: $0) }
        let previous = (try? Data(contentsOf: URL(fileURLWithPath: bitmapPath))).flatMap { BlockBitmap(count: count, bytes: Array($0)) }
        let resumable = stored?.manifest == signed.manifest && previous != nil
            && ((try? FileManager.default.attributesOfItem(atPath: dataPath))?[.size] as? Int) == signed.manifest.size
        if !resumable {
            for path in [dataPath, bitmapPath, manifestPath] { unlink(path) }
            try Data(signed.document.bytes).write(to: URL(fileURLWithPath: manifestPath), options: .atomic)
        }
        bitmap = resumable ? previous! : BlockBitmap(count: count)
        data = open(dataPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        bits = open(bitmapPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard data >= 0, bits >= 0 else {
            let reason = String(cString: strerror(errno))
            if data >= 0 { close(data) }
            if bits >= 0 { close(bits) }
            data = -1
            bits = -1
            throw PushError("cannot create the transfer files in \(directory): \(reason)")
        }
        if !resumable {
            guard ftruncate(data, off_t(signed.manifest.size)) == 0,
                  Self.write(bits, bitmap.bytes, at: 0) else {
                let reason = String(cString: strerror(errno))
                discard()
                throw PushError("cannot set up the transfer files in \(directory): \(reason)")
            }
        }
    }

    deinit { closeFiles() }

    /// Writes a checked block and records it in memory; false if it had already arrived.
    func write(_ block: BlockMessage) throws -> Bool {
        guard !bitmap.contains(block.index) else { return false }
        let offset = manifest.range(ofBlock: block.index).lowerBound
        guard block.data.withUnsafeBytes({ Self.write(data, $0, at: offset) }) else {
            throw PushError("cannot write block \(block.index): \(String(cString: strerror(errno)))")
        }
        bitmap.insert(block.index)
        unflushed.append(block.index)
        return true
    }

    /// Flushes the file's data, then writes the whole bitmap: bits reach the disk after their
    /// blocks. Returns the blocks now safe to acknowledge.
    func flush() throws -> [Int] {
        guard !unflushed.isEmpty else { return [] }
        guard fdatasync(data) == 0 else { throw PushError("cannot flush the received file: \(String(cString: strerror(errno)))") }
        guard Self.write(bits, bitmap.bytes, at: 0) else {
            throw PushError("cannot record the received blocks: \(String(cString: strerror(errno)))")
        }
        defer { unflushed.removeAll(keepingCapacity: true) }
        return unflushed
    }

    /// Closes and deletes the three files: the transfer is over, failed or superseded.
    func discard() {
        closeFiles()
        for path in [dataPath, bitmapPath, manifestPath] { unlink(path) }
    }

    /// Deletes the bitmap and manifest once the file has been moved into the store.
    func removeBookkeeping() {
        for path in [bitmapPath, manifestPath] { unlink(path) }
    }

    /// Closes the files: the transfer is over, or the received file is about to be checked and
    /// renamed (its data went to disk with the flush after the last block).
    func closeFiles() {
        if data >= 0 { close(data) }
        if bits >= 0 { close(bits) }
        data = -1
        bits = -1
    }

    /// `pwrite`s all of `bytes` at `offset`; false on an error (with `errno` set).
    private static func write(_ descriptor: Int32, _ bytes: some ContiguousBytes, at offset: Int) -> Bool {
        bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let written = pwrite(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { return false }
                done += written
            }
            return true
        }
    }
}
