/// Why a `.hlq` file was rejected, failed verification, or could not be written.
///
/// Opening checks every offset, length and checksum before forming a pointer into the file, so a
/// truncated, corrupt or hostile file ends in one of these errors rather than a crash. Each
/// description names the problem and, where there is one, the tensor or section involved.
public enum HLQFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The two JSON sections of a file.
    public enum Section: String, Sendable {
        case metadata
        case directory
    }

    case unreadable(MappedFileError)
    case truncatedHeader(fileSize: Int)
    case badMagic(found: [UInt8])
    case bigEndian
    case unsupportedVersion(UInt32)
    case badEndiannessMarker(found: UInt32)
    case headerChecksumMismatch(stored: UInt32, computed: UInt32)
    case fileLengthMismatch(recorded: UInt64, actual: Int)
    case sectionOutOfBounds(Section, offset: UInt64, length: UInt64, allowed: Range<UInt64>)
    case sectionChecksumMismatch(Section, stored: UInt32, computed: UInt32)
    case invalidJSON(Section, reason: String)
    case duplicateTensor(String)
    case invalidTensor(tensor: String, problem: String)
    case sizeMismatch(tensor: String, byteCount: Int, expected: Int)
    case misalignedTensor(tensor: String, offset: Int)
    case tensorOutOfBounds(tensor: String, offset: Int, byteCount: Int, data: Range<Int>)
    case overlappingTensors(String, String)
    case tensorChecksumMismatch(tensor: String, stored: UInt32, computed: UInt32)
    case cannotEncode(Section, reason: String)
    case cannotWrite(path: String, operation: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(error):
            return error.description
        case let .truncatedHeader(fileSize):
            return "file truncated: the header needs \(HLQFileHeader.byteCount) bytes, but the file has \(fileSize)"
        case let .badMagic(found):
            let hex = found.map { String($0, radix: 16, uppercase: true) }.joined(separator: " ")
            return "not an .hlq file: it starts with bytes [\(hex)] instead of \"ELUTQHLQ\""
        case .bigEndian:
            return "the file was written big-endian (its endianness marker reads byte-swapped); .hlq files are little-endian"
        case let .unsupportedVersion(version):
            return "unsupported version \(version), this build reads \(HLQFileHeader.version)"
        case let .badEndiannessMarker(found):
            return "the endianness marker is \(hex(found)) instead of \(hex(HLQFileHeader.endiannessMarker)): the header is corrupt"
        case let .headerChecksumMismatch(stored, computed):
            return "header checksum mismatch (stored \(hex(stored)), computed \(hex(computed))): the header is corrupt"
        case let .fileLengthMismatch(recorded, actual) where UInt64(actual) < recorded:
            return "file truncated: the header records \(recorded) bytes, but the file has \(actual)"
        case let .fileLengthMismatch(recorded, actual):
            return "the file has \(actual) bytes, more than the \(recorded) its header records: it was appended to or is corrupt"
        case let .sectionOutOfBounds(section, offset, length, allowed):
            return "the \(section) (\(length) bytes at offset \(offset)) does not lie within bytes \(allowed.lowerBound)..<\(allowed.upperBound): the header is corrupt"
        case let .sectionChecksumMismatch(section, stored, computed):
            return "\(section) checksum mismatch (stored \(hex(stored)), computed \(hex(computed))): the \(section) is corrupt"
        case let .invalidJSON(section, reason):
            return "the \(section) is not valid: \(reason)"
        case let .duplicateTensor(name):
            return "tensor '\(name)' appears more than once"
        case let .invalidTensor(tensor, problem):
            return "tensor '\(tensor)': \(problem)"
        case let .sizeMismatch(tensor, byteCount, expected):
            return "tensor '\(tensor)' has \(byteCount) bytes, but its type and shape need \(expected)"
        case let .misalignedTensor(tensor, offset):
            return "tensor '\(tensor)' starts at offset \(offset), which is not a multiple of \(HLQFileHeader.alignment)"
        case let .tensorOutOfBounds(tensor, offset, byteCount, data):
            return "tensor '\(tensor)' (\(byteCount) bytes at offset \(offset)) does not lie within the tensor data, bytes \(data.lowerBound)..<\(data.upperBound)"
        case let .overlappingTensors(first, second):
            return "tensors '\(first)' and '\(second)' overlap"
        case let .tensorChecksumMismatch(tensor, stored, computed):
            return "tensor '\(tensor)' checksum mismatch (stored \(hex(stored)), computed \(hex(computed))): its data is corrupt"
        case let .cannotEncode(section, reason):
            return "cannot encode the \(section) as JSON: \(reason)"
        case let .cannotWrite(path, operation, reason):
            return "cannot \(operation) \(path): \(reason)"
        }
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
