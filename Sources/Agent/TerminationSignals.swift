import Glibc

/// SIGTERM (systemd's stop) and SIGINT (Ctrl-C), taken synchronously with `sigwait`.
///
/// Blocking the signals in every thread and waiting for them on one avoids signal handlers
/// altogether: the shutdown then runs as ordinary code. `block()` must run before any thread
/// starts, because threads inherit the signal mask of the thread that creates them.
public enum TerminationSignals {
    public static func block() {
        var signals = set()
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        // A broken connection must be an error from send(), not a signal that kills the process.
        signal(SIGPIPE, SIG_IGN)
    }

    /// Waits for SIGTERM or SIGINT and returns its name.
    public static func wait() -> String {
        var signals = set()
        var received: Int32 = 0
        sigwait(&signals, &received)
        return received == SIGTERM ? "SIGTERM" : "SIGINT"
    }

    private static func set() -> sigset_t {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        return signals
    }
}
