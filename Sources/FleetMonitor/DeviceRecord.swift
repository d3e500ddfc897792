import Protocol

/// What the monitor knows of one device: its last status and telemetry, and the recent history of
/// the charted figures.
public struct DeviceRecord: Sendable {
    public let device: String
    /// Nil until a status arrives; false once the agent's will or its own goodbye says it is gone.
    public var online: Bool?
    public var group: String?
    public var model: String?
    /// The last telemetry document, kept after the device goes offline so its last figures still show.
    public var telemetry: JSON?
    public var history: BoundedHistory<TelemetryPoint>

    public init(device: String, historyCapacity: Int) {
        self.device = device
        history = BoundedHistory(capacity: historyCapacity)
    }

    /// Takes a status document (`AgentStatus.document(online:)`).
    public mutating func apply(status: JSON) {
        online = status["online"]?.bool
        group = status["group"]?.string
        model = status["model"]?["name"]?.string
    }

    /// Takes a telemetry document, adding its point to the history unless it is the last point again
    /// (a retained report re-delivered after a reconnect), and dropping points older than `window` seconds.
    public mutating func apply(telemetry document: JSON, received: Double, window: Double) {
        telemetry = document
        let point = TelemetryPoint(telemetry: document, received: received)
        guard history.last?.time != point.time else { return }
        history.append(point)
        history.dropOldest { point.time - $0.time > window }
    }

    /// The dashboard's row for this device: its state and counts.
    public var row: JSON {
        [
            "device": .string(device), "online": online.map(JSON.bool) ?? .null, "group": JSON(group), "model": JSON(model),
            "queue": telemetry?["elutq.queue.depth"] ?? .null, "served": telemetry?["elutq.requests.served"] ?? .null,
            "failed": telemetry?["elutq.requests.failed"] ?? .null,
        ]
    }

    /// The dashboard's live update for this device: its row and the last point of its history.
    public var summary: JSON {
        var update = row.object ?? [:]
        update["point"] = history.last?.document ?? .null
        return .object(update)
    }
}
