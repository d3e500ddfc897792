import Foundation
import Glibc
import NIOConcurrencyHelpers

/// A private mosquitto broker on a free 127.0.0.1 port, started and stopped by the test that owns it.
///
/// Each broker has its own directory for its config, log and (if asked for) persistence database,
/// so tests running side by side never share state. `kill` and `start` keep the port, which is how
/// a test restarts the broker under a connected client.
public final class MosquittoBroker: Sendable {
    public let port: Int
    public let directory: URL
    /// The running broker's process id, or nil.
    private let pid = NIOLockedValueBox<pid_t?>(nil)

    public static let executable = "/usr/sbin/mosquitto"

    /// Starts a broker. With `persistence`, it keeps sessions and retained messages in its
    /// directory; it saves them only on `saveDatabase()` and on a clean exit, never on its own.
    /// With `users` (name: password), only those accounts may connect, and `acl` (mosquitto's
    /// acl_file syntax) says what each may read and write. With `dynamicSecurity` (the plugin's JSON
    /// configuration) instead of `acl`, mosquitto's dynamic security plugin decides both who may
    /// connect and what each may do (see `dynamicSecurityAccess`). With `certificates`, its listener
    /// speaks TLS only, with the broker certificate they hold. With `bridgeTo`, it is a site broker:
    /// it connects to that (central) broker over MQTT v5 and passes everything under `elutq/` both ways.
    public init(persistence: Bool = false, users: [String: String] = [:], acl: String? = nil, dynamicSecurity: String? = nil,
                certificates: TestCertificates? = nil, bridgeTo central: MosquittoBroker? = nil) throws {
        try TestNeed.broker.checkDeclared()
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw TestFailure("\(Self.executable) is missing: run tools/bootstrap (apt package mosquitto)")
        }
        // With both at once, a test could not tell which of the two decided.
        guard acl == nil || dynamicSecurity == nil else { throw TestFailure("a broker takes an acl or a dynamic security configuration, not both") }
        directory = try makeTemporaryDirectory("broker")
        port = try LoopbackPort.free()
        // Started as root, mosquitto would switch to the `mosquitto` user and lose access to this directory.
        let user = String(cString: getpwuid(getuid()).pointee.pw_name)
        var access = "allow_anonymous true"
        if let dynamicSecurity {
            access = try Self.dynamicSecurityAccess(dynamicSecurity, users: users, in: directory)
        } else if !users.isEmpty {
            access = "allow_anonymous false\npassword_file \(try Self.writePasswords(users, in: directory))"
        }
        if let acl {
            let path = directory.appendingPathComponent("acl").path
            try acl.write(toFile: path, atomically: true, encoding: .utf8)
            access += "\nacl_file \(path)"
        }
        let tls = certificates.map { "cafile \($0.caFile)\ncertfile \($0.certificateFile)\nkeyfile \($0.keyFile)" } ?? ""
        let config = """
            user \(user)
            listener \(port) 127.0.0.1
            \(tls)
            \(access)
            persistence \(persistence)
            persistence_location \(directory.path)/
            autosave_interval 0
            log_dest stderr
            log_type error
            log_type warning
            log_type notice
            log_type information
            \(central.map { "connection central\naddress 127.0.0.1:\($0.port)\nbridge_protocol_version mqttv50\ntopic elutq/# both 1" } ?? "")

            """
        try config.write(to: directory.appendingPathComponent("mosquitto.conf"), atomically: true, encoding: .utf8)
        try start()
    }

    /// Writes `users` (name: password) into a mosquitto password file in `directory` with
    /// `mosquitto_passwd -b`, one account at a time, and returns its path.
    static func writePasswords(_ users: [String: String], in directory: URL) throws -> String {
        let file = directory.appendingPathComponent("passwords").path
        for (name, password) in users.sorted(by: { $0.key < $1.key }) {
            let tool = Process()
            tool.executableURL = URL(fileURLWithPath: "/usr/bin/mosquitto_passwd")
            tool.arguments = FileManager.default.fileExists(atPath: file) ? ["-b", file, name, password] : ["-c", "-b", file, name, password]
            try tool.run()
            tool.waitUntilExit()
            guard tool.terminationStatus == 0 else { throw TestFailure("mosquitto_passwd failed for \(name)") }
        }
        return file
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts the broker (again) on its port and returns once it accepts connections.
    ///
    /// `spawn` rather than Foundation's Process: mosquitto must start with no signals blocked.
    public func start() throws {
        let log = directory.appendingPathComponent("mosquitto.log").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO)
        let child = try spawn([Self.executable, "-c", directory.appendingPathComponent("mosquitto.conf").path], actions: &actions)
        pid.withLockedValue { $0 = child }
        let deadline = Date().addingTimeInterval(30)
        while !LoopbackPort.accepts(port) {
            guard waitpid(child, nil, WNOHANG) == 0, Date() < deadline else {
                kill()
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                throw TestFailure("mosquitto did not start on port \(port):\n\(text)")
            }
            usleep(20_000)
        }
    }

    /// Kills the broker with SIGKILL, as a crash or power loss would, and waits for it to be gone.
    public func kill() {
        guard let child = pid.withLockedValue({ $0.take() }) else { return }
        Glibc.kill(child, SIGKILL)
        waitpid(child, nil, 0)
    }

    /// Has a persistent broker write its database (SIGUSR1) and waits until the file is there.
    public func saveDatabase() throws {
        let database = directory.appendingPathComponent("mosquitto.db")
        try? FileManager.default.removeItem(at: database)
        guard let child = pid.withLockedValue({ $0 }) else { throw TestFailure("the broker is not running") }
        Glibc.kill(child, SIGUSR1)
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: database.path) {
            guard Date() < deadline else {
                let log = (try? String(contentsOf: directory.appendingPathComponent("mosquitto.log"), encoding: .utf8)) ?? ""
                throw TestFailure("mosquitto did not write \(database.path):\n\(log)")
            }
            usleep(20_000)
        }
    }
}
