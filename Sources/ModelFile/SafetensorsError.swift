/// Why a safetensors file was rejected, or why one of its tensors can't be read as floats.
///
/// A checkpoint is often split over several files, so the error carries the path of the one at
/// fault; `problem` says what is wrong with it. As with GGUF, every offset is checked before any
/// pointer into the file is formed, so a corrupt file ends here rather than in a crash.
public struct SafetensorsError: Error, Equatable, Sendable, CustomStringConvertible {
    public let path: String
    public let problem: Problem

    public init(path: String, problem: Problem) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }

    /// What is wrong with the file.
    public enum Problem: Equatable, Sendable, CustomStringConvertible {
        case tooShort(fileSize: Int)
        case headerPastEnd(headerLength: UInt64, fileSize: Int)
        case invalidHeader(String)
        case unknownDType(tensor: String, dtype: String)
        case invalidShape(tensor: String, shape: [Int])
        case invalidOffsets(tensor: String, offsets: [Int])
        case sizeMismatch(tensor: String, expected: Int, actual: Int)
        case tensorOutOfBounds(tensor: String, end: Int, dataSize: Int)
        case overlappingTensors(String, String)
        case cannotReadAsFloats(tensor: String, dtype: SafetensorsDType)

        public var description: String {
            switch self {
            case let .tooShort(fileSize):
                "the file has \(fileSize) bytes, fewer than the 8 of the header length: it is truncated or not a safetensors file"
            case let .headerPastEnd(headerLength, fileSize):
                "the header length \(headerLength) runs past the end of the \(fileSize)-byte file: it is truncated or not a safetensors file"
            case let .invalidHeader(why):
                "invalid JSON header: \(why)"
            case let .unknownDType(tensor, dtype):
                "tensor '\(tensor)' has unknown dtype '\(dtype)'"
            case let .invalidShape(tensor, shape):
                "tensor '\(tensor)' has shape \(shape), which has a negative dimension or overflows"
            case let .invalidOffsets(tensor, offsets):
                "tensor '\(tensor)' has data_offsets \(offsets); they must be [begin, end] with 0 <= begin <= end"
            case let .sizeMismatch(tensor, expected, actual):
                "tensor '\(tensor)' spans \(actual) bytes, but its shape and dtype need \(expected)"
            case let .tensorOutOfBounds(tensor, end, dataSize):
                "tensor '\(tensor)' ends at data offset \(end), past the end of the \(dataSize)-byte data section: the file is truncated or corrupt"
            case let .overlappingTensors(first, second):
                "tensors '\(first)' and '\(second)' overlap"
            case let .cannotReadAsFloats(tensor, dtype):
                "tensor '\(tensor)' has dtype \(dtype.rawValue); only F32, F16 and BF16 can be read as floats"
            }
        }
    }
}
