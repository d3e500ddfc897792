import Foundation
import ModelFile
import Protocol

/// What a push promises to deliver: a model file's name, size and SHA-256, how it is cut into
/// blocks, and the `.hlq` format version it is written in.
///
/// The signature covers `canonicalBytes`, never the JSON it travels in (see `CanonicalBytes`).
public struct PushManifest: Sendable, Equatable {
    /// The name the model is stored under on the device (`<name>.hlq`).
    public var name: String
    /// The file's size in bytes.
    public var size: Int
    /// The file's SHA-256, 64 lowercase hex digits; it also names the transfer.
    public var sha256: String
    public var blockSize: Int
    public var blockCount: Int
    /// The `.hlq` format version of the file.
    public var formatVersion: Int

    /// Blocks are 64–256 KB: small enough that a lost one costs little, large enough that the
    /// per-message overhead (headers, acknowledgements) stays under a percent.
    public static let blockSizes = 64 * 1024...256 * 1024
    public static let defaultBlockSize = 256 * 1024
    /// The `.hlq` version this build writes and reads.
    public static let currentFormatVersion = 1
    public init(name: String, size: Int, sha256: String, blockSize: Int, formatVersion: Int = PushManifest.currentFormatVersion) {
        self.name = name
        self.size = size
        self.sha256 = sha256
        self.blockSize = blockSize
        blockCount = (size + blockSize - 1) / blockSize
        self.formatVersion = formatVersion
    }

    /// The manifest of the file at `path`, hashed now, named after the file without its extension.
    public init(file path: String, name: String? = nil, blockSize: Int = PushManifest.defaultBlockSize) throws {
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        self.init(name: name ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent, size: size,
                  sha256: try FileDigest.sha256(path: path), blockSize: blockSize)
    }

    /// The signed bytes (`CanonicalBytes`): every field in a fixed order.
    public var canonicalBytes: [UInt8] {
        var encoder = CanonicalBytes(domain: "elutq push manifest v1\n")
        encoder.append(name)
        encoder.append(size)
        encoder.append(sha256)
        encoder.append(blockSize)
        encoder.append(blockCount)
        encoder.append(formatVersion)
        return encoder.bytes
    }

    /// The byte range of block `index` in the file.
    public func range(ofBlock index: Int) -> Range<Int> {
        let start = index * blockSize
        return start..<min(size, start + blockSize)
    }

    /// What is wrong with these fields on their own, or nil: a device checks this before it looks
    /// at the signature, so a malformed manifest gets a precise reason.
    public var problem: String? {
        if !ModelName.isValid(name) { return "name must be 1 to 64 letters, digits, - _ or ., not starting with a dot" }
        if size <= 0 { return "size must be positive" }
        if sha256.count != 64 || !sha256.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) { return "sha256 must be 64 lowercase hex digits" }
        if !Self.blockSizes.contains(blockSize) { return "block_size must be \(Self.blockSizes.lowerBound) to \(Self.blockSizes.upperBound) bytes" }
        if blockCount != (size + blockSize - 1) / blockSize { return "block_count \(blockCount) does not match size \(size) in blocks of \(blockSize)" }
        if formatVersion != Self.currentFormatVersion { return "format_version \(formatVersion) is not the \(Self.currentFormatVersion) this device reads" }
        return nil
    }
}

/// A manifest with its Ed25519 signature (nil for an unsigned push, which every device refuses).
public struct SignedManifest: Sendable, Equatable {
    public var manifest: PushManifest
    public var signature: [UInt8]?

    public init(manifest: PushManifest, signature: [UInt8]?) {
        self.manifest = manifest
        self.signature = signature
    }

    /// `{name, size, sha256, block_size, block_count, format_version, signature}`, the signature in base64.
    public var document: JSON {
        let m = manifest
        return [
            "name": .string(m.name), "size": JSON(m.size), "sha256": .string(m.sha256), "block_size": JSON(m.blockSize),
            "block_count": JSON(m.blockCount), "format_version": JSON(m.formatVersion),
            "signature": JSON(signature.map { Data($0).base64EncodedString() }),
        ]
    }

    /// Reads a manifest document; extra fields (a sender's `query`, for one) are left to the caller.
    public init(document: JSON) throws(PushError) {
        func text(_ key: String) throws(PushError) -> String {
            guard let value = document[key]?.string else { throw PushError("manifest field \(key) must be a string") }
            return value
        }
        func number(_ key: String) throws(PushError) -> Int {
            guard let value = document[key]?.int, value >= 0, value < 1 << 50 else { throw PushError("manifest field \(key) must be a whole number") }
            return Int(value)
        }
        var manifest = PushManifest(name: try text("name"), size: try number("size"), sha256: try text("sha256"),
                                    blockSize: max(1, try number("block_size")), formatVersion: try number("format_version"))
        manifest.blockCount = try number("block_count")
        self.manifest = manifest
        switch document["signature"] {
        case nil, .null?: signature = nil
        case .string(let text)?:
            guard let bytes = Data(base64Encoded: text) else { throw PushError("manifest field signature is not base64") }
            signature = Array(bytes)
        default: throw PushError("manifest field signature must be a base64 string")
        }
    }
}

/// A push that failed, with the reason meant for whoever reads it.
public struct PushError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
