import Foundation
import ModelFile

/// The `<model>.sha256` file beside a model, in `sha256sum` format (`<digest>  <file name>`).
///
/// Hashing a large model takes seconds on a small board; the sidecar makes restarts and store
/// listings instant. It counts only while it is newer than the model, so a model replaced in
/// place is hashed again.
enum DigestSidecar {
    static func path(of model: String) -> String { model + ".sha256" }

    /// Writes the sidecar of `model`, atomically: a crash leaves the old one or the new one.
    static func write(_ digest: String, of model: String) throws {
        let line = "\(digest)  \(URL(fileURLWithPath: model).lastPathComponent)\n"
        try line.write(toFile: path(of: model), atomically: true, encoding: .utf8)
    }

    /// The SHA-256 of `model`: from its sidecar when that is newer than the model, otherwise
    /// hashed, and saved in the sidecar for the next time.
    static func sha256(of model: String, log: Logger) throws -> String {
        let sidecar = path(of: model)
        let files = FileManager.default
        if let modelDate = try? files.attributesOfItem(atPath: model)[.modificationDate] as? Date,
           let sidecarDate = try? files.attributesOfItem(atPath: sidecar)[.modificationDate] as? Date, sidecarDate >= modelDate,
           let line = try? String(contentsOfFile: sidecar, encoding: .utf8),
           let digest = line.split(separator: " ").first, digest.count == 64, digest.allSatisfy(\.isHexDigit) {
            return String(digest)
        }
        let digest = try FileDigest.sha256(path: model)
        do {
            try write(digest, of: model)
        } catch {
            log.debug("cannot cache the model hash", ["file": sidecar, "error": error.localizedDescription])
        }
        return digest
    }
}
