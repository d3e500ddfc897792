import Glibc

/// Which file a path names on disk: its device and inode, after following symlinks.
///
/// Paths are compared this way wherever a mistake would touch the served model (`rm`, `use`,
/// a push's destination): agent.conf may spell the model's path with `//`, `./`, a trailing
/// component through a symlink or relative to the working directory, and the store spells it
/// `<store>/<name>.hlq`. Two spellings are the same file exactly when these numbers agree.
struct FileIdentity: Sendable, Equatable {
    let device: UInt64
    let inode: UInt64

    /// The identity of the file at `path`; nil if nothing is there.
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
