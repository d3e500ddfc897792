/// The fixed 64 bytes that start a `.hlq` file: what it is, and where its two JSON sections lie.
///
/// All fields are little-endian (see docs/hlq-format.md):
///
///     0  magic "ELUTQHLQ"          32  directory offset   u64
///     8  version              u32  40  directory length   u64
///     12 endianness marker    u32  48  file length        u64
///     16 metadata offset      u64  56  directory CRC32C   u32
///     24 metadata length      u64  60  header CRC32C      u32 (of bytes 0..<60)
///
/// The header is written last, so a writer can stream tensors before it knows where they end.
/// Its checksum covers the directory's checksum, and the directory holds the checksums of the
/// metadata and of every tensor, so this one checked header vouches for the whole file.
struct HLQFileHeader: Equatable {
    static let byteCount = 64
    static let magic = Array("ELUTQHLQ".utf8)
    static let version: UInt32 = 1
    /// Stored as bytes 04 03 02 01; a big-endian writer would have stored 01 02 03 04.
    static let endiannessMarker: UInt32 = 0x0102_0304
    /// Every tensor, and every part of a tensor, starts at a multiple of this many bytes:
    /// a cache line, and the widest SIMD load the kernels make.
    static let alignment = 64

    /// The metadata JSON: after the tensor data, before the directory.
    var metadata: Range<Int>
    /// The directory JSON: last in the file.
    var directory: Range<Int>
    var fileLength: Int
    var directoryChecksum: UInt32

    init(metadata: Range<Int>, directory: Range<Int>, fileLength: Int, directoryChecksum: UInt32) {
        self.metadata = metadata
        self.directory = directory
        self.fileLength = fileLength
        self.directoryChecksum = directoryChecksum
    }

    /// Reads and checks the header of `file`: identity first, then its checksum, then that the
    /// file is as long as recorded and both sections lie, in order, between header and end.
    init(file: MappedFile) throws(HLQFileError) {
        guard file.count >= Self.byteCount else { throw .truncatedHeader(fileSize: file.count) }
        let bytes = UnsafeRawBufferPointer(rebasing: file.bytes[0..<Self.byteCount])
        func u32(_ offset: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
        func u64(_ offset: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }

        guard bytes.prefix(8).elementsEqual(Self.magic) else { throw .badMagic(found: Array(bytes.prefix(8))) }
        // Checked before the version, which a big-endian writer would have byte-swapped too.
        guard u32(12) != Self.endiannessMarker.byteSwapped else { throw .bigEndian }
        guard u32(8) == Self.version else { throw .unsupportedVersion(u32(8)) }
        guard u32(12) == Self.endiannessMarker else { throw .badEndiannessMarker(found: u32(12)) }
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<60]))
        guard u32(60) == computed else { throw .headerChecksumMismatch(stored: u32(60), computed: computed) }

        guard u64(48) == UInt64(file.count) else { throw .fileLengthMismatch(recorded: u64(48), actual: file.count) }
        let directory = try Self.section(.directory, offset: u64(32), length: u64(40), within: UInt64(Self.byteCount)..<UInt64(file.count))
        let metadata = try Self.section(.metadata, offset: u64(16), length: u64(24), within: UInt64(Self.byteCount)..<UInt64(directory.lowerBound))
        self.init(metadata: metadata, directory: directory, fileLength: file.count, directoryChecksum: u32(56))
    }

    /// The section's byte range, if it lies within `allowed` (whose bounds fit in an `Int`).
    private static func section(_ section: HLQFileError.Section, offset: UInt64, length: UInt64,
                                within allowed: Range<UInt64>) throws(HLQFileError) -> Range<Int> {
        guard offset >= allowed.lowerBound, offset <= allowed.upperBound, length <= allowed.upperBound - offset else {
            throw .sectionOutOfBounds(section, offset: offset, length: length, allowed: allowed)
        }
        return Int(offset)..<Int(offset + length)
    }

    /// The 64 bytes as stored, checksum included.
    func encoded() -> [UInt8] {
        var bytes = Self.magic
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
        append(Self.version)
        append(Self.endiannessMarker)
        append(UInt64(metadata.lowerBound))
        append(UInt64(metadata.count))
        append(UInt64(directory.lowerBound))
        append(UInt64(directory.count))
        append(UInt64(fileLength))
        append(directoryChecksum)
        append(CRC32C.checksum(bytes))
        return bytes
    }
}
