/// When a client waiting for an answer sends its request again, so that no fault loses it.
///
/// A request can vanish on the way: published while the broker was restarting (it kept no
/// subscriptions), or delivered to an agent that was then killed or cut off and came back with a
/// clean session. The client cannot see which, so it sends the same request again whenever one
/// of those may have happened: at once when it reconnects itself, and each time the device comes
/// back online afterwards. The agent never generates one request twice (it answers a copy from
/// the answers it keeps, or lets the generation under way answer it), so an extra copy costs
/// nothing. Used by `elutq prompt` and by the soak's clients, which send a request only while the
/// device is online.
public struct ResendPolicy: Sendable {
    /// Since the request was sent, this client reconnected or the device went offline: the agent
    /// may not have the request, and its coming back online is the moment to send it again.
    private var mayBeLost = false

    public init() {}

    /// This client reconnected to the broker; send the request again now (the agent may still be there).
    public mutating func clientReconnected() {
        mayBeLost = true
    }

    /// Takes the device's status document; true when the request should be sent again: each
    /// time the device says online after the request may have been lost (an online status that
    /// was already there when the request went out is no news).
    public mutating func sendsAgain(onStatus status: JSON) -> Bool {
        guard let online = status["online"]?.bool else { return false }
        if !online { mayBeLost = true }
        return online && mayBeLost
    }
}
