import Foundation

/// Opening source models by path, whatever their format.
public enum ModelSources {
    /// A Hugging Face checkpoint directory or a GGUF file.
    public static func open(_ path: String) throws -> ModelSource {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelSourceError.invalid("no such file or directory: \(path)")
        }
        return isDirectory.boolValue ? try SafetensorsModelSource(path: path) : try GGUFModelSource(path: path)
    }

    /// SHA-256 of the source: the file itself, or for a checkpoint directory, the digest of its
    /// files' digests in name order (config, tokenizer and shards alike).
    public static func sha256(_ path: String) throws -> String {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        guard isDirectory.boolValue else { return try FileDigest.sha256(path: path) }
        let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted()
        let listing = try names.map { "\($0) \(try FileDigest.sha256(path: path + "/" + $0))\n" }.joined()
        return FileDigest.sha256(data: Data(listing.utf8))
    }
}
