import NIOConcurrencyHelpers
import Protocol

/// The final answers of the requests served last, so that a request sent again is answered again
/// instead of generated twice.
///
/// A client that lost its answer (its broker restarted before the final reply reached it, say)
/// can only send the request again. Generating it again would cost the device a whole generation
/// and could give a different text; the cache answers at once with the text the client missed.
/// A request is the same when its id, its reply topic and its content (messages, options,
/// streaming) are: an id reused for another prompt is generated afresh, and a client cannot fetch
/// another's answer by its id, since the answer goes to its own reply topic (which the broker's
/// ACL keeps to that client). Only finished answers are kept: an error (busy, cancelled,
/// timeout) is worth trying again. Bounded by count and by serialized bytes, oldest first out.
final class AnswerCache: Sendable {
    /// Answers kept at most.
    let capacity: Int
    /// Bytes of answers (serialized) kept at most.
    let byteLimit: Int
    private let state = NIOLockedValueBox(State())

    private struct Key: Hashable {
        var id: String
        var replyTopic: String
    }

    private struct Entry {
        /// Hash of what was asked; a different request under the same key is not this answer.
        var content: Int
        var document: JSON
        var bytes: Int
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        /// Keys from oldest to newest.
        var order: [Key] = []
        var bytes = 0
    }

    init(capacity: Int = 64, byteLimit: Int = 1 << 20) {
        self.capacity = capacity
        self.byteLimit = byteLimit
    }

    /// The final reply already sent for this very request, if it is still kept.
    func answer(for request: PromptRequest) -> JSON? {
        state.withLockedValue { state in
            guard let entry = state.entries[Self.key(request)], entry.content == Self.content(request) else { return nil }
            return entry.document
        }
    }

    /// Keeps `document`, the final reply to `request`, dropping the oldest answers beyond the bounds.
    func store(_ document: JSON, for request: PromptRequest) {
        let bytes = document.serialized.utf8.count
        guard bytes <= byteLimit else { return }
        let key = Self.key(request)
        state.withLockedValue { state in
            if let old = state.entries.removeValue(forKey: key) {
                state.bytes -= old.bytes
                state.order.removeAll { $0 == key }
            }
            state.entries[key] = Entry(content: Self.content(request), document: document, bytes: bytes)
            state.order.append(key)
            state.bytes += bytes
            while state.order.count > capacity || state.bytes > byteLimit {
                let oldest = state.order.removeFirst()
                state.bytes -= state.entries.removeValue(forKey: oldest)?.bytes ?? 0
            }
        }
    }

    /// Answers kept now.
    var count: Int { state.withLockedValue { $0.order.count } }

    /// Whether `a` and `b` are one request sent twice: the same id, reply topic and content.
    static func isSame(_ a: PromptRequest, as b: PromptRequest) -> Bool {
        key(a) == key(b) && content(a) == content(b)
    }

    private static func key(_ request: PromptRequest) -> Key {
        Key(id: request.id, replyTopic: request.route.topic)
    }

    /// What was asked, hashed with this process's random seed (so no sender can aim at a collision).
    private static func content(_ request: PromptRequest) -> Int {
        var hasher = Hasher()
        hasher.combine(request.messages)
        hasher.combine(request.options)
        hasher.combine(request.stream)
        return hasher.finalize()
    }
}
