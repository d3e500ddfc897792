import ArgumentParser
import Foundation
import MQTT
import Protocol

/// `fake-fleet N`: status and telemetry for N simulated devices, to measure `elutq exporter` and
/// `elutq dashboard` with a fleet larger than this machine can run. One MQTT connection carries
/// them all, so the devices have no wills: they go offline by the goodbye sent on SIGINT/SIGTERM.
@main
struct FakeFleet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-fleet", abstract: "Publish status and telemetry for N simulated elutq devices.")

    @Argument(help: "How many devices.") var count: Int
    @Option(help: "Seconds between one device's telemetry reports; the fleet's reports are spread over it.") var interval = 10.0
    @Option(help: "Stop after this many seconds (0: until interrupted).") var duration = 0.0
    @Option(help: "Broker host.") var host = "127.0.0.1"
    @Option(help: "Broker port.") var port = 1883
    @Option(name: .customLong("topic-prefix"), help: "First level of every topic.") var topicPrefix = "elutq"

    func validate() throws {
        guard count > 0, interval > 0, duration >= 0 else { throw ValidationError("N and --interval must be positive") }
    }

    func run() throws {
        let client = try MQTTClient(configuration: MQTTConfiguration(host: host, port: port, clientID: "fake-fleet-\(getpid())"),
                                    onMessage: { _ in }, onEvent: { _ in })
        client.start()
        guard client.waitUntilConnected(timeout: 10) else { throw ValidationError("cannot connect to \(host):\(port)") }
        var devices = (0..<count).map(SimulatedDevice.init(index:))
        for device in devices { client.publish(message(device, "status", device.status(online: true))) }
        let stopping = DispatchSemaphore(value: 0)
        let signals = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { stopping.signal() }
            source.resume()
            return source
        }
        let end = duration > 0 ? Date().addingTimeInterval(duration) : .distantFuture
        // One device reports every interval / N seconds, so the broker sees a steady stream.
        let gap = interval / Double(count)
        var next = Date()
        var index = 0
        while Date() < end {
            let report = devices[index].telemetry()
            client.publish(message(devices[index], "telemetry", report, qos: 0))
            index = (index + 1) % count
            next += gap
            if stopping.wait(timeout: .now() + max(0, next.timeIntervalSinceNow)) == .success { break }
        }
        for device in devices { client.publish(message(device, "status", device.status(online: false))) }
        _ = client.flush(timeout: 10)
        client.stop()
        signals.forEach { $0.cancel() }
    }

    private func message(_ device: SimulatedDevice, _ kind: String, _ document: JSON, qos: Int32 = 1) -> MQTTMessage {
        MQTTMessage(topic: "\(topicPrefix)/\(device.device)/\(kind)", json: document, qos: qos, retain: true)
    }
}
