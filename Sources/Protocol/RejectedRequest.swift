/// A request that failed a check, with what is known of where its error reply goes.
public struct RejectedRequest: Error, Sendable {
    /// nil when the request had no readable id.
    public var id: String?
    public var route: ReplyRoute
    public var error: RequestError
}
