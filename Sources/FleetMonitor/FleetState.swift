import Foundation
import MQTT
import NIOConcurrencyHelpers
import Protocol

/// Every device heard on `PREFIX/+/status` and `PREFIX/+/telemetry`, shared between the MQTT
/// callback thread that feeds it and the HTTP handlers that read it.
public final class FleetState: Sendable {
    public let prefix: String
    /// Points kept per device, whatever their age: the bound on memory.
    public let historyCapacity: Int
    /// Seconds of history kept per device: what the dashboard's charts span.
    public let window: Double
    private let records = NIOLockedValueBox<[String: DeviceRecord]>([:])

    /// By default an hour of reports every 2 s.
    public init(prefix: String, historyCapacity: Int = 1800, window: Double = 3600) {
        self.prefix = prefix
        self.historyCapacity = historyCapacity
        self.window = window
    }

    /// Files a status or telemetry message and returns the device's record as it now is; nil for a
    /// message that is neither, or whose payload is not JSON.
    @discardableResult
    public func ingest(_ message: MQTTMessage, received: Double = Date().timeIntervalSince1970) -> DeviceRecord? {
        guard message.topic.hasPrefix(prefix + "/") else { return nil }
        let levels = message.topic.dropFirst(prefix.count + 1).split(separator: "/", omittingEmptySubsequences: false)
        guard levels.count == 2, let kind = levels.last, kind == "status" || kind == "telemetry",
              let document = try? JSON(parsing: message.payload) else { return nil }
        let device = String(levels[0])
        return records.withLockedValue { records in
            var record = records[device] ?? DeviceRecord(device: device, historyCapacity: historyCapacity)
            if kind == "status" {
                record.apply(status: document)
            } else {
                record.apply(telemetry: document, received: received, window: window)
            }
            records[device] = record
            return record
        }
    }

    /// One device's record; nil for a device never heard of.
    public func record(of device: String) -> DeviceRecord? {
        records.withLockedValue { $0[device] }
    }

    /// Every device's record, sorted by device.
    public var devices: [DeviceRecord] {
        records.withLockedValue { $0.values.sorted { $0.device < $1.device } }
    }
}
