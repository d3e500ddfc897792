import MQTT

/// `{id}` on a cancel topic: stop the request with this id, whether it waits or runs.
public struct CancelRequest: Sendable, Equatable {
    public var id: String

    public init(id: String) { self.id = id }

    /// Reads a cancel message; nil unless it is a JSON object with a string id.
    public init?(_ message: MQTTMessage) {
        guard let id = (try? JSON(parsing: message.payload))?["id"]?.string else { return nil }
        self.id = id
    }

    public var document: JSON { ["id": .string(id)] }
}
