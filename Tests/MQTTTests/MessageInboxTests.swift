import Foundation
import MQTT
import Testing

/// The inbox that turns a client's message callbacks into blocking reads.
@Suite struct MessageInboxTests {
    func message(_ text: String) -> MQTTMessage { MQTTMessage(topic: "t", payload: Array(text.utf8)) }

    @Test func messagesComeOutInArrivalOrder() {
        let inbox = MessageInbox()
        for text in ["a", "b", "c"] { inbox.append(message(text)) }
        let read = (0..<3).compactMap { _ in inbox.next(timeout: 0) }
        #expect(read == ["a", "b", "c"].map(message))
        #expect(inbox.next(timeout: 0) == nil)
    }

    @Test func anEmptyInboxWaitsItsTimeoutAndGivesNothing() {
        let inbox = MessageInbox()
        let start = Date()
        #expect(inbox.next(timeout: 0.2) == nil)
        #expect(Date().timeIntervalSince(start) >= 0.2)
    }

    /// A reader waiting on an empty inbox wakes when another thread appends.
    @Test func aWaitingReaderGetsAMessageAppendedMeanwhile() {
        let inbox = MessageInbox()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.1) { inbox.append(self.message("late")) }
        #expect(inbox.next(timeout: 30) == message("late"))
    }
}
