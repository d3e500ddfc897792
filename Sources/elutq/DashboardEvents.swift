import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import Protocol

/// The dashboard's server-sent events: each device update goes to every open page.
final class DashboardEvents: Sendable {
    /// Events a slow page may fall behind by before the oldest are dropped, so a stalled browser
    /// cannot make the CLI's memory grow.
    static let backlog = 256

    private let pages = NIOLockedValueBox<(next: Int, streams: [Int: AsyncStream<ByteBuffer>.Continuation])>((0, [:]))

    /// The event stream of a newly opened page, until the page goes away.
    func subscribe() -> AsyncStream<ByteBuffer> {
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream(bufferingPolicy: .bufferingNewest(Self.backlog))
        let id = pages.withLockedValue { pages in
            pages.next += 1
            pages.streams[pages.next] = continuation
            return pages.next
        }
        continuation.onTermination = { [weak self] _ in _ = self?.pages.withLockedValue { $0.streams.removeValue(forKey: id) } }
        // A comment at once, so the browser sees the stream open before the first report.
        continuation.yield(ByteBuffer(string: ": connected\n\n"))
        return stream
    }

    /// Ends every page's stream, so that the server can shut down: an event stream never ends by itself.
    func finish() {
        for page in pages.withLockedValue({ Array($0.streams.values) }) { page.finish() }
    }

    /// Sends `document` as one `data:` event to every open page.
    func publish(_ document: JSON) {
        let event = ByteBuffer(string: "data: \(document.serialized)\n\n")
        for page in pages.withLockedValue({ Array($0.streams.values) }) { page.yield(event) }
    }
}
