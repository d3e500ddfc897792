/// Where and how an `MQTTClient` connects, and what it subscribes to.
public struct MQTTConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Unique per connection: the broker drops an older connection that uses the same id.
    public var clientID: String
    /// Seconds between pings when idle; the broker declares the client gone after 1.5 times this.
    public var keepAlive = 30
    public var username: String?
    public var password: String?
    /// Connect over TLS when set.
    public var tls: TLSFiles?
    /// Published by the broker if this client disappears without disconnecting.
    public var will: MQTTMessage?
    /// Topic filters subscribed at every (re)connection, all at `subscriptionQoS`.
    public var subscriptions: [String] = []
    public var subscriptionQoS: Int32 = 1
    /// Seconds the broker keeps this client's session (subscriptions and queued QoS 1 messages)
    /// after a disconnect; 0 starts a clean session on every connection.
    public var sessionExpiry: UInt32 = 0
    /// The largest packet this client takes, declared to the broker when it connects (MQTT v5
    /// Maximum Packet Size): the broker drops a larger message for this client instead of
    /// sending it, so a hostile publish never reaches this process's memory. nil declares
    /// nothing (MQTT's own limit, 256 MB).
    public var maximumPacketSize: UInt32?
    /// The first wait after a failed connection, doubled on each further failure up to the maximum.
    public var minimumReconnectDelay = 0.5
    public var maximumReconnectDelay = 30.0

    public init(host: String, port: Int, clientID: String) {
        self.host = host
        self.port = port
        self.clientID = clientID
    }
}

/// The files for a TLS connection: the CA that signed the broker's certificate, and optionally
/// this client's certificate and key for mutual TLS.
public struct TLSFiles: Sendable, Equatable {
    public var caFile: String
    public var certificateFile: String?
    public var keyFile: String?

    public init(caFile: String, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }
}

/// What happened to an `MQTTClient`'s connection, delivered on its delivery queue.
public enum MQTTEvent: Sendable, Equatable {
    /// Connected, every subscription acknowledged and the messages held while offline sent.
    case connected
    /// The connection ended; the client reconnects on its own.
    case disconnected(reason: String)
    /// A connection attempt failed; the client tries again after a backoff delay.
    case connectionFailed(reason: String)
    /// The broker refused the credentials or the client id; the client tries again after a
    /// backoff delay, though only a change on the broker's side can make that succeed.
    case notAuthorized(reason: String)
    /// The broker refused a subscription (often an ACL).
    case subscriptionRefused(topic: String)
    /// libmosquitto rejected a message (for example an oversized payload); it was dropped.
    case publishFailed(topic: String, reason: String)
}

/// Why an `MQTTClient` could not be set up.
public struct MQTTError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
