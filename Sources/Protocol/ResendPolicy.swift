/// When a client waiting for an answer sends its request again, so that no fault loses it.
///
/// A request can vanish on the way: published while the broker was restarting (it kept no
/// subscriptions), or delivered to an agent that was then killed or cut off and came back with a
/// clean session. The client cannot see which, so it sends the same request again whenever one
/// of those may have happened; the agent never generates one request twice (it answers a copy
/// from the answers it keeps, or lets the generation under way answer it), so an extra copy costs
/// nothing. Used by `elutq prompt` and by the soak's clients.
public struct ResendPolicy: Sendable {
    /// Since the request was sent, this client reconnected or the device went offline: the agent
    /// may not have the request, and its coming back online is the moment to send it again.
    private var mayBeLost = false

    public init() {}

    /// This client reconnected to the broker: send again now (the agent may still be there).
    public mutating func clientReconnected() -> Bool {
        mayBeLost = true
        return true
    }

    /// The device's retained status arrived: send again each time it says online after the
    /// request may have been lost (an online status that was already there when the request went
    /// out is no news).
    public mutating func deviceStatus(online: Bool) -> Bool {
        if !online { mayBeLost = true }
        return online && mayBeLost
    }
}
