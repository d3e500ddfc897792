#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Writes a `.hlq` file tensor by tensor, and puts it in place only once it is complete.
///
/// Tensors stream into a hidden file next to the destination, `.<name>.partial-<pid>`, so
/// memory stays bounded by the caller's largest tensor however big the model. `finish` appends
/// the metadata and directory, writes the header, flushes the file to disk and renames it over
/// the destination, so a reader sees the old file or the new one and never a mix. Anything
/// that throws, `abort()`, or dropping the writer unfinished deletes the temporary file and
/// leaves the destination untouched: an interrupted quantization leaves no half-written model.
/// A writer that has thrown is spent, and calling it again is a programming error. (A killed
/// process cannot clean up; its `.partial` file is safe to delete.)
public final class HLQFileWriter {
    public let destination: String
    /// Where the file is written until `finish` renames it to `destination`.
    public let temporaryPath: String
    /// The temporary file's descriptor, nil once the writer has finished or been aborted.
    private var descriptor: Int32?
    /// Where the next write goes. The first 64 bytes are left for the header, written last.
    private var end = HLQFileHeader.byteCount
    private var tensors: [HLQTensorInfo] = []
    private var names: Set<String> = []

    /// Zeros for the padding that aligns tensors and their parts.
    private static let zeros = [UInt8](repeating: 0, count: HLQFileHeader.alignment)

    /// Creates the temporary file in `destination`'s directory; the destination itself is not touched yet.
    public init(destination: String) throws(HLQFileError) {
        let (directory, name) = Self.split(destination)
        self.destination = destination
        temporaryPath = "\(directory)/.\(name).partial-\(getpid())"
        // O_EXCL: never adopt a file someone else is writing.
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Self.failure(temporaryPath, "create") }
        self.descriptor = descriptor
    }

    deinit {
        abort()
    }

    /// Appends a tensor, given as its parts in order (see `HLQTensorType`): one buffer of values
    /// for f32 and f16, int8 rows and f32 scales for q8, packed bits and params for hlq. The
    /// writer aligns each part, so they need not be concatenated first.
    ///
    /// Throws, aborting the writer, if the name is taken, the shape does not suit the type, the
    /// parts' sizes are not the ones type and shape call for, or the disk write fails.
    public func append(name: String, type: HLQTensorType, shape: [Int], parts: [UnsafeRawBufferPointer]) throws(HLQFileError) {
        let descriptor = openDescriptor()
        do throws(HLQFileError) {
            guard !names.contains(name) else { throw .duplicateTensor(name) }
            if let problem = type.problem(with: shape) { throw .invalidTensor(tensor: name, problem: problem) }
            let sizes = type.partSizes(shape: shape)
            guard parts.count == sizes.count else {
                throw .invalidTensor(tensor: name, problem: "\(type) takes \(sizes.count) parts (\(type.partNames.joined(separator: ", "))), not \(parts.count)")
            }
            for (index, (part, size)) in zip(parts, sizes).enumerated() where part.count != size {
                throw .invalidTensor(tensor: name, problem: "the \(type.partNames[index]) are \(part.count) bytes, but shape \(shape) needs \(size)")
            }

            try align(descriptor)
            let start = end
            var crc: UInt32 = 0
            for part in parts {
                // The padding between parts is part of the tensor, so it is checksummed too.
                crc = try align(descriptor, crc: crc)
                try write(descriptor, part)
                crc = CRC32C.checksum(part, seed: crc)
            }
            tensors.append(HLQTensorInfo(name: name, type: type, shape: shape, offset: start, byteCount: end - start, crc32c: crc))
            names.insert(name)
        } catch {
            abort()
            throw error
        }
    }

    /// Writes the metadata, directory and header, flushes the file and renames it into place.
    ///
    /// The directory is flushed too, so that the rename itself survives a crash. That flush is
    /// the one failure that comes after the new file is already in place.
    public func finish(metadata: HLQFileMetadata) throws(HLQFileError) {
        let descriptor = openDescriptor()
        do throws(HLQFileError) {
            let metadataJSON = try HLQFileJSON.encode(metadata, as: .metadata)
            let directory = HLQFileDirectory(metadataCRC32C: CRC32C.checksum(metadataJSON), tensors: tensors)
            let directoryJSON = try HLQFileJSON.encode(directory, as: .directory)
            let metadataStart = end
            try write(descriptor, metadataJSON)
            let directoryStart = end
            try write(descriptor, directoryJSON)
            let header = HLQFileHeader(metadata: metadataStart..<directoryStart, directory: directoryStart..<end,
                                       fileLength: end, directoryChecksum: CRC32C.checksum(directoryJSON))
            try Self.writeAll(descriptor, header.encoded(), at: 0, path: temporaryPath)
            guard fsync(descriptor) == 0 else { throw Self.failure(temporaryPath, "flush") }
        } catch {
            abort()
            throw error
        }
        // The file is complete but not yet in place; from here a failure deletes it by hand.
        self.descriptor = nil
        // close can report a write the kernel deferred, so its result counts too.
        guard close(descriptor) == 0 else { throw discard(Self.failure(temporaryPath, "close")) }
        guard rename(temporaryPath, destination) == 0 else {
            throw discard(Self.failure(destination, "rename \(temporaryPath) to"))
        }
        try Self.syncDirectory(of: destination)
    }

    /// Deletes the temporary file and leaves the destination as it was. Does nothing after `finish`.
    public func abort() {
        guard let descriptor else { return }
        self.descriptor = nil
        close(descriptor)
        unlink(temporaryPath)
    }

    /// The descriptor of a writer still in use; using one after `finish` or `abort` is a programming error.
    private func openDescriptor() -> Int32 {
        guard let descriptor else { preconditionFailure("the writer for \(destination) has already finished or been aborted") }
        return descriptor
    }

    /// Deletes the temporary file after `error`, which must be formed first: it reads `errno`.
    private func discard(_ error: HLQFileError) -> HLQFileError {
        unlink(temporaryPath)
        return error
    }

    /// Writes `bytes` at the end of the file.
    private func write(_ descriptor: Int32, _ bytes: some ContiguousBytes) throws(HLQFileError) {
        end += try Self.writeAll(descriptor, bytes, at: end, path: temporaryPath)
    }

    /// Writes zeros up to the next multiple of the alignment, and returns `crc` extended over them.
    @discardableResult
    private func align(_ descriptor: Int32, crc: UInt32 = 0) throws(HLQFileError) -> UInt32 {
        let padding = Self.zeros[0..<(roundUp(end, to: HLQFileHeader.alignment) - end)]
        try write(descriptor, padding)
        return CRC32C.checksum(padding, seed: crc)
    }

    /// `pwrite`s all of `bytes` at `position`, retrying interrupted and partial writes, and returns their count.
    @discardableResult
    private static func writeAll(_ descriptor: Int32, _ bytes: some ContiguousBytes, at position: Int,
                                 path: String) throws(HLQFileError) -> Int {
        let (count, failed) = bytes.withUnsafeBytes { bytes -> (Int, Bool) in
            var done = 0
            while done < bytes.count {
                let written = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(position + done))
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { return (done, true) }
                done += written
            }
            return (done, false)
        }
        if failed { throw failure(path, "write to") }
        return count
    }

    /// Flushes the directory holding `path`, which makes a rename into it durable.
    private static func syncDirectory(of path: String) throws(HLQFileError) {
        do throws(DurableFile.Failure) {
            try DurableFile.syncDirectory(DurableFile.directory(of: path))
        } catch {
            throw .cannotWrite(path: error.path, operation: error.operation, reason: error.reason)
        }
    }

    /// The directory and file name of `path`: `a/b/model.hlq` gives `a/b` and `model.hlq`.
    private static func split(_ path: String) -> (directory: String, name: String) {
        let name = path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
        return (DurableFile.directory(of: path), name)
    }

    /// The error for a system call on `path` that just failed, with `errno`'s text.
    private static func failure(_ path: String, _ operation: String) -> HLQFileError {
        .cannotWrite(path: path, operation: operation, reason: String(cString: strerror(errno)))
    }
}
