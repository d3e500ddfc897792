import Foundation
import Glibc
import ModelFile
import ModelPush

/// The directory of models a device keeps: `<name>.hlq` files with their `DigestSidecar`
/// (`<name>.hlq.sha256`) beside them, `active` naming the one to serve after a restart, and
/// `.incoming/` for transfers under way (a hidden directory, so a half-received file is never
/// taken for a model).
public struct ModelStore: Sendable {
    public let directory: String

    /// One stored model, as `elutq models` lists it.
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var size: Int
        public var sha256: String
    }

    /// Opens the store, creating it and `.incoming/` if need be.
    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory + "/.incoming", withIntermediateDirectories: true)
    }

    var incomingDirectory: String { directory + "/.incoming" }

    public func path(of name: String) -> String { "\(directory)/\(name).hlq" }

    /// The stored models by name, with each one's SHA-256 (from its cache file, hashed if missing).
    public func list(log: Logger) -> [Entry] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.filter { $0.hasSuffix(".hlq") && !$0.hasPrefix(".") }.sorted().compactMap { file in
            let path = "\(directory)/\(file)"
            guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int,
                  let sha = try? DigestSidecar.sha256(of: path, log: log) else { return nil }
            return Entry(name: String(file.dropLast(4)), size: size, sha256: sha)
        }
    }

    /// The model with this SHA-256, if the store holds one.
    func entry(sha256: String, log: Logger) -> Entry? {
        list(log: log).first { $0.sha256 == sha256 }
    }

    /// Moves a received, checked model `file` into the store as `name`: the one way a model
    /// enters it. The sidecar goes in before the model, so nothing can fail once the model is in
    /// the store; it is newer than the data, which makes it valid for the file. An older model of
    /// the same name is deleted first: left beside the new sidecar by a crash, it would pass for
    /// the new model. Last the directory is flushed, so the rename survives a power cut; should
    /// that fail the model is in the store all the same, and `log` says so.
    func install(_ file: String, as name: String, sha256: String, log: Logger) throws {
        let destination = path(of: name)
        unlink(destination)
        try DigestSidecar.write(sha256, of: destination)
        guard rename(file, destination) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(DigestSidecar.path(of: destination))
            throw PushError("cannot move the model into \(destination): \(reason)")
        }
        do { try syncDirectory() } catch {
            log.warn("installed a model but cannot flush the store directory; a power cut may lose it", ["error": "\(error)"])
        }
    }

    /// Deletes a stored model and its sidecar.
    func remove(_ name: String) throws {
        try FileManager.default.removeItem(atPath: path(of: name))
        try? FileManager.default.removeItem(atPath: DigestSidecar.path(of: path(of: name)))
    }

    /// Bytes the agent's user may still write to the store's file system.
    func freeBytes() -> Int? {
        var stats = statvfs()
        guard statvfs(directory, &stats) == 0 else { return nil }
        return Int(stats.f_bavail) * Int(stats.f_frsize)
    }

    /// Deletes what earlier transfers left in `.incoming/` (one abandoned before a restart, say),
    /// keeping only the files of the transfer of `sha256`, so at most one partial model is ever on disk.
    func discardIncoming(except sha256: String) {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: incomingDirectory)) ?? []
        for file in files where !file.hasPrefix(sha256 + ".") {
            try? FileManager.default.removeItem(atPath: "\(incomingDirectory)/\(file)")
        }
    }

    /// The name recorded by the last activation, which the agent serves again after a restart.
    var activeName: String? {
        (try? String(contentsOfFile: directory + "/active", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func recordActive(_ name: String) throws {
        try (name + "\n").write(toFile: directory + "/active", atomically: true, encoding: .utf8)
    }
}

extension ModelStore {
    /// Flushes the store's directory, which makes a rename into it survive a power cut.
    private func syncDirectory() throws {
        do { try DurableFile.syncDirectory(directory) } catch { throw PushError(error.description) }
    }
}
