import Glibc

/// Small files replaced so that a crash or a power cut leaves the old one or the new one, whole.
///
/// `String.write(toFile:atomically:)` renames a temporary file into place but flushes neither the
/// file nor its directory, so after a power cut the name can point at an empty file.
public enum DurableFile {
    /// Why a durable write failed: the system call, its file and `errno`'s text.
    public struct Failure: Error, CustomStringConvertible {
        public let operation: String
        public let path: String
        public let reason: String
        public var description: String { "cannot \(operation) \(path): \(reason)" }
    }

    /// Writes `bytes` to a temporary file beside `path`, flushes it, renames it over `path` and
    /// flushes the directory.
    public static func write(_ bytes: [UInt8], to path: String) throws(Failure) {
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw failure("open", temporary) }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + written, $0.count - written) }
            guard count > 0 else {
                close(descriptor)
                unlink(temporary)
                throw failure("write to", temporary)
            }
            written += count
        }
        guard fsync(descriptor) == 0, close(descriptor) == 0 else {
            unlink(temporary)
            throw failure("flush", temporary)
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw failure("rename \(temporary) to", path)
        }
        try syncDirectory(directory(of: path))
    }

    /// Flushes `directory`, which makes a rename into it survive a power cut.
    public static func syncDirectory(_ directory: String) throws(Failure) {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("open directory", directory) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure("flush directory", directory) }
    }

    /// The directory holding `path`: `a/b/model.hlq` gives `a/b`, `model.hlq` gives `.`.
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }

    private static func failure(_ operation: String, _ path: String) -> Failure {
        Failure(operation: operation, path: path, reason: String(cString: strerror(errno)))
    }
}
