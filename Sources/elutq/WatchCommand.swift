import ArgumentParser
import Foundation
import MQTT
import Protocol

/// `elutq watch`: one device's telemetry as it arrives.
struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Show a device's live telemetry, one line per report, and its status changes.",
        discussion: "The first line is the last retained report, however old; see its time.")

    @Option(help: "The device to watch.") var device: String
    @Option(help: "Stop after this many telemetry reports (0: until interrupted).") var count = 0
    @Flag(help: "Print each telemetry document as JSON.") var json = false
    @OptionGroup var broker: BrokerOptions

    func validate() throws {
        guard count >= 0 else { throw ValidationError("--count must be 0 or more") }
    }

    func run() throws {
        let settings = try broker.settings()
        let topics = Topics(prefix: settings.topicPrefix, device: device)
        let inbox = MessageInbox()
        let client = try broker.connect(settings, clientID: BrokerOptions.clientID("watch"), subscriptions: [topics.telemetry, topics.status], inbox: inbox)
        defer { client.stop() }
        var reports = 0
        while count == 0 || reports < count {
            guard let message = inbox.next(timeout: 3600), let document = try? JSON(parsing: message.payload) else { continue }
            if message.topic == topics.status {
                if !json { show("\(device) is \(document["online"]?.bool == true ? "online" : "offline")") }
                continue
            }
            show(json ? document.serialized : TelemetryText.line(document))
            reports += 1
        }
    }

    /// Writes a line at once rather than through stdout's buffer, so `watch | grep` shows each report as it comes.
    private func show(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
