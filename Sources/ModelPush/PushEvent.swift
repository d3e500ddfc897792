import Protocol

/// What a device tells the sender about a transfer, on the manifest's response topic.
///
/// Every document is `{"sha256", "event", …}`: `missing` answers a manifest with the blocks still
/// to send; `ack` confirms one block written (the sender's flow-control window moves on these);
/// `verifying` says the last block is in and the device is checking the file, which can take
/// minutes on a slow board, so the sender waits instead of asking again or giving up;
/// `installed` and `rejected` end the transfer. The agent adds `device`, its id, to each, so a
/// sender pushing to several devices takes only the events of the one it is pushing to.
public enum PushEvent: Sendable, Equatable {
    /// `query` echoes the manifest's, so a sender can tell the answer to its latest question.
    case missing(sha256: String, query: Int, ranges: [Range<Int>], received: Int)
    case ack(sha256: String, index: Int, received: Int)
    case verifying(sha256: String)
    case installed(sha256: String, name: String)
    case rejected(sha256: String, reason: String)

    public var sha256: String {
        switch self {
        case .missing(let sha, _, _, _), .ack(let sha, _, _), .verifying(let sha), .installed(let sha, _), .rejected(let sha, _): sha
        }
    }

    public var document: JSON {
        switch self {
        case let .missing(sha, query, ranges, received):
            ["sha256": .string(sha), "event": "missing", "query": JSON(query), "received": JSON(received),
             "missing": .array(ranges.map { [JSON($0.lowerBound), JSON($0.upperBound)] })]
        case let .ack(sha, index, received):
            ["sha256": .string(sha), "event": "ack", "index": JSON(index), "received": JSON(received)]
        case let .verifying(sha):
            ["sha256": .string(sha), "event": "verifying"]
        case let .installed(sha, name):
            ["sha256": .string(sha), "event": "installed", "name": .string(name)]
        case let .rejected(sha, reason):
            ["sha256": .string(sha), "event": "rejected", "reason": .string(reason)]
        }
    }

    /// Reads an event document; nil for anything else.
    public init?(document: JSON) {
        guard let sha = document["sha256"]?.string else { return nil }
        switch document["event"]?.string {
        case "missing":
            guard let query = document["query"]?.int, let received = document["received"]?.int,
                  let list = document["missing"]?.array else { return nil }
            var ranges: [Range<Int>] = []
            for item in list {
                guard let pair = item.array, pair.count == 2, let low = pair[0].int, let high = pair[1].int, low <= high else { return nil }
                ranges.append(Int(low)..<Int(high))
            }
            self = .missing(sha256: sha, query: Int(query), ranges: ranges, received: Int(received))
        case "ack":
            guard let index = document["index"]?.int, let received = document["received"]?.int else { return nil }
            self = .ack(sha256: sha, index: Int(index), received: Int(received))
        case "verifying":
            self = .verifying(sha256: sha)
        case "installed":
            guard let name = document["name"]?.string else { return nil }
            self = .installed(sha256: sha, name: name)
        case "rejected":
            self = .rejected(sha256: sha, reason: document["reason"]?.string ?? "no reason given")
        default:
            return nil
        }
    }
}
