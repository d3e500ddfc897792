#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory.
///
/// Model files are hundreds of megabytes, and most of a model's bytes are used in place:
/// mapping lets the kernel page weights in on demand and share them between processes,
/// where reading would copy everything up front. The mapping is private and read-only,
/// so nothing we do can change the file on disk.
///
/// Every accessor checks its range against `count` first, so a parser built on these
/// accessors can trust any offset it reads from the file only after it has been checked.
public final class MappedFile: @unchecked Sendable {
    // @unchecked Sendable: the mapping is immutable from init to deinit, so sharing it
    // between threads is safe; the compiler just can't see through the raw pointer.

    /// The path the file was opened with.
    public let path: String
    /// The file's size in bytes.
    public let count: Int
    /// All of the file's bytes, valid for as long as this object lives.
    public let bytes: UnsafeRawBufferPointer
    /// Whether `bytes` is a mapping (unmapped at the end) or a heap copy (freed).
    private let isMapping: Bool

    /// Maps the file at `path`.
    ///
    /// Throws `MappedFileError` if the file can't be opened, is not a regular file, is empty
    /// (`mmap` refuses zero-length mappings), or can't be mapped.
    public init(path: String) throws(MappedFileError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MappedFileError.cannotOpen(path: path, reason: Self.lastErrorText()) }
        // The mapping keeps its own reference to the file, so the descriptor is only needed until mmap returns.
        defer { close(fd) }

        var status = stat()
        guard fstat(fd, &status) == 0 else {
            throw MappedFileError.cannotOpen(path: path, reason: Self.lastErrorText())
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw MappedFileError.notARegularFile(path: path) }
        guard status.st_size > 0 else { throw MappedFileError.empty(path: path) }
        let size = Int(status.st_size)

        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        // Glibc's MAP_FAILED is a macro cast, ((void *) -1), which Swift can't import.
        guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw MappedFileError.cannotMap(path: path, reason: Self.lastErrorText())
        }
        self.path = path
        self.count = size
        self.bytes = UnsafeRawBufferPointer(start: address, count: size)
        self.isMapping = true
    }

    /// A heap copy of `contents` behind the same checked accessors, called `path` in errors: for
    /// the fuzz targets, which hand a parser bytes rather than a file. The copy is exactly as long
    /// as `contents`, so AddressSanitizer reports a read past its end, which the rest of a
    /// mapping's last page would hide. Empty contents throw `.empty`, as an empty file does.
    public init(copying contents: UnsafeRawBufferPointer, path: String) throws(MappedFileError) {
        guard contents.count > 0 else { throw .empty(path: path) }
        // Page-aligned like a mapping, so parsers see the alignment a real file gives them.
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: contents.count, alignment: 4096)
        copy.copyMemory(from: contents)
        self.path = path
        self.count = contents.count
        self.bytes = UnsafeRawBufferPointer(copy)
        self.isMapping = false
    }

    deinit {
        if isMapping {
            munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), count)
        } else {
            UnsafeMutableRawPointer(mutating: bytes.baseAddress!).deallocate()
        }
    }

    /// The `count` bytes starting at `offset`, or `MappedFileError.outOfBounds` if any of them is past the end.
    public func bytes(at offset: Int, count: Int) throws(MappedFileError) -> UnsafeRawBufferPointer {
        guard offset >= 0, count >= 0, offset <= self.count, count <= self.count - offset else {
            throw MappedFileError.outOfBounds(path: path, offset: offset, count: count, fileSize: self.count)
        }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
    }

    /// Reads a little-endian integer at `offset`, which need not be aligned.
    public func load<T: FixedWidthInteger>(_: T.Type, at offset: Int) throws(MappedFileError) -> T {
        let range = try bytes(at: offset, count: MemoryLayout<T>.size)
        return T(littleEndian: range.loadUnaligned(as: T.self))
    }

    private static func lastErrorText() -> String {
        String(cString: strerror(errno))
    }
}

/// Why a file could not be mapped or read.
public enum MappedFileError: Error, Equatable, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case notARegularFile(path: String)
    case empty(path: String)
    case cannotMap(path: String, reason: String)
    case outOfBounds(path: String, offset: Int, count: Int, fileSize: Int)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            "cannot open \(path): \(reason)"
        case let .notARegularFile(path):
            "\(path) is not a regular file"
        case let .empty(path):
            "\(path) is empty"
        case let .cannotMap(path, reason):
            "cannot map \(path) into memory: \(reason)"
        case let .outOfBounds(path, offset, count, fileSize):
            "\(path): \(count) bytes at offset \(offset) run past the end of the \(fileSize)-byte file"
        }
    }
}
