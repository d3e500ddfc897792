import MQTT
import NIOConcurrencyHelpers

/// The connection events a client reports, kept for a test to wait on.
public final class EventLog: Sendable {
    private let events = NIOLockedValueBox<[MQTTEvent]>([])

    public init() {}

    public func append(_ event: MQTTEvent) { events.withLockedValue { $0.append(event) } }

    public func count(where predicate: (MQTTEvent) -> Bool) -> Int { events.withLockedValue { $0.filter(predicate).count } }

    public func count(of event: MQTTEvent) -> Int { count { $0 == event } }

    public func contains(where predicate: (MQTTEvent) -> Bool) -> Bool { count(where: predicate) > 0 }

    /// The reason of the first failed connection attempt, if any.
    public var firstFailure: String? {
        events.withLockedValue { events in
            events.lazy.compactMap { event -> String? in
                if case .connectionFailed(let reason) = event { return reason }
                return nil
            }.first
        }
    }
}
