import Foundation
import Glibc
import Protocol

/// Debian's Chromium, headless, driven through the DevTools protocol on `--remote-debugging-pipe`.
///
/// Not `--dump-dom` with `--virtual-time-budget`: virtual time stands still while a fetch is
/// pending, and a page listening to server-sent events always has one, so that dump never comes.
/// Here the page runs in real time, and the test reads it whenever it likes.
public final class HeadlessChromium {
    public static let executable = "/usr/bin/chromium"
    private let child: pid_t
    private let profile: URL
    /// Commands go to the browser's descriptor 3, answers come from its descriptor 4, each a JSON
    /// document ended by a NUL byte.
    private let commands: Int32
    private let answers: Int32
    private var pending: [UInt8] = []
    private var nextID = 0
    /// The DevTools session of the page `open` loaded.
    private var session: String?

    public init(width: Int = 1000, height: Int = 720) throws {
        try TestNeed.chromium.checkDeclared()
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw TestFailure("\(Self.executable) is missing: run tools/bootstrap (apt package chromium)")
        }
        profile = try makeTemporaryDirectory("chromium")
        var toBrowser: [Int32] = [0, 0], fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw TestFailure("pipe failed") }
        // Only the dup2'ed copies below reach the browser; a copy of our ends there would keep the pipes open.
        for descriptor in toBrowser + fromBrowser { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toBrowser[0], 3)
        posix_spawn_file_actions_adddup2(&actions, fromBrowser[1], 4)
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0)
        child = try spawn([Self.executable, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-pipe",
                           "--user-data-dir=\(profile.path)", "--window-size=\(width),\(height)", "about:blank"], actions: &actions)
        close(toBrowser[0])
        close(fromBrowser[1])
        commands = toBrowser[1]
        answers = fromBrowser[0]
    }

    deinit {
        close(commands)
        close(answers)
        kill(child, SIGKILL)
        waitpid(child, nil, 0)
        try? FileManager.default.removeItem(at: profile)
    }

    /// Opens `url` in a new page, which later calls act on.
    public func open(_ url: String) throws {
        let target = try send("Target.createTarget", ["url": .string(url)])
        let attached = try send("Target.attachToTarget", ["targetId": target["targetId"] ?? .null, "flatten": true])
        session = attached["sessionId"]?.string
    }

    /// The value of a JavaScript expression in the page.
    public func evaluate(_ expression: String) throws -> JSON {
        let answer = try send("Runtime.evaluate", ["expression": .string(expression), "returnByValue": true], inPage: true)
        return answer["result"]?["value"] ?? .null
    }

    /// Writes a PNG of the page's viewport to `path`.
    public func screenshot(to path: String) throws {
        let answer = try send("Page.captureScreenshot", ["format": "png"], inPage: true)
        guard let data = answer["data"]?.string.flatMap({ Data(base64Encoded: $0) }) else { throw TestFailure("no screenshot: \(answer)") }
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// Sends a DevTools command and waits for its answer, skipping the events that come between.
    private func send(_ method: String, _ parameters: [String: JSON], inPage: Bool = false, timeout: Double = 30) throws -> JSON {
        nextID += 1
        var command: [String: JSON] = ["id": JSON(nextID), "method": .string(method), "params": .object(parameters)]
        if inPage { command["sessionId"] = JSON(session) }
        let bytes = JSON.object(command).bytes + [0]
        guard bytes.withUnsafeBytes({ write(commands, $0.baseAddress, $0.count) }) == bytes.count else {
            throw TestFailure("chromium closed its DevTools pipe")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let message = try nextMessage(until: deadline)
            guard message["id"]?.int == Int64(nextID) else { continue }
            if let error = message["error"] { throw TestFailure("\(method) failed: \(error.serialized)") }
            return message["result"] ?? .null
        }
    }

    private func nextMessage(until deadline: Date) throws -> JSON {
        while true {
            if let end = pending.firstIndex(of: 0) {
                let message = Array(pending[..<end])
                pending.removeFirst(end + 1)
                return try JSON(parsing: message)
            }
            var descriptor = pollfd(fd: answers, events: Int16(POLLIN), revents: 0)
            let wait = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
            guard poll(&descriptor, 1, wait) > 0 else { throw TestFailure("chromium did not answer in time") }
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            let count = buffer.withUnsafeMutableBytes { read(answers, $0.baseAddress, $0.count) }
            guard count > 0 else { throw TestFailure("chromium closed its DevTools pipe") }
            pending += buffer[..<count]
        }
    }
}
