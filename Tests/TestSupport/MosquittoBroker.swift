import Foundation
import Glibc
import Synchronization

/// A private mosquitto broker on a free 127.0.0.1 port, started and stopped by the test that owns it.
///
/// Each broker has its own directory for its config, log and (if asked for) persistence database,
/// so tests running side by side never share state. `kill` and `start` keep the port, which is how
/// a test restarts the broker under a connected client.
public final class MosquittoBroker: Sendable {
    public let port: Int
    public let directory: URL
    private let process = Mutex<Process?>(nil)

    public static let executable = "/usr/sbin/mosquitto"

    /// Starts a broker. With `persistence`, it keeps sessions and retained messages in its
    /// directory; it saves them only on `saveDatabase()` and on a clean exit, never on its own.
    public init(persistence: Bool = false) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw TestFailure("\(Self.executable) is missing: run tools/bootstrap (apt package mosquitto)")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("elutq-broker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = try Self.freePort()
        let config = """
            listener \(port) 127.0.0.1
            allow_anonymous true
            persistence \(persistence)
            persistence_location \(directory.path)/
            autosave_interval 0
            log_dest stderr
            log_type error
            log_type warning
            log_type notice

            """
        try config.write(to: directory.appendingPathComponent("mosquitto.conf"), atomically: true, encoding: .utf8)
        try start()
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts the broker (again) on its port and returns once it accepts connections.
    public func start() throws {
        let broker = Process()
        broker.executableURL = URL(fileURLWithPath: Self.executable)
        broker.arguments = ["-c", directory.appendingPathComponent("mosquitto.conf").path]
        let log = directory.appendingPathComponent("mosquitto.log")
        if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        broker.standardOutput = handle
        broker.standardError = handle
        try broker.run()
        process.withLock { $0 = broker }
        let deadline = Date().addingTimeInterval(30)
        while !Self.accepts(port: port) {
            guard broker.isRunning, Date() < deadline else {
                kill()
                let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                throw TestFailure("mosquitto did not start on port \(port):\n\(text)")
            }
            usleep(20_000)
        }
    }

    /// Kills the broker with SIGKILL, as a crash or power loss would, and waits for it to be gone.
    public func kill() {
        guard let broker = process.withLock({ $0.take() }), broker.isRunning else { return }
        Glibc.kill(broker.processIdentifier, SIGKILL)
        broker.waitUntilExit()
    }

    /// Has a persistent broker write its database (SIGUSR1) and waits until the file is there.
    public func saveDatabase() throws {
        let database = directory.appendingPathComponent("mosquitto.db")
        try? FileManager.default.removeItem(at: database)
        guard let broker = process.withLock({ $0 }) else { throw TestFailure("the broker is not running") }
        Glibc.kill(broker.processIdentifier, SIGUSR1)
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: database.path) {
            guard Date() < deadline else { throw TestFailure("mosquitto did not write \(database.path)") }
            usleep(20_000)
        }
    }

    /// A port nothing listens on right now, found by letting the kernel pick one.
    private static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        guard bound else { throw TestFailure("cannot find a free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    private static func accepts(port: Int) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
