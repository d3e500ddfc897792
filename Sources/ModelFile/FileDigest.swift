import Foundation
import Crypto

/// SHA-256 of whole files: the identity of a source model in `.hlq` metadata, and of a model on a device.
public enum FileDigest {
    /// The file's SHA-256 as 64 lowercase hex digits, read through a mapping in 4 MB steps.
    public static func sha256(path: String) throws -> String {
        let file = try MappedFile(path: path)
        var hasher = SHA256()
        var offset = 0
        while offset < file.count {
            let step = min(4 << 20, file.count - offset)
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: file.bytes[offset..<(offset + step)]))
            offset += step
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// SHA-256 of bytes in memory, as 64 lowercase hex digits.
    public static func sha256(data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
