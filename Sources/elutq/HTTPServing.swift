import ArgumentParser
import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import ServiceLifecycle

/// `--listen HOST:PORT` of `exporter` and `dashboard`; `[::1]:PORT` for IPv6.
struct ListenAddress: ExpressibleByArgument, CustomStringConvertible {
    var host: String
    var port: Int

    init?(argument: String) {
        guard let colon = argument.lastIndex(of: ":"), let port = Int(argument[argument.index(after: colon)...]),
              (0...65535).contains(port) else { return nil }
        host = String(argument[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        self.port = port
        guard !host.isEmpty else { return nil }
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Serves `router` on `address` until SIGINT or SIGTERM, on the calling thread's behalf: the
/// commands are synchronous, and Hummingbird runs on SwiftNIO's event loops meanwhile.
/// `onShutdown` runs when a signal comes, before the server waits for open responses to end: it
/// must end the responses that would never end by themselves (the dashboard's event streams).
func serve(_ router: Router<BasicRequestContext>, on address: ListenAddress, announcing path: String,
           onShutdown: @escaping @Sendable () -> Void = {}) throws {
    let application = Application(router: router, configuration: .init(address: .hostname(address.host, port: address.port)),
                                  onServerRunning: { _ in
                                      FileHandle.standardError.write(Data("elutq: serving http://\(address)\(path)\n".utf8))
                                  })
    // A group shuts its services down last to first: the hook, then the server.
    let services = ServiceGroup(configuration: .init(services: [application, ShutdownHook(action: onShutdown)],
                                                     gracefulShutdownSignals: [.sigterm, .sigint], logger: application.logger))
    let outcome = NIOLockedValueBox<(any Error)?>(nil)
    let finished = DispatchSemaphore(value: 0)
    Task {
        do { try await services.run() } catch { outcome.withLockedValue { $0 = error } }
        finished.signal()
    }
    finished.wait()
    if let error = outcome.withLockedValue({ $0 }) { throw failure("cannot serve on \(address): \(error)") }
}

/// A service that only waits for the group's graceful shutdown and then runs `action`.
private struct ShutdownHook: Service {
    let action: @Sendable () -> Void

    func run() async throws {
        try? await gracefulShutdown()
        action()
    }
}
