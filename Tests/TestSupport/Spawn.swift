import Glibc

/// Starts `arguments[0]` with the descriptors `actions` sets up and no signals blocked; returns its pid.
///
/// posix_spawn rather than Foundation's Process: a child inherits its parent's signal mask, the
/// test runner blocks SIGUSR1, and mosquitto only handles the signals its parent left unblocked;
/// and Process cannot hand a child descriptors beyond the standard three (Chromium's DevTools pipe).
func spawn(_ arguments: [String], actions: inout posix_spawn_file_actions_t) throws -> pid_t {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var unblocked = sigset_t()
    sigemptyset(&unblocked)
    posix_spawnattr_setsigmask(&attributes, &unblocked)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
    let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var child: pid_t = 0
    let status = posix_spawn(&child, arguments[0], &actions, &attributes, argv, environ)
    guard status == 0 else { throw TestFailure("cannot start \(arguments[0]): \(String(cString: strerror(status)))") }
    return child
}
