/// A read position in a mapped GGUF file that turns "ran off the end" into a `GGUFError`.
///
/// The header, metadata and tensor directory are a stream of variable-length records, so the
/// parser walks them front to back. Every read names what it is reading (lazily, so the happy
/// path builds no strings) and that name ends up in the error if the file is too short.
struct GGUFCursor {
    let file: MappedFile
    private(set) var offset = 0

    init(_ file: MappedFile) {
        self.file = file
    }

    var remaining: Int { file.count - offset }

    /// The next `count` bytes, or `GGUFError.truncated` naming `what`.
    mutating func bytes(_ count: Int, for what: @autoclosure () -> String) throws(GGUFError) -> UnsafeRawBufferPointer {
        guard count <= remaining else {
            throw .truncated(what: what(), offset: offset, needed: count, fileSize: file.count)
        }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: file.bytes[offset..<offset + count])
    }

    /// The next little-endian integer.
    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(GGUFError) -> T {
        T(littleEndian: try bytes(MemoryLayout<T>.size, for: what()).loadUnaligned(as: T.self))
    }

    /// A GGUF string: a `uint64` byte count, then that many bytes of UTF-8 (no terminator).
    ///
    /// Invalid UTF-8 is repaired with U+FFFD rather than rejected: ggml never validates it,
    /// and one odd vocabulary entry should not make a whole model unloadable.
    mutating func readString(_ what: @autoclosure () -> String) throws(GGUFError) -> String {
        let length = try read(UInt64.self, what())
        guard length <= UInt64(remaining) else {
            throw .stringTooLong(what: what(), length: length, remaining: remaining)
        }
        return String(decoding: try bytes(Int(length), for: what()), as: UTF8.self)
    }

    /// A `uint64` count of records that each take at least `minimumSize` bytes.
    mutating func readCount(_ what: @autoclosure () -> String, minimumSize: Int) throws(GGUFError) -> Int {
        let count = try read(UInt64.self, what())
        return try checkCount(count, what(), minimumSize: minimumSize)
    }

    /// `count`, if the rest of the file could hold that many records of at least `minimumSize` bytes.
    ///
    /// Counts come straight from the file, so they are checked before anything sized by them is allocated.
    func checkCount(
        _ count: UInt64, _ what: @autoclosure () -> String, minimumSize: Int
    ) throws(GGUFError) -> Int {
        guard count <= UInt64(remaining / minimumSize) else {
            throw .implausibleCount(what: what(), count: count, remaining: remaining)
        }
        return Int(count)
    }

    /// Skips the padding up to the next multiple of `alignment` (a power of two).
    mutating func skipPadding(to alignment: Int, for what: @autoclosure () -> String) throws(GGUFError) {
        _ = try bytes((alignment - offset % alignment) % alignment, for: what())
    }
}
