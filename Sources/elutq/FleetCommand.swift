import ArgumentParser
import Foundation
import MQTT
import Protocol

/// `elutq fleet`: every device the broker knows of, from the retained status and telemetry.
struct FleetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "List the agents known to the broker: online or offline, model, and last telemetry.",
        discussion: "Statuses and telemetry are retained, so devices that are gone still show, as offline.")

    @Option(help: "Seconds to collect the retained messages.") var wait: Double = 1
    @Flag(help: "Print one JSON array of {device, status, telemetry}.") var json = false
    @OptionGroup var broker: BrokerOptions

    func run() throws {
        let settings = try broker.settings()
        let prefix = settings.topicPrefix
        let inbox = MessageInbox()
        let client = try broker.connect(settings, clientID: BrokerOptions.clientID("fleet"), subscriptions: [Topics.allStatuses(prefix: prefix),
                                                                                 Topics.allTelemetry(prefix: prefix)], inbox: inbox)
        defer { client.stop() }
        var statuses: [String: JSON] = [:]
        var telemetry: [String: JSON] = [:]
        // Retained messages come right after the subscription, but nothing marks their end: collect for a while.
        let deadline = Date().addingTimeInterval(wait)
        while let message = inbox.next(timeout: deadline.timeIntervalSinceNow) {
            let levels = message.topic.split(separator: "/")
            guard levels.count >= 3, let document = try? JSON(parsing: message.payload) else { continue }
            let device = String(levels[levels.count - 2])
            if levels.last == "status" { statuses[device] = document } else { telemetry[device] = document }
        }
        let devices = Set(statuses.keys).union(telemetry.keys).sorted()
        if json {
            print(JSON.array(devices.map { ["device": .string($0), "status": statuses[$0] ?? .null, "telemetry": telemetry[$0] ?? .null] }).serialized)
            return
        }
        guard !devices.isEmpty else {
            FileHandle.standardError.write(Data("elutq: no agents have reported under \(prefix)/\n".utf8))
            return
        }
        var rows = [["DEVICE", "STATE", "MODEL", "GROUP", "QUEUE", "SERVED", "FAILED", "TOK/S", "TTFT P50", "RSS", "TELEMETRY"]]
        for device in devices {
            let status = statuses[device], report = telemetry[device]
            rows.append([
                device,
                status?["online"]?.bool == true ? "online" : "offline",
                status?["model"]?["name"]?.string ?? "-",
                status?["group"]?.string ?? "-",
                TelemetryText.decimal(report?["elutq.queue.depth"], places: 0),
                TelemetryText.decimal(report?["elutq.requests.served"], places: 0),
                TelemetryText.decimal(report?["elutq.requests.failed"], places: 0),
                TelemetryText.decimal(report?["elutq.tokens_per_second"]?["p50"]),
                TelemetryText.milliseconds(report?["gen_ai.server.time_to_first_token"]?["p50"]),
                TelemetryText.bytes(report?["process.memory.usage"]),
                TelemetryText.age(report?["ts"]),
            ])
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max()! }
        for row in rows {
            print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
    }
}
