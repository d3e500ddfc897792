import ArgumentParser
import Foundation
import Protocol
import Synchronization

/// `soak-clients`: the clients of `tools/soak`, asking one device prompts until stopped and
/// printing, as JSON, what became of every request.
@main
struct SoakClients: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak-clients",
        abstract: "Ask an elutq agent prompts from several MQTT clients and count what became of each request.",
        discussion: """
            Each client asks one prompt at a time, while the device is online, and sends it again
            whenever it may have been lost (its own reconnection, or the device going offline and
            back), as `elutq prompt` does. It runs until --duration ends or SIGINT/SIGTERM, lets
            the requests under way finish, waits --linger seconds for late replies, and prints one
            JSON document: requests sent, answered once, answered twice (two different final
            replies), errored by code, and never answered (no final reply or error by the end,
            whether or not --deadline passed first; a client gives up waiting after --deadline).
            """)

    @Option(help: "How many clients.") var clients = 3
    @Option(help: "The device to ask.") var device: String
    @Option(help: "Stop asking after this many seconds (0: until SIGINT/SIGTERM).") var duration = 0.0
    @Option(name: .customLong("max-tokens"), help: "Tokens per answer, at most.") var maxTokens = 32
    @Option(help: "Seconds after which a request with no final reply or error counts as never answered.") var deadline = 300.0
    @Option(help: "Seconds to wait for late replies once every client has stopped asking.") var linger = 20.0
    @Option(help: "Broker host.") var host = "127.0.0.1"
    @Option(help: "Broker port.") var port = 1883
    @Option(name: .customLong("topic-prefix"), help: "First level of every topic.") var topicPrefix = "elutq"

    func validate() throws {
        guard clients > 0, maxTokens > 0, deadline > 0, linger >= 0, duration >= 0 else {
            throw ValidationError("--clients, --max-tokens and --deadline must be positive; --linger and --duration not negative")
        }
    }

    func run() throws {
        let options = SoakClient.Options(host: host, port: port, topicPrefix: topicPrefix, device: device,
                                         maxTokens: maxTokens, deadline: deadline)
        let soakClients = try (0..<clients).map { try SoakClient(index: $0, options: options) }
        let stopping = Flag()
        let signals = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { stopping.set() }
            source.resume()
            return source
        }
        if duration > 0 {
            DispatchQueue.global().asyncAfter(deadline: .now() + duration) { stopping.set() }
        }
        // A thread each: every client blocks on its replies for the whole run.
        let finished = DispatchGroup()
        for soakClient in soakClients {
            finished.enter()
            Thread { soakClient.run(stopping: stopping, linger: linger); finished.leave() }.start()
        }
        finished.wait()
        signals.forEach { $0.cancel() }
        print(SoakTally(soakClients.flatMap { $0.records.values }).document(clients: clients).serialized)
    }
}

