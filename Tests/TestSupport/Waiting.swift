import Foundation

/// How long a test waits for anything (a process, a connection, a reply) before it fails: generous,
/// because the two-core test machine is busy with other tests, yet finite, so that a broken agent
/// fails its test instead of hanging the suite. `ELUTQ_TEST_PATIENCE` (seconds) overrides it for
/// builds that run many times slower, as under ThreadSanitizer (`tools/test --sanitize thread`).
public let patience = ProcessInfo.processInfo.environment["ELUTQ_TEST_PATIENCE"].flatMap(Double.init) ?? 180.0

/// Polls `condition` until it holds, failing the test after `timeout` seconds.
public func waitUntil(_ description: String, timeout: Double = patience, _ condition: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        guard Date() < deadline else { throw TestFailure("waited \(Int(timeout)) s in vain until \(description)") }
        usleep(10_000)
    }
}
