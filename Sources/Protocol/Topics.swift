/// The MQTT topics of one agent, all under a prefix (`elutq` by default), and those of the
/// fleet and of `elutq` clients under the same prefix.
public struct Topics: Sendable, Equatable {
    public let prefix: String
    public let device: String

    public init(prefix: String, device: String) {
        self.prefix = prefix
        self.device = device
    }

    /// Prompts for this device.
    public var prompt: String { "\(prefix)/\(device)/prompt" }
    /// Cancellations of this device's requests.
    public var cancel: String { "\(prefix)/\(device)/cancel" }
    /// Retained presence document; the will sets it offline.
    public var status: String { "\(prefix)/\(device)/status" }
    public var telemetry: String { "\(prefix)/\(device)/telemetry" }

    /// A push's signed manifest (JSON), which starts or resumes a transfer.
    public var pushManifest: String { "\(prefix)/\(device)/push/manifest" }
    /// A push's blocks (binary, see `BlockMessage`).
    public var pushBlock: String { "\(prefix)/\(device)/push/block" }
    /// Transfer events for a manifest that named no response topic.
    public var pushEvents: String { "\(prefix)/\(device)/push/events" }
    /// Model store commands: `{id, command: list | use | rm, name}`.
    public var models: String { "\(prefix)/\(device)/models" }

    /// Where replies go when the request names no MQTT v5 response topic. Requests whose id
    /// cannot be read get their error on `reply/unknown`.
    public func reply(to id: String?) -> String { "\(prefix)/\(device)/reply/\(id ?? "unknown")" }

    public var fleetPrompt: String { Self.fleetPrompt(prefix: prefix) }
    public var fleetCancel: String { Self.fleetCancel(prefix: prefix) }

    /// Prompts for any device of a group, published once and served by exactly one member.
    public static func fleetPrompt(prefix: String) -> String { "\(prefix)/fleet/prompt" }
    /// Cancellations of fleet prompts, heard by every group member (only the one serving acts).
    public static func fleetCancel(prefix: String) -> String { "\(prefix)/fleet/cancel" }

    /// The shared subscription through which the broker hands each fleet prompt to one member of `group`.
    public func sharedFleetPrompt(group: String) -> String { "$share/\(group)/\(fleetPrompt)" }

    /// Every device's status and telemetry, for `elutq fleet`.
    public static func allStatuses(prefix: String) -> String { "\(prefix)/+/status" }
    public static func allTelemetry(prefix: String) -> String { "\(prefix)/+/telemetry" }

    /// Where an `elutq` command hears replies: under its client id, so a broker ACL can let each
    /// client read its own replies only (`pattern read elutq/client/%c/#`).
    public static func clientReplies(prefix: String, clientID: String) -> String { "\(prefix)/client/\(clientID)/reply" }
    /// Where `elutq push` hears transfer events, beside its replies.
    public static func clientPushEvents(prefix: String, clientID: String) -> String { "\(prefix)/client/\(clientID)/push" }
}
