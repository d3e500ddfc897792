/// Why a GGUF file was rejected, or why one of its tensors can't be dequantized.
///
/// Every check happens before any pointer into the file is formed, so a corrupt or hostile
/// file ends in one of these errors rather than a crash; each description names the problem
/// and, where there is one, the key or tensor involved.
public enum GGUFError: Error, Equatable, Sendable, CustomStringConvertible {
    case badMagic(found: [UInt8])
    case unsupportedVersion(UInt32)
    case bigEndian(version: UInt32)
    case truncated(what: String, offset: Int, needed: Int, fileSize: Int)
    case stringTooLong(what: String, length: UInt64, remaining: Int)
    case implausibleCount(what: String, count: UInt64, remaining: Int)
    case unknownValueType(what: String, rawType: UInt32)
    case invalidBool(key: String, byte: UInt8)
    case arraysNestedTooDeep(key: String, limit: Int)
    case duplicateKey(String)
    case invalidAlignment(String)
    case duplicateTensor(String)
    case invalidDimensionCount(tensor: String, count: UInt32)
    case invalidDimensions(tensor: String, dims: [UInt64])
    case unknownTensorType(tensor: String, rawType: UInt32)
    case rowNotWholeBlocks(tensor: String, rowLength: Int, type: GGMLType)
    case misalignedTensor(tensor: String, offset: UInt64, alignment: Int)
    case tensorOutOfBounds(tensor: String, offset: UInt64, byteCount: Int, dataSize: Int)
    case cannotDequantize(tensor: String, type: GGMLType)
    case rowsOutOfRange(tensor: String, rows: Range<Int>, rowCount: Int)

    public var description: String {
        switch self {
        case let .badMagic(found):
            let hex = found.map { byte in String(byte, radix: 16, uppercase: true) }.joined(separator: " ")
            return "not a GGUF file: it starts with bytes [\(hex)] instead of \"GGUF\""
        case let .unsupportedVersion(version) where version == 1:
            return "GGUF version 1 is not supported (it used 32-bit counts); re-convert the model with a current llama.cpp"
        case let .unsupportedVersion(version):
            return "GGUF version \(version) is not supported; only versions 2 and 3 are"
        case let .bigEndian(version):
            return "big-endian GGUF files are not supported (version field reads \(version) byte-swapped)"
        case let .truncated(what, offset, needed, fileSize):
            return "file truncated: \(what) needs \(needed) bytes at offset \(offset), but the file has \(fileSize)"
        case let .stringTooLong(what, length, remaining):
            return "\(what) claims a string of \(length) bytes, but only \(remaining) bytes remain in the file"
        case let .implausibleCount(what, count, remaining):
            return "\(what) claims \(count) entries, more than the remaining \(remaining) bytes can hold: the file is truncated or corrupt"
        case let .unknownValueType(what, rawType):
            return "\(what) has unknown metadata value type \(rawType)"
        case let .invalidBool(key, byte):
            return "metadata key '\(key)' is a bool stored as \(byte); only 0 and 1 are valid"
        case let .arraysNestedTooDeep(key, limit):
            return "metadata key '\(key)' nests arrays more than \(limit) deep"
        case let .duplicateKey(key):
            return "metadata key '\(key)' appears more than once"
        case let .invalidAlignment(found):
            return "general.alignment must be a positive power of two, but it is \(found)"
        case let .duplicateTensor(name):
            return "tensor '\(name)' appears more than once"
        case let .invalidDimensionCount(tensor, count):
            return "tensor '\(tensor)' has \(count) dimensions; GGUF allows 1 to 4"
        case let .invalidDimensions(tensor, dims):
            return "tensor '\(tensor)' has dimensions \(dims), whose size overflows a 64-bit integer"
        case let .unknownTensorType(tensor, rawType):
            return "tensor '\(tensor)' has unknown ggml type \(rawType)"
        case let .rowNotWholeBlocks(tensor, rowLength, type):
            return "tensor '\(tensor)' has rows of \(rowLength) elements, not a multiple of the \(type.name) block size \(type.blockSize)"
        case let .misalignedTensor(tensor, offset, alignment):
            return "tensor '\(tensor)' starts at data offset \(offset), which is not a multiple of the alignment \(alignment)"
        case let .tensorOutOfBounds(tensor, offset, byteCount, dataSize):
            return "tensor '\(tensor)' (\(byteCount) bytes at data offset \(offset)) runs past the end of the \(dataSize)-byte data section: the file is truncated or corrupt"
        case let .cannotDequantize(tensor, type):
            return "tensor '\(tensor)' has type \(type.name), which this build cannot dequantize"
        case let .rowsOutOfRange(tensor, rows, rowCount):
            return "rows \(rows.lowerBound)..<\(rows.upperBound) are out of range for tensor '\(tensor)', which has \(rowCount) rows"
        }
    }
}
